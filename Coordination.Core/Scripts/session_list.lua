-- The live sessions of a user, soonest expiring first (no access is recorded).
-- KEYS[1]: the user's index.
-- ARGV[1]: the session key prefix of the user's tag.
-- Returns a list of { session id, the hash as field, value pairs }.
local now = now_ms()
tidy_index(KEYS[1], now)
local sessions = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local hash = redis.call('HGETALL', session_key(ARGV[1], id))
    if #hash > 0 then
        sessions[#sessions + 1] = { id, hash }
    else
        redis.call('ZREM', KEYS[1], id)
    end
end
return sessions
