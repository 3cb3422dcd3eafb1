-- Writes a session exported from the migration source into this location, unless this location already decides
-- about it: it has the session (it is authoritative), or the session was ended here recently (a tombstone left by a
-- delete or rotation, or a revocation of the user's sessions), so a mover holding an older export cannot bring it
-- back. The key expires at min(a + i, x) of the exported fields; the index entry is scored by x, as create does.
-- KEYS[1]: the session key here. KEYS[2]: its tombstone (the session key and ':ended').
-- KEYS[3]: the user's index of the id's tag here. KEYS[4]: the user's revocation mark of that tag here.
-- ARGV[1]: session id. ARGV[2..]: the exported hash as field, value pairs.
-- Returns 'moved', 'present' (this location has it), 'ended' (tombstone or revocation mark) or 'expired' (the
-- exported session's own expiry has passed).
if redis.call('EXISTS', KEYS[1]) == 1 then
    return 'present'
end
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then
    return 'ended'
end
local now = now_ms()
local fields = {}
local idle, absolute, accessed
for n = 2, #ARGV, 2 do
    local field = ARGV[n]
    if field == 'i' then
        idle = tonumber(ARGV[n + 1])
    elseif field == 'x' then
        absolute = tonumber(ARGV[n + 1])
    elseif field == 'a' then
        accessed = tonumber(ARGV[n + 1])
    end
    fields[#fields + 1] = field
    fields[#fields + 1] = ARGV[n + 1]
end
local expires = math.min(accessed + idle, absolute)
if expires <= now then
    return 'expired'
end
in_chunks('HSET', KEYS[1], fields)
redis.call('PEXPIREAT', KEYS[1], expires)
redis.call('ZADD', KEYS[3], absolute, ARGV[1])
tidy_index(KEYS[3], now)
return 'moved'
