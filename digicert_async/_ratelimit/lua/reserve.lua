-- Take a slot if the gate is open and every window has room (one atomic step).
-- KEYS[1] the send log (a sorted set of slot times, us), KEYS[2] the state (a hash).
-- ARGV[1] the state's ttl (ms), ARGV[2] n windows, then n (count, span in us) pairs,
-- then the ages (us) of sends made while Redis was unreachable, to be written in.
-- Returns {wait us, reason, epoch, strikes, member}; wait 0 means a slot was taken,
-- and member names it in the log.
local now = now_us()
local n = tonumber(ARGV[2])
local longest = 0
for i = 1, n do
  local span = tonumber(ARGV[2 + 2 * i])
  if span > longest then longest = span end
end
for i = 3 + 2 * n, #ARGV do
  local at = now - tonumber(ARGV[i])
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  redis.call('ZADD', KEYS[1], num(at), num(at) .. '-' .. seq)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', num(now - longest))
local gate, epoch, strikes = read_cooldown(KEYS[2])
-- Cooldown rule 1: nothing is sent while the gate is closed.
if gate > now then
  return {gate - now, 'cooldown', epoch, strikes}
end
-- window_wait (_policy.py): the count-th most recent slot of each window must have left it.
local wait = 0
for i = 1, n do
  local count = tonumber(ARGV[1 + 2 * i])
  local entry = redis.call('ZRANGE', KEYS[1], -count, -count, 'WITHSCORES')
  if entry[2] then
    local free = tonumber(entry[2]) + tonumber(ARGV[2 + 2 * i]) - now
    if free > wait then wait = free end
  end
end
if wait > 0 then
  return {wait, 'window', epoch, strikes}
end
local member = ''
if n > 0 then
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  member = num(now) .. '-' .. seq
  redis.call('ZADD', KEYS[1], num(now), member)
  redis.call('PEXPIRE', KEYS[1], num(math.ceil(longest / 1000) + 1000))
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {0, '', epoch, strikes, member}
