-- Writes a cache entry stamped with the server's clock.
-- KEYS[1]: the entry key ({prefix}:{tenant}:cache:{key}).
-- ARGV[1]: logical time to live in ms (fresh until created + this).
-- ARGV[2]: physical time to live in ms (logical TTL + fail-safe window; what Redis keeps it for).
-- ARGV[3]: sliding expiration in ms (0: none; cache_touch restarts the logical TTL from it).
-- ARGV[4]: the entry body (codec byte, compute time, tags, payload) built by the client.
-- Returns the server time in ms at which the entry was created (its stamp for tag/prefix checks).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local header = string.format('%d:%d:%d:', now, now + tonumber(ARGV[1]), tonumber(ARGV[3]))
redis.call('SET', KEYS[1], header .. ARGV[4], 'PX', ARGV[2])
return now
