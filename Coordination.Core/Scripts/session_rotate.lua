-- Moves a live session to a new id: same hash, same expiry, the old id ended, in one step.
-- KEYS[1]: the session key of the old id. KEYS[2]: the session key of the new id (same hash tag).
-- ARGV[1]: old id. ARGV[2]: new id. ARGV[3]: the user index prefix of the ids' tag.
-- Returns the hash as field, value pairs under the new id, or nil when no live session has the old id.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return false
end
local owner = redis.call('HMGET', KEYS[1], 'u', 'x')
local index = ARGV[3] .. owner[1]
-- RENAME keeps the key's expiry; the new key is fresh random, so nothing is overwritten.
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('ZREM', index, ARGV[1])
-- The index scores every entry by its session's absolute end (session_common.lua), not by its current expiry.
redis.call('ZADD', index, owner[2], ARGV[2])
tidy_index(index, now_ms())
return redis.call('HGETALL', KEYS[2])
