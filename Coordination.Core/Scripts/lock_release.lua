-- Releases a lock only for its holder.
-- KEYS[1]: the lock key.
-- ARGV[1]: the caller's owner token.
-- Returns 1 when the lock was released, 0 when the caller did not hold it (nothing changed).
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
end
return 0
