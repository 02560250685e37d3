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
