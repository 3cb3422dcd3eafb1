-- Removes a session from the migration source once it was imported (or found) at the current location, only if it
-- is still the version that was exported: a session changed since stays for the next pass. Also drops the index
-- entry of an id whose session is gone, and the index once it is empty.
-- KEYS[1]: the session key at the source. KEYS[2]: the user's index at the source (same tag).
-- ARGV[1]: session id. ARGV[2]: the exported version ('' when nothing was exported: only a stale entry is dropped).
-- Returns 1 when this call removed the session, else 0.
local version = redis.call('HGET', KEYS[1], 'v')
local removed = 0
if version then
    if version ~= ARGV[2] then
        return 0
    end
    redis.call('DEL', KEYS[1])
    removed = 1
end
redis.call('ZREM', KEYS[2], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then
    redis.call('DEL', KEYS[2])
end
return removed
