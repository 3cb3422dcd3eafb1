-- Takes an exclusive lock, or restarts its TTL when the caller already holds it.
-- KEYS[1]: the lock key.
-- ARGV[1]: the caller's owner token. ARGV[2]: the TTL in milliseconds.
-- Returns 1 when the caller holds the lock afterwards, 0 when someone else holds it.
local holder = redis.call('GET', KEYS[1])
if holder == false then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
return 0
