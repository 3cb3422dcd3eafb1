-- Stores one node's report and keeps the reports bounded: reports older than the expiry are dropped, and when more
-- than the most nodes kept would remain, the oldest reports of other nodes are dropped. Both keys expire together,
-- the expiry after the last report of any node. Time from Redis (TIME), so every node ages reports on one clock.
-- KEYS[1]: the reports, a hash {node name -> report JSON}.
-- KEYS[2]: when each node last reported, a sorted set {node name -> milliseconds (Redis TIME)}.
-- ARGV[1]: the node's name. ARGV[2]: its report (JSON). ARGV[3]: the expiry in milliseconds. ARGV[4]: the most nodes kept.
-- Returns {now in milliseconds, nodes kept, reports dropped}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiry = tonumber(ARGV[3])
local maxNodes = tonumber(ARGV[4])
local dropped = 0

local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - expiry))
for i = 1, #expired do
    redis.call('HDEL', KEYS[1], expired[i])
    dropped = dropped + 1
end
if #expired > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - expiry))
end

-- This node never drops itself: it is taken out, room is made among the others, and it is put back.
redis.call('ZREM', KEYS[2], ARGV[1])
local others = redis.call('ZCARD', KEYS[2])
if others >= maxNodes then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, others - maxNodes)
    for i = 1, #oldest do
        redis.call('HDEL', KEYS[1], oldest[i])
        redis.call('ZREM', KEYS[2], oldest[i])
        dropped = dropped + 1
    end
end

redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], expiry)
redis.call('PEXPIRE', KEYS[2], expiry)
return {now, redis.call('ZCARD', KEYS[2]), dropped}
