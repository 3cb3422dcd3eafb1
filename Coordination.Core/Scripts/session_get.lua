-- Reads a live session and records the access (slides its idle expiry, capped by the absolute one). The user's index
-- is not touched: its scores are absolute expiries, which an access does not move.
-- KEYS[1]: the session key.
-- Returns the session's hash as field, value pairs after the access, or nil when no live session has the id.
local hash = redis.call('HGETALL', KEYS[1])
if #hash == 0 then
    return false
end
local now = now_ms()
local idle, absolute, accessed
for n = 1, #hash, 2 do
    local field = hash[n]
    if field == 'i' then
        idle = tonumber(hash[n + 1])
    elseif field == 'x' then
        absolute = tonumber(hash[n + 1])
    elseif field == 'a' then
        accessed = n + 1
    end
end
slide(KEYS[1], idle, absolute, now)
hash[accessed] = string.format('%d', now)
return hash
