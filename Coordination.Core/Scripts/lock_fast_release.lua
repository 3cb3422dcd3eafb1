-- Releases a hold taken by lock_fast_acquire.lua while it is still in the fast layout, only for its token. While
-- it is, nobody else holds or waits for the lock (see lock_fast_acquire.lua), so there is nobody to wake.
-- KEYS[1]: the holds. ARGV[1]: the holder's token.
-- Returns 1 when released; -1 when the token holds nothing (expired, released, another holder's); -2 when the
-- lock is in the general layout (another script adopted the hold): lock_release.lua decides then.
local value = redis.pcall('GET', KEYS[1])
if type(value) == 'table' then
    -- WRONGTYPE: the holds are a hash.
    return -2
end
local length = #ARGV[1]
-- 124: '|', which no token contains.
if value and string.byte(value, length + 1) == 124 and string.sub(value, 1, length) == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
end
return -1
