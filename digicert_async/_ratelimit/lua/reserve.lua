-- Take a slot if the gate is open and every window has room (one atomic step).
-- KEYS[1] the send log (a sorted set of slot times, us), KEYS[2] the state (a hash),
-- KEYS[3] the slots in flight (a sorted set: the log's members of the requests not yet
-- over, by the time their slot was taken, us).
-- ARGV[1] the state's ttl (ms), ARGV[2] the climb of Pacing (us; 0: not adaptive),
-- ARGV[3] its CUT, ARGV[4] its FLOOR, ARGV[5] the longest a slot is held in flight (us),
-- ARGV[6] n windows, then n (count, span in us) pairs, then the ages (us) of sends made
-- while Redis was unreachable, to be written in.
-- Returns {wait us, reason, epoch, strikes, member, peak, us since the cut (-1: none),
-- cuts, usage}; wait 0 means a slot was taken, member names it in the log and usage is
-- the fullest window's share of its configured count, that slot included.
local now = now_us()
local climb, cut, floor = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local held = tonumber(ARGV[5])
local n = tonumber(ARGV[6])
local longest = 0
for i = 1, n do
  local span = tonumber(ARGV[6 + 2 * i])
  if span > longest then longest = span end
end
for i = 7 + 2 * n, #ARGV do
  local at = now - tonumber(ARGV[i])
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  redis.call('ZADD', KEYS[1], num(at), num(at) .. '-' .. seq)
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', num(now - longest))
-- a slot held in flight longer than any request can be: its process is gone
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. num(now - held))
local flying = redis.call('ZCARD', KEYS[3]) > 0
local gate, epoch, strikes = read_cooldown(KEYS[2])
local peak, _, cut_at, lowered = read_pacing(KEYS[2])
-- Pacing.windows: the counts in force; back at the ceiling, the cut is over.
local scale = pace_scale(peak, cut_at, now, climb, cut, floor)
if cut_at ~= nil and scale >= 1 then
  redis.call('HDEL', KEYS[2], 'cut_at')
  cut_at = nil
end
local since = -1
if cut_at ~= nil then since = now - cut_at end
-- Cooldown rule 1: nothing is sent while the gate is closed.
if gate > now then
  return {gate - now, 'cooldown', epoch, strikes, '', fl(peak), since, lowered, ''}
end
-- window_wait (_policy.py) on scale_windows (_adaptive.py): the count-th most recent slot
-- of each window must have left it. As InMemoryLimiterBackend._histories, a slot in flight
-- that was taken before the window counts as taken now: one of the most recent.
local wait = 0
local gap = nil
local crowded = false
for i = 1, n do
  local count = tonumber(ARGV[5 + 2 * i])
  local span = tonumber(ARGV[6 + 2 * i])
  if scale < 1 then
    count = math.max(1, math.floor(count * scale + 1e-9))
    if gap == nil or span / count < gap then gap = span / count end
    if 2 * redis.call('ZCOUNT', KEYS[1], '(' .. num(now - span), '+inf') >= count then
      crowded = true
    end
  end
  local old = 0
  if flying then old = redis.call('ZCOUNT', KEYS[3], '-inf', num(now - span)) end
  local free = nil
  if old >= count then
    free = span  -- the count-th most recent slot counts as taken now
  else
    local entry = redis.call('ZRANGE', KEYS[1], old - count, old - count, 'WITHSCORES')
    if entry[2] then free = tonumber(entry[2]) + span - now end
  end
  if free ~= nil and free > wait then wait = free end
end
-- spacing (_adaptive.py): while a cut is in force and a window is half full, one send
-- per the fastest window's pace.
if wait <= 0 and crowded then
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  if last[2] then
    local free = math.ceil(tonumber(last[2]) + gap - now)
    if free > wait then wait = free end
  end
end
if wait > 0 then
  return {wait, 'window', epoch, strikes, '', fl(peak), since, lowered, ''}
end
local member = ''
local usage = ''
if n > 0 then
  local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
  member = num(now) .. '-' .. seq
  redis.call('ZADD', KEYS[1], num(now), member)
  redis.call('PEXPIRE', KEYS[1], num(math.ceil(longest / 1000) + 1000))
  redis.call('ZADD', KEYS[3], num(now), member)
  redis.call('PEXPIRE', KEYS[3], num(math.ceil(held / 1000) + 1000))
  if climb > 0 then
    local most = 0
    for i = 1, n do
      local span = tonumber(ARGV[6 + 2 * i])
      local share = redis.call('ZCOUNT', KEYS[1], '(' .. num(now - span), '+inf')
        / tonumber(ARGV[5 + 2 * i])
      if share > most then most = share end
    end
    usage = fl(most)
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {0, '', epoch, strikes, member, fl(peak), since, lowered, usage}
