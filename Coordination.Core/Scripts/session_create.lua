-- Creates a session and, beyond the cap, drops the index entries of the user's ended sessions, then ends the live
-- ones whose absolute end comes soonest (never the new one).
-- KEYS[1]: the session key. KEYS[2]: the user's index.
-- ARGV[1]: session id. ARGV[2]: user id. ARGV[3]: idle timeout ms. ARGV[4]: absolute timeout ms.
-- ARGV[5]: most live sessions per user. ARGV[6]: the session key prefix of the user's tag.
-- ARGV[7..]: data as field, value pairs (fields already 'd:<name>'), and 's' with the data's schema version when
-- it is above 1.
-- Returns { now ms, sessions ended by the cap, then the ids of those sessions } (their durable copies are removed
-- after this script).
local now = now_ms()
local idle = tonumber(ARGV[3])
local absolute = now + tonumber(ARGV[4])
local expires = math.min(now + idle, absolute)
-- p: the expiry the durable copy holds (written through after this script, when there is one).
local fields = { 'u', ARGV[2], 'c', now, 'a', now, 'i', idle, 'x', absolute, 'v', 1, 'p', expires }
for n = 7, #ARGV do
    fields[#fields + 1] = ARGV[n]
end
redis.call('DEL', KEYS[1])
in_chunks('HSET', KEYS[1], fields)
redis.call('PEXPIREAT', KEYS[1], expires)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], absolute, ARGV[1])

-- The answer: now, how many the cap ended, and their ids.
local answer, removed = { now, 0 }, 0
local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[5])
if excess > 0 then
    -- Entries of sessions that already ended (idle) go first: dropping them ends nothing.
    for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
        if id ~= ARGV[1] and redis.call('EXISTS', session_key(ARGV[6], id)) == 0 then
            redis.call('ZREM', KEYS[2], id)
            excess = excess - 1
        end
    end
end
if excess > 0 then
    -- The new session never ends its own creation, even when it expires soonest.
    for _, id in ipairs(redis.call('ZRANGE', KEYS[2], 0, excess)) do
        if removed < excess and id ~= ARGV[1] then
            if redis.call('DEL', session_key(ARGV[6], id)) == 1 then
                answer[#answer + 1] = id
            end
            redis.call('ZREM', KEYS[2], id)
            removed = removed + 1
        end
    end
end
tidy_index(KEYS[2], now)
answer[2] = #answer - 2
return answer
