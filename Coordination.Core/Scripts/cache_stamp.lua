-- Records that every entry of a tag (field 't:{tag}') or a key prefix (field 'p:{prefix}') created up to now is
-- invalid: O(1) per tag for the caller; readers compare an entry's creation stamp with these stamps.
-- KEYS[1]: the tenant's stamp hash ({prefix}:{tenant}:cache-stamps).
-- ARGV[1]: retention in ms: stamps older than this (no entry can outlive them) are pruned when the hash is large.
-- ARGV[2..n]: the fields to stamp.
-- Returns the stamp (server time in ms).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do
    redis.call('HSET', KEYS[1], ARGV[i], now)
end
if redis.call('HLEN', KEYS[1]) > 1000 then
    local all = redis.call('HGETALL', KEYS[1])
    local oldest = now - tonumber(ARGV[1])
    for i = 1, #all, 2 do
        if tonumber(all[i + 1]) < oldest then
            redis.call('HDEL', KEYS[1], all[i])
        end
    end
end
return now
