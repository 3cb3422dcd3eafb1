-- Reads the reports of the nodes that reported within the expiry, newest first, with Redis's clock to age them by.
-- Read only: one script so that the time, the order and the reports are one consistent snapshot.
-- KEYS[1]: the reports, a hash {node name -> report JSON}.
-- KEYS[2]: when each node last reported, a sorted set {node name -> milliseconds (Redis TIME)}.
-- ARGV[1]: the expiry in milliseconds (older reports are left out). ARGV[2]: the most nodes read.
-- Returns {now in milliseconds, name1, reported1, report1, name2, ...}; a report is false when it is missing.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local names = redis.call('ZREVRANGEBYSCORE', KEYS[2], '+inf', now - tonumber(ARGV[1]), 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local result = {now}
for i = 1, #names, 2 do
    result[#result + 1] = names[i]
    result[#result + 1] = names[i + 1]
    result[#result + 1] = redis.call('HGET', KEYS[1], names[i])
end
return result
