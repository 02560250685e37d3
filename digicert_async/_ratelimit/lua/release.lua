-- The request of a slot is over: from now on the slot counts from the server's present
-- time (re-added if it had already left every window); or, for a request refused under
-- adaptive pacing, it no longer counts at all (the server did not serve it).
-- Either way it is no longer in flight.
-- KEYS[1] the send log, KEYS[2] the slots in flight. ARGV[1] the slot's member, ARGV[2]
-- the log's ttl (ms), ARGV[3] 1 to forget the slot.
redis.call('ZREM', KEYS[2], ARGV[1])
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], num(now_us()), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
