-- Writes back a session's data upgraded to a newer schema (RedisSessionManager.Upgrades.cs) in place of the data it
-- was upgraded from, unless the session changed since it was read: then nothing is written (a concurrent update wins,
-- and the next read upgrades what it left).
-- KEYS[1]: the session key.
-- ARGV[1]: the version (v) the session was read at. ARGV[2]: the schema version (s) its data was read in (1: no s).
-- ARGV[3]: the schema version of the upgraded data. ARGV[4..]: the upgraded data as field, value pairs (fields
-- already 'd:<name>'), within MaxFields and MaxDataBytes (the caller checked them).
-- Returns { 1 } once written; { 0, the hash as field, value pairs } when v or s is not what was read; nil when no
-- live session has the key.
-- The version stays: an upgrade changes the data's form, not what callers see (every read already answers the
-- upgraded form), so an expected version taken from an earlier read must still be accepted by an update, and the
-- durable copy (which keeps the old form with its schema_version and only takes a higher version) stays as new as
-- Redis. The expiry stays too: the read that found the session recorded the access already.
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then
    return false
end
local version, schema = nil, 1
local data = {}
for n = 1, #hash, 2 do
    local field = hash[n]
    if field == 'v' then
        version = tonumber(hash[n + 1])
    elseif field == 's' then
        schema = tonumber(hash[n + 1])
    elseif string.sub(field, 1, 2) == 'd:' then
        data[#data + 1] = field
    end
end
if version ~= tonumber(ARGV[1]) or schema ~= tonumber(ARGV[2]) then
    return { 0, hash }
end
in_chunks('HDEL', KEYS[1], data)
local fields = { 's', ARGV[3] }
for n = 4, #ARGV do
    fields[#fields + 1] = ARGV[n]
end
in_chunks('HSET', KEYS[1], fields)
return { 1 }
