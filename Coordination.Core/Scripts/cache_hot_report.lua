-- Adds one node's sampled read counts of one tenant's cache to the hot keys every node of the prefix shares, within
-- bounds: at most ARGV[4] tenants listed, at most ARGV[3] keys kept per tenant (the hottest), everything expiring
-- ARGV[2] ms after the tenant's last report. Counts halve every ARGV[5] ms (by Redis's clock, at most once per
-- half-life whatever the number of reporting nodes), so the table follows what is hot now.
-- KEYS[1]: the reporting tenants (sorted set: tenant -> Unix ms of its last report).
-- KEYS[2]: when each tenant's counts were last halved (hash: tenant -> Unix ms).
-- KEYS[3]: the tenant's hot keys (sorted set: cache key -> read count).
-- ARGV[1]: the tenant. ARGV[2]: how long a report is kept (ms). ARGV[3]: the most keys kept per tenant.
-- ARGV[4]: the most tenants listed. ARGV[5]: the half-life of the counts (ms).
-- ARGV[6..]: pairs of cache key and read count; at most ARGV[3] pairs are read.
-- Returns the number of keys counted, or -1 when the tenant is not listed and the list is full (nothing changes).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tenant = ARGV[1]
local keep = tonumber(ARGV[2])
local maxKeys = tonumber(ARGV[3])
local halfLife = tonumber(ARGV[5])

-- Tenants that stopped reporting leave the list (their keys expire on their own); a bounded number per call.
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - keep), 'LIMIT', 0, 64)
if #stale > 0 then
    redis.call('ZREM', KEYS[1], unpack(stale))
    redis.call('HDEL', KEYS[2], unpack(stale))
end

if not redis.call('ZSCORE', KEYS[1], tenant) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
    return -1
end

local halved = tonumber(redis.call('HGET', KEYS[2], tenant))
if not halved or redis.call('EXISTS', KEYS[3]) == 0 then
    redis.call('HSET', KEYS[2], tenant, now)
elseif now - halved >= halfLife then
    local periods = math.floor((now - halved) / halfLife)
    redis.call('ZUNIONSTORE', KEYS[3], 1, KEYS[3], 'WEIGHTS', 0.5 ^ math.min(periods, 64))
    redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(1')
    redis.call('HSET', KEYS[2], tenant, halved + periods * halfLife)
end

local counted = 0
local i = 6
while ARGV[i + 1] and counted < maxKeys do
    local count = tonumber(ARGV[i + 1])
    if count and count > 0 then
        redis.call('ZINCRBY', KEYS[3], count, ARGV[i])
        counted = counted + 1
    end
    i = i + 2
end

-- Only the hottest keys stay.
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(maxKeys + 1))
redis.call('ZADD', KEYS[1], now, tenant)
redis.call('PEXPIRE', KEYS[1], keep)
redis.call('PEXPIRE', KEYS[2], keep)
redis.call('PEXPIRE', KEYS[3], keep)
return counted
