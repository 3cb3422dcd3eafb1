-- Reads a live session and records the access (slides its idle expiry, capped by the absolute one).
-- KEYS[1]: the session key.
-- ARGV[1]: session id. ARGV[2]: the user index prefix of the id's tag (the user id completes it).
-- Returns the session's hash as field, value pairs after the access, or nil when no live session has the id.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return false
end
local now = now_ms()
slide(KEYS[1], ARGV[2] .. redis.call('HGET', KEYS[1], 'u'), ARGV[1], now)
return redis.call('HGETALL', KEYS[1])
