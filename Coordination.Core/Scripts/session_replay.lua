-- Applies to Redis a session change made in its durable copy while Redis was unavailable (RedisSessionManager.Outage.cs):
-- a session created, updated, rotated to its key or read there. A newer version in Redis is kept (it was written after
-- Redis came back); at the same version only the later access is taken; otherwise (no session, or an older version)
-- the copy's state replaces Redis's.
-- KEYS[1]: the session key. KEYS[2]: the user's index.
-- ARGV[1]: session id. ARGV[2]: user id. ARGV[3]: created ms. ARGV[4]: last access ms. ARGV[5]: idle ms.
-- ARGV[6]: absolute end ms. ARGV[7]: version. ARGV[8..]: data as field, value pairs (fields already 'd:<name>'),
-- and 's' with the data's schema version when it is above 1.
-- Returns 1 when Redis holds the session afterwards, 0 when its expiry (as the copy has it) has passed.
local now = now_ms()
local accessed = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local absolute = tonumber(ARGV[6])
local version = tonumber(ARGV[7])
local current = redis.call('HMGET', KEYS[1], 'v', 'a')
if current[1] and tonumber(current[1]) > version then
    return 1
end
if current[1] and tonumber(current[1]) == version then
    if accessed > tonumber(current[2]) then
        slide(KEYS[1], idle, absolute, accessed)
    end
    return 1
end
local expires = math.min(accessed + idle, absolute)
if expires <= now then
    return 0
end
local fields = { 'u', ARGV[2], 'c', ARGV[3], 'a', accessed, 'i', idle, 'x', absolute, 'v', version, 'p', expires }
for n = 8, #ARGV do
    fields[#fields + 1] = ARGV[n]
end
redis.call('DEL', KEYS[1])
in_chunks('HSET', KEYS[1], fields)
redis.call('PEXPIREAT', KEYS[1], expires)
redis.call('ZADD', KEYS[2], absolute, ARGV[1])
tidy_index(KEYS[2], now)
return 1
