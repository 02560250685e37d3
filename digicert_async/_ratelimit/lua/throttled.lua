-- A 429 came for a request sent in an epoch: Cooldown.throttled (_cooldown.py), step
-- for step, on the shared state; and Pacing.throttled (_adaptive.py) before it.
-- KEYS[1] the state. ARGV[1] the epoch the request was sent in, ARGV[2] Retry-After
-- (us, or -1 for none), ARGV[3] jitter in [0, 1), ARGV[4] the cool-down's floor (us),
-- ARGV[5] its cap (us), ARGV[6] the state's ttl (ms), ARGV[7] the request's usage (-1:
-- unknown), ARGV[8] the climb of Pacing (us; 0: not adaptive), ARGV[9] its CUT,
-- ARGV[10] its FLOOR, ARGV[11] its DEEPEST.
-- Returns {us the gate was newly closed for, us until it reopens, epoch, strikes, peak,
-- us since the cut (-1: none), cuts}.
local now = now_us()
local gate, epoch, strikes = read_cooldown(KEYS[1])
-- Rule 3: a 429 of the current epoch begins a cool-down. Rule 4: an older one belongs
-- to a burst already counted.
local fresh = tonumber(ARGV[1]) == epoch
local peak, least, cut_at, lowered = read_pacing(KEYS[1])
local climb = tonumber(ARGV[8])
if climb > 0 then
  local usage, floor = tonumber(ARGV[7]), tonumber(ARGV[10])
  if fresh then
    -- Pacing rule 1: one signal per cool-down, below the refused usage.
    local scale = pace_scale(peak, cut_at, now, climb, tonumber(ARGV[9]), floor)
    if strikes > 0 or usage < 0 then
      least = math.max(floor, scale)
      peak = least
    else
      least = math.max(floor, tonumber(ARGV[11]) * scale)
      peak = math.max(least, math.min(scale, usage))
    end
    cut_at = now
    lowered = lowered + 1
    redis.call('HSET', KEYS[1], 'peak', fl(peak), 'least', fl(least), 'cut_at', num(now),
      'lowered', lowered)
  elseif usage >= 0 and math.max(least, usage) < peak then
    -- Pacing rule 3: the burst's least refused usage.
    peak = math.max(least, usage)
    redis.call('HSET', KEYS[1], 'peak', fl(peak))
  end
end
local since = -1
if cut_at ~= nil then since = now - cut_at end
if fresh then
  strikes = strikes + 1
  epoch = epoch + 1
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'strikes', strikes)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
local delay = tonumber(ARGV[2])
if delay < 0 then
  if not fresh then
    return {0, math.max(gate - now, 0), epoch, strikes, fl(peak), since, lowered}
  end
  -- cooldown_delay (_policy.py): full jitter with a floor, on the shared streak
  local initial = tonumber(ARGV[4])
  local cap = math.min(tonumber(ARGV[5]), initial * 2 ^ math.min(strikes - 1, 64))
  delay = math.floor(math.max(initial, tonumber(ARGV[3]) * cap))
end
-- Rule 5: the gate is never shortened.
local reopen = now + delay
if delay <= 0 or reopen <= gate then
  return {0, math.max(gate - now, 0), epoch, strikes, fl(peak), since, lowered}
end
redis.call('HSET', KEYS[1], 'gate', num(reopen))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {delay, delay, epoch, strikes, fl(peak), since, lowered}
