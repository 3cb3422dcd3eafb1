-- Merges a patch into a live session's data, checking the expected version and the data's bounds first; on any
-- refusal nothing changes.
-- KEYS[1]: the session key.
-- ARGV[1]: session id. ARGV[2]: the caller's current schema version of session data. ARGV[3]: expected version, ''
-- for any.
-- ARGV[4]: most data fields. ARGV[5]: most data bytes (names without 'd:' plus values).
-- ARGV[6]: how many fields are set (n); ARGV[7 .. 6+2n]: field, value pairs to set; then the fields to remove
-- (fields are 'd:<name>').
-- Returns nil when no live session has the id; { 'conflict', version }; { 'schema', the hash as field, value pairs }
-- when its data is in an older schema than ARGV[2] (the patch is in the current one: the caller upgrades the data,
-- writes it back with session_upgrade.lua and sends the update again); { 'fields', count } or { 'bytes', size } when
-- the result would be over a bound; { 'ok', the hash as field, value pairs } once applied.
if redis.call('EXISTS', KEYS[1]) == 0 then
    return false
end
local version = tonumber(redis.call('HGET', KEYS[1], 'v'))
if ARGV[3] ~= '' and tonumber(ARGV[3]) ~= version then
    return { 'conflict', version }
end

-- The data's size after the patch: name and value bytes of each 'd:' field.
local sizes = {}
local current = redis.call('HGETALL', KEYS[1])
local schema = 1
for n = 1, #current, 2 do
    if string.sub(current[n], 1, 2) == 'd:' then
        sizes[current[n]] = #current[n] - 2 + #current[n + 1]
    elseif current[n] == 's' then
        schema = tonumber(current[n + 1])
    end
end
if schema < tonumber(ARGV[2]) then
    return { 'schema', current }
end
local setCount = tonumber(ARGV[6])
local sets = {}
for n = 7, 6 + 2 * setCount, 2 do
    sizes[ARGV[n]] = #ARGV[n] - 2 + #ARGV[n + 1]
    sets[#sets + 1] = ARGV[n]
    sets[#sets + 1] = ARGV[n + 1]
end
local removes = {}
for n = 7 + 2 * setCount, #ARGV do
    sizes[ARGV[n]] = nil
    removes[#removes + 1] = ARGV[n]
end
local count, bytes = 0, 0
for _, size in pairs(sizes) do
    count = count + 1
    bytes = bytes + size
end
if count > tonumber(ARGV[4]) then
    return { 'fields', count }
end
if bytes > tonumber(ARGV[5]) then
    return { 'bytes', bytes }
end

in_chunks('HSET', KEYS[1], sets)
in_chunks('HDEL', KEYS[1], removes)
redis.call('HINCRBY', KEYS[1], 'v', 1)
local now = now_ms()
local times = redis.call('HMGET', KEYS[1], 'i', 'x')
slide(KEYS[1], tonumber(times[1]), tonumber(times[2]), now)
-- The update is written through to the durable copy with this expiry.
redis.call('HSET', KEYS[1], 'p', math.min(now + tonumber(times[1]), tonumber(times[2])))
return { 'ok', redis.call('HGETALL', KEYS[1]) }
