-- Another answer than 429 came for a request sent in an epoch: Cooldown.succeeded
-- (_cooldown.py, rule 6): if no cool-down began since, the streak is over.
-- KEYS[1] the state. ARGV[1] the epoch the request was sent in, ARGV[2] the state's ttl (ms).
local _, epoch = read_cooldown(KEYS[1])
if epoch == tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'strikes', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return epoch
