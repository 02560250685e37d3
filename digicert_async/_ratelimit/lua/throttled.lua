-- A 429 came for a request sent in an epoch: Cooldown.throttled (_cooldown.py), step
-- for step, on the shared state.
-- KEYS[1] the state. ARGV[1] the epoch the request was sent in, ARGV[2] Retry-After
-- (us, or -1 for none), ARGV[3] jitter in [0, 1), ARGV[4] the cool-down's floor (us),
-- ARGV[5] its cap (us), ARGV[6] the state's ttl (ms).
-- Returns {us the gate was newly closed for, us until it reopens, epoch, strikes}.
local now = now_us()
local gate, epoch, strikes = read_cooldown(KEYS[1])
-- Rule 3: a 429 of the current epoch begins a cool-down. Rule 4: an older one belongs
-- to a burst already counted.
local fresh = tonumber(ARGV[1]) == epoch
if fresh then
  strikes = strikes + 1
  epoch = epoch + 1
  redis.call('HSET', KEYS[1], 'epoch', epoch, 'strikes', strikes)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
end
local delay = tonumber(ARGV[2])
if delay < 0 then
  if not fresh then
    return {0, math.max(gate - now, 0), epoch, strikes}
  end
  -- cooldown_delay (_policy.py): full jitter with a floor, on the shared streak
  local initial = tonumber(ARGV[4])
  local cap = math.min(tonumber(ARGV[5]), initial * 2 ^ math.min(strikes - 1, 64))
  delay = math.floor(math.max(initial, tonumber(ARGV[3]) * cap))
end
-- Rule 5: the gate is never shortened.
local reopen = now + delay
if delay <= 0 or reopen <= gate then
  return {0, math.max(gate - now, 0), epoch, strikes}
end
redis.call('HSET', KEYS[1], 'gate', num(reopen))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {delay, delay, epoch, strikes}
