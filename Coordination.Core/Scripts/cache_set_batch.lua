-- Writes cache entries that arrived together (CacheWriteCombiner.cs) as one command, in arrival order, all stamped
-- with one reading of the server's clock (the batch's entries are created at the same instant).
-- KEYS[1], KEYS[2], ...: the entry keys ({prefix}:{tenant}:cache:{key}), KEYS[i] the key of write i (one hash slot).
-- ARGV[1..]: four per write, as ARGV[1..4] of cache_set.lua: ARGV[4i-3] logical time to live in ms, ARGV[4i-2]
-- physical time to live in ms (what Redis keeps the entry for), ARGV[4i-1] sliding expiration in ms (0: none),
-- ARGV[4i] the entry body built by the client.
-- Returns the server time in ms at which the entries were created (their stamp for tag/prefix checks).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #KEYS do
    local header = string.format('%d:%d:%d:', now, now + tonumber(ARGV[4 * i - 3]), tonumber(ARGV[4 * i - 1]))
    redis.call('SET', KEYS[i], header .. ARGV[4 * i], 'PX', ARGV[4 * i - 2])
end
return now
