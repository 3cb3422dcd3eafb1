-- Records that an owner waits for a lock, unless that wait would close a cycle in the wait-for graph (a deadlock).
-- The graph of a tenant is one hash under a tenant-level hash tag, so the check and the record are atomic:
-- of two owners closing a cycle at the same moment exactly one sees it. Entries carry their own deadline (server
-- time) and are ignored and removed once past it, so a crashed process leaves no edge behind for long.
-- KEYS[1]: the graph (hash): 'w|<owner>' = JSON {token: [lock, deadline]} (the locks the owner waits for),
--          'h|<lock>' = JSON [deadline, owner...] (the holders of the lock, as last observed by a waiter),
--          '#c' = the cursor of the incremental sweep of dead entries.
-- ARGV[1]: the waiting owner. ARGV[2]: the waiter's token. ARGV[3]: the lock it waits for.
-- ARGV[4]: the waiter's lease in ms. ARGV[5]: ms for which the observed holders hold the lock.
-- ARGV[6]: the longest cycle searched for (owners). ARGV[7..]: the owners observed holding the lock.
-- Returns {0} when the wait is recorded; {1, owner1, lock1, owner2, lock2, ...} when it would close a cycle
-- (owner i waits for lock i, held by owner i+1; the last lock is held by owner1, the caller); nothing is recorded then.
local graph = KEYS[1]
local me, token, lock = ARGV[1], ARGV[2], ARGV[3]
local lease, held_for, depth = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function waits_of(owner)
    local raw = redis.call('HGET', graph, 'w|' .. owner)
    local locks = {}
    if raw then
        for _, entry in pairs(cjson.decode(raw)) do
            if entry[2] > now then
                locks[#locks + 1] = entry[1]
            end
        end
    end
    return locks
end

local function holders_of(name)
    local raw = redis.call('HGET', graph, 'h|' .. name)
    if not raw then
        return {}
    end
    local entry = cjson.decode(raw)
    if entry[1] <= now then
        redis.call('HDEL', graph, 'h|' .. name)
        return {}
    end
    local owners = {}
    for i = 2, #entry do
        owners[#owners + 1] = entry[i]
    end
    return owners
end

-- The caller's observation is the freshest truth about the lock it waits for.
local observed = {now + held_for}
for i = 7, #ARGV do
    observed[#observed + 1] = ARGV[i]
end
redis.call('HSET', graph, 'h|' .. lock, cjson.encode(observed))

-- Breadth-first from the holders of the lock: reaching the caller again closes a cycle.
local parent = {}
local visited = {[me] = true}
local frontier = {}
for i = 7, #ARGV do
    local holder = ARGV[i]
    if not visited[holder] then
        visited[holder] = true
        parent[holder] = {me, lock}
        frontier[#frontier + 1] = holder
    end
end
for _ = 1, depth do
    if #frontier == 0 then
        break
    end
    local next_frontier = {}
    for _, owner in ipairs(frontier) do
        for _, name in ipairs(waits_of(owner)) do
            for _, holder in ipairs(holders_of(name)) do
                if holder == me then
                    local cycle = {owner, name}
                    local current = owner
                    while current ~= me do
                        local link = parent[current]
                        table.insert(cycle, 1, link[2])
                        table.insert(cycle, 1, link[1])
                        current = link[1]
                    end
                    table.insert(cycle, 1, 1)
                    return cycle
                elseif holder ~= owner and not visited[holder] then
                    visited[holder] = true
                    parent[holder] = {owner, name}
                    next_frontier[#next_frontier + 1] = holder
                end
            end
        end
    end
    frontier = next_frontier
end

local field = 'w|' .. me
local raw = redis.call('HGET', graph, field)
local entries = raw and cjson.decode(raw) or {}
entries[token] = {lock, now + lease}
redis.call('HSET', graph, field, cjson.encode(entries))

-- A few entries per call are checked and the dead ones removed, so the hash cannot grow without bound.
local cursor = redis.call('HGET', graph, '#c') or '0'
local scan = redis.call('HSCAN', graph, cursor, 'COUNT', 8)
for i = 1, #scan[2], 2 do
    local name, value = scan[2][i], scan[2][i + 1]
    local kind = string.sub(name, 1, 2)
    if kind == 'h|' then
        if cjson.decode(value)[1] <= now then
            redis.call('HDEL', graph, name)
        end
    elseif kind == 'w|' then
        local live = false
        for _, entry in pairs(cjson.decode(value)) do
            if entry[2] > now then
                live = true
                break
            end
        end
        if not live then
            redis.call('HDEL', graph, name)
        end
    end
end
redis.call('HSET', graph, '#c', scan[1])

local keep = math.max(lease, held_for)
if redis.call('PTTL', graph) < keep then
    redis.call('PEXPIRE', graph, keep)
end
return {0}
