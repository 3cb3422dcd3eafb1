-- Releases a hold taken by lock_fast_acquire.lua while it is still in the fast layout, only for its token. While
-- it is, nobody else holds or waits for the lock (see lock_fast_acquire.lua), so there is nobody to wake.
-- KEYS[1]: the holds. ARGV[1]: the hold as lock_fast_acquire.lua stored it, "<token>|<owner>" (tokens are unique,
-- so the whole string names one hold).
-- Returns 1 when released; -1 when the token holds nothing (expired, released, another holder's); -2 when the
-- lock is in the general layout (another script adopted the hold): lock_release.lua decides then.
local value = redis.pcall('GET', KEYS[1])
if value == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
end
if type(value) == 'table' then
    -- WRONGTYPE: the holds are a hash.
    return -2
end
return -1
