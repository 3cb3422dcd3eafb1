-- Restarts the sliding expiration of a cache entry (IDistributedCache.Refresh).
-- KEYS[1]: the entry key.
-- ARGV[1]: fail-safe window in ms added to the physical TTL.
-- Returns 1 when the entry exists and slides, 0 when it is absent or has no sliding expiration.
local value = redis.call('GET', KEYS[1])
if not value then
    return 0
end
local created, expires, sliding, rest = string.match(value, '^(%d+):(%d+):(%d+):(.*)$')
if not sliding or tonumber(sliding) == 0 then
    return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = tonumber(sliding)
redis.call('SET', KEYS[1], string.format('%s:%d:%d:', created, now + s, s) .. rest, 'PX', s + tonumber(ARGV[1]))
return 1
