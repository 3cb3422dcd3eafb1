-- Puts back a session from its durable copy in PostgreSQL after Redis lost it (RedisSessionManager.GetAsync, on a
-- miss), unless Redis has it again by now (then Redis's copy is kept), and records the access like a read.
-- KEYS[1]: the session key. KEYS[2]: the user's index.
-- ARGV[1]: session id. ARGV[2]: user id. ARGV[3]: created ms. ARGV[4]: idle ms. ARGV[5]: absolute end ms.
-- ARGV[6]: version. ARGV[7..]: data as field, value pairs (fields already 'd:<name>'), and 's' with the data's
-- schema version when it is above 1.
-- Returns the session's hash as field, value pairs after the access, or nil when its absolute end has passed.
local now = now_ms()
if redis.call('EXISTS', KEYS[1]) == 0 then
    if tonumber(ARGV[5]) <= now then
        return false
    end
    local fields = { 'u', ARGV[2], 'c', ARGV[3], 'a', now, 'i', ARGV[4], 'x', ARGV[5], 'v', ARGV[6] }
    for n = 7, #ARGV do
        fields[#fields + 1] = ARGV[n]
    end
    in_chunks('HSET', KEYS[1], fields)
    redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
    tidy_index(KEYS[2], now)
end
local times = redis.call('HMGET', KEYS[1], 'i', 'x')
slide(KEYS[1], tonumber(times[1]), tonumber(times[2]), now)
return redis.call('HGETALL', KEYS[1])
