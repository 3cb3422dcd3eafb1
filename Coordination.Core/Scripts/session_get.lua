-- Reads a live session and records the access (slides its idle expiry, capped by the absolute one). The user's index
-- is not touched: its scores are absolute expiries, which an access does not move.
-- KEYS[1]: the session key.
-- ARGV[1]: "1" when the session has a durable copy whose expiry should follow the reads (RedisSessionManager).
-- Returns { the expiry to write to the copy (0: none), the session's hash as field, value pairs after the access },
-- or nil when no live session has the id. The copy's expiry (field p) is moved on only when it is more than half an
-- idle timeout behind: a read costs the copy a write at most twice per idle timeout.
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then
    return false
end
local now = now_ms()
local idle, absolute, accessed, persisted
for n = 1, #hash, 2 do
    local field = hash[n]
    if field == 'i' then
        idle = tonumber(hash[n + 1])
    elseif field == 'x' then
        absolute = tonumber(hash[n + 1])
    elseif field == 'a' then
        accessed = n + 1
    elseif field == 'p' then
        persisted = tonumber(hash[n + 1])
    end
end
slide(KEYS[1], idle, absolute, now)
hash[accessed] = string.format('%d', now)
local copy = 0
if ARGV[1] == '1' then
    local expires = math.min(now + idle, absolute)
    if expires - (persisted or 0) > idle / 2 then
        redis.call('HSET', KEYS[1], 'p', expires)
        copy = expires
    end
end
return { copy, hash }
