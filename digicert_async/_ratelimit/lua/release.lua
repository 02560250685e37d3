-- The request of a slot is over: from now on the slot counts from the server's present
-- time (re-added if it had already left every window).
-- KEYS[1] the send log. ARGV[1] the slot's member, ARGV[2] the log's ttl (ms).
redis.call('ZADD', KEYS[1], num(now_us()), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
