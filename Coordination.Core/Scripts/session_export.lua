-- Reads a session for a move to another location (RedisSessionManager.Migration.cs), changing nothing: no access is
-- recorded, so the source's copy stays exactly what was exported (its version is checked again by
-- session_migrate_drop.lua).
-- KEYS[1]: the session key at the source.
-- Returns the session's hash as field, value pairs, or nil when the source has no live session under the key.
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then
    return false
end
return hash
