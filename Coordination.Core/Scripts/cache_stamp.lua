-- Records that every entry of a tag (member 't:{tag}') or a key prefix (member 'p:{prefix}') created up to now is
-- invalid, and keeps the tenant's stamps bounded with work bounded per call: stamps past retention are dropped (no
-- entry that old is served), and the oldest beyond the limit are folded into the tenant's floor (every entry created
-- at or before it is invalid), so an evicted stamp never makes an entry valid again. Also reads them for a replica.
-- KEYS[1]: the tenant's stamps, a sorted set of members scored by stamp ({{prefix}:{tenant}:cache-stamps}:stamps).
-- KEYS[2]: the tenant's floor in ms ({{prefix}:{tenant}:cache-stamps}:floor).
-- KEYS[3]: the stamp hash of earlier versions ({prefix}:{tenant}:cache-stamps, the same slot): migrated, then deleted.
--          Small enough (at most ARGV[2] fields) it is copied; larger, the floor moves to now instead of reading it.
-- ARGV[1]: retention in ms: stamps older than this are dropped, and the keys expire this long after the last change.
-- ARGV[2]: the most stamps the tenant keeps (members of KEYS[1]).
-- ARGV[3]: 1 to return every stamp after the call (a replica loading them), 0 not to.
-- ARGV[4..n]: the members to stamp.
-- Returns {stamp (server time in ms), floor (0: none), stamps folded into the floor by this call,
--          then when ARGV[3] is 1: member1, stamp1, member2, stamp2, ...}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local retention = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local oldest = now - retention
local floor = tonumber(redis.call('GET', KEYS[2]) or '0')
local raised = false
local added = #ARGV >= 4
local folded = 0

if redis.call('EXISTS', KEYS[3]) == 1 then
    local fields = redis.call('HLEN', KEYS[3])
    if fields <= limit then
        local all = redis.call('HGETALL', KEYS[3])
        for i = 1, #all, 2 do
            local stamp = tonumber(all[i + 1])
            if stamp and stamp > oldest and stamp > floor then
                redis.call('ZADD', KEYS[1], 'GT', stamp, all[i])
                added = true
            end
        end
    else
        floor = now
        raised = true
        folded = fields
    end
    redis.call('UNLINK', KEYS[3])
end

for i = 4, #ARGV do
    redis.call('ZADD', KEYS[1], 'GT', now, ARGV[i])
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', oldest)
local excess = redis.call('ZCARD', KEYS[1]) - limit
if excess > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[1], excess)
    local newest = tonumber(popped[#popped])
    if newest > floor then
        floor = newest
        raised = true
    end
    folded = folded + excess
end

if raised and floor > oldest then
    redis.call('SET', KEYS[2], string.format('%d', floor), 'PX', retention)
end
if added then
    redis.call('PEXPIRE', KEYS[1], retention)
end

local result = {now, floor, folded}
if ARGV[3] == '1' then
    local stamps = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
    for i = 1, #stamps do
        result[3 + i] = stamps[i]
    end
end
return result
