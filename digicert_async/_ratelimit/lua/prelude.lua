-- Prepended to every script of this folder when it is loaded: the helpers they share.

-- An integer as Redis expects it in a command (no exponent, no fraction).
local function num(x) return string.format('%.0f', x) end

-- Microseconds of the Redis server's clock: the only clock the shared state uses, so
-- the workers' clocks never matter.
local function now_us()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- The fields of Cooldown (_cooldown.py) in the state hash: the gate's reopening time
-- (us of the server's clock), the epoch (cool-downs begun) and the streak of 429s.
local function read_cooldown(state_key)
  local state = redis.call('HMGET', state_key, 'gate', 'epoch', 'strikes')
  return tonumber(state[1]) or 0, tonumber(state[2]) or 0, tonumber(state[3]) or 0
end

-- A float as text: a number returned from a script would lose its fraction.
local function fl(x) return string.format('%.17g', x) end

-- The fields of Pacing (_adaptive.py) in the state hash: the refused level, the least it
-- may be refined to, when the last cut was (us of the server's clock; absent: no cut in
-- force) and how many cuts there were.
local function read_pacing(state_key)
  local state = redis.call('HMGET', state_key, 'peak', 'least', 'cut_at', 'lowered')
  return tonumber(state[1]) or 1, tonumber(state[2]) or 1, tonumber(state[3]),
    tonumber(state[4]) or 0
end

-- level (_adaptive.py): the scale since_us after a cut below peak; climb_us, cut and floor
-- as there.
local function level(peak, since_us, climb_us, cut, floor)
  local x = math.max(0, since_us) / climb_us
  local scale
  if x < 1 then
    scale = peak * (1 - (1 - cut) * (1 - x) ^ 3)
  elseif x >= 1.5 then
    return 1
  else
    scale = peak + (1 - peak) * (2 * (x - 1)) ^ 3
  end
  return math.min(1, math.max(floor, scale))
end

-- Pacing.scale: the share of the configured windows allowed now.
local function pace_scale(peak, cut_at, now, climb_us, cut, floor)
  if climb_us <= 0 or cut_at == nil then return 1 end
  return level(peak, now - cut_at, climb_us, cut, floor)
end
