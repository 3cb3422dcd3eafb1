-- Applies to Redis a session change made in its durable copy while Redis was unavailable (RedisSessionManager.Outage.cs):
-- a session created, updated, rotated to its key or read there. At the same version with the same data only the later
-- access is taken. Otherwise the copy's state replaces Redis's (no session, an older version, other data at the same
-- version, or a newer one). States Redis made itself above the copy's redis_version (migration 0005) are updates Redis
-- ran on a state that lacked the copy's change: their writers' write-throughs apply them again on top of the copy
-- (PostgresSessionStore.PersistUpdateAsync), so they are replaced here, and the version written goes above theirs so
-- that Redis's next states do not reuse their numbers. A timed-out write Redis ran late is replaced the same way.
-- KEYS[1]: the session key. KEYS[2]: the user's index.
-- ARGV[1]: session id. ARGV[2]: user id. ARGV[3]: created ms. ARGV[4]: last access ms. ARGV[5]: idle ms.
-- ARGV[6]: absolute end ms. ARGV[7]: version. ARGV[8]: the copy's redis_version. ARGV[9..]: data as field, value
-- pairs (fields already 'd:<name>'), and 's' with the data's schema version when it is above 1.
-- Returns { 1 when Redis holds the session afterwards, 0 when its expiry (as the copy has it) has passed; the version
-- Redis holds of the copy's state; the copy's redis_version from now on: unchanged when states Redis made itself were
-- replaced, else the version; the highest version of those replaced states, 0 when none was (migration 0006) }.
local now = now_ms()
local accessed = tonumber(ARGV[4])
local idle = tonumber(ARGV[5])
local absolute = tonumber(ARGV[6])
local version = tonumber(ARGV[7])
local copy_version = version
local known = tonumber(ARGV[8])
local kept = nil
local replaced = 0
-- Whether Redis's data fields are the copy's, text for text (a copy read back from PostgreSQL may spell equal JSON
-- differently: then it replaces Redis's at the same version, which changes nothing that matters).
local function same_data(key)
    local copy = {}
    local count = 0
    for n = 9, #ARGV - 1, 2 do
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
if current[1] then
    local held = tonumber(current[1])
    if held == version and same_data(KEYS[1]) then
        if accessed > tonumber(current[2]) then
            slide(KEYS[1], idle, absolute, accessed)
        end
        return { 1, version, version, 0 }
    end
    if held > known then
        kept = known
        replaced = held
        version = math.max(version, held + 1)
    end
    if held >= copy_version then
        accessed = math.max(accessed, tonumber(current[2]))
    end
end
local expires = math.min(accessed + idle, absolute)
if expires <= now then
    return { 0, copy_version, copy_version, 0 }
end
local fields = { 'u', ARGV[2], 'c', ARGV[3], 'a', accessed, 'i', idle, 'x', absolute, 'v', version, 'p', expires }
for n = 9, #ARGV do
    fields[#fields + 1] = ARGV[n]
end
redis.call('DEL', KEYS[1])
in_chunks('HSET', KEYS[1], fields)
redis.call('PEXPIREAT', KEYS[1], expires)
redis.call('ZADD', KEYS[2], absolute, ARGV[1])
tidy_index(KEYS[2], now)
return { 1, version, kept or version, replaced }
