-- Makes key/value writes that arrived together (RedisWriteCombiner.cs) in their arrival order, as one command.
-- KEYS[1], KEYS[2], ...: the keys, KEYS[i] the key of write i (all in one hash slot).
-- ARGV[1..]: two per write: ARGV[2i-1] write i's time to live in milliseconds (-1 deletes the key, 0 sets it without
-- expiry, above 0 sets it to expire then), ARGV[2i] its value (empty for a delete).
-- Returns one integer per write: 1 for a set; for a delete 1 when the key existed, else 0.
local results = {}
for i = 1, #KEYS do
    local ttl = tonumber(ARGV[2 * i - 1])
    if ttl < 0 then
        results[i] = redis.call('DEL', KEYS[i])
    elseif ttl == 0 then
        redis.call('SET', KEYS[i], ARGV[2 * i])
        results[i] = 1
    else
        redis.call('SET', KEYS[i], ARGV[2 * i], 'PX', ttl)
        results[i] = 1
    end
end
return results
