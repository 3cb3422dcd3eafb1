-- Applies to Redis a session change made in its durable copy while Redis was unavailable (RedisSessionManager.Outage.cs):
-- a session created, updated, rotated to its key or read there. A newer version in Redis is kept (it was written after
-- Redis came back); at the same version with the same data only the later access is taken; otherwise (no session, an
-- older version, or other data at the same version) the copy's state replaces Redis's. Other data at the same version
-- is a fork: an update Redis ran on a state that lacked the copy's change (its writer applies its patch again on top
-- of the copy's when it writes through: RedisSessionManager.PersistUpdateAsync), or a timed-out write Redis ran late.
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
-- Whether Redis's data fields are the copy's, text for text (a copy read back from PostgreSQL may spell equal JSON
-- differently: then it replaces Redis's at the same version, which changes nothing that matters).
local function same_data(key)
    local copy = {}
    local count = 0
    for n = 8, #ARGV - 1, 2 do
        if string.sub(ARGV[n], 1, 2) == 'd:' then
            copy[ARGV[n]] = ARGV[n + 1]
            count = count + 1
        end
    end
    local stored = redis.call('HGETALL', key)
    for n = 1, #stored - 1, 2 do
        if string.sub(stored[n], 1, 2) == 'd:' then
            if copy[stored[n]] ~= stored[n + 1] then
                return false
            end
            count = count - 1
        end
    end
    return count == 0
end

local current = redis.call('HMGET', KEYS[1], 'v', 'a')
if current[1] and tonumber(current[1]) > version then
    return 1
end
if current[1] and tonumber(current[1]) == version then
    if same_data(KEYS[1]) then
        if accessed > tonumber(current[2]) then
            slide(KEYS[1], idle, absolute, accessed)
        end
        return 1
    end
    accessed = math.max(accessed, tonumber(current[2]))
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
