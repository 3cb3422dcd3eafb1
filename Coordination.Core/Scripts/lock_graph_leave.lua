-- Gives up a waiter's place and removes its edge from the wait-for graph when it stops waiting; when it stopped
-- because it got the lock, records it as a holder of that lock, so the graph does not keep naming the previous
-- holder.
-- KEYS[1]: the graph (hash), KEYS[2]: the tenant's waiter places, KEYS[3]: the waits by owner (see lock_graph_wait.lua).
-- ARGV[1]: the owner. ARGV[2]: the waiter's token. ARGV[3]: the lock it waited for.
-- ARGV[4]: ms for which the owner now holds the lock (0 when it did not get it).
-- ARGV[5]: '1' when the owner now holds the lock alone (exclusive), '0' when it shares it.
-- Returns 1.
local graph, places, by_owner = KEYS[1], KEYS[2], KEYS[3]
local owner, token, lock, held_for = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

redis.call('ZREM', places, token)
redis.call('ZREM', by_owner, owner .. '\1' .. token)
redis.call('HDEL', graph, 'e|' .. token)

if held_for > 0 then
    local holders = {now + held_for, owner}
    local previous = redis.call('HGET', graph, 'h|' .. lock)
    if previous and ARGV[5] ~= '1' then
        local entry = cjson.decode(previous)
        if entry[1] > now then
            holders[1] = math.max(entry[1], holders[1])
            for i = 2, #entry do
                if entry[i] ~= owner then
                    holders[#holders + 1] = entry[i]
                end
            end
        end
    end
    redis.call('HSET', graph, 'h|' .. lock, cjson.encode(holders))
    if redis.call('PTTL', graph) < held_for then
        redis.call('PEXPIRE', graph, held_for)
    end
end
return 1
