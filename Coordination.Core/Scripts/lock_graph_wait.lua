-- Gives a waiter one of the tenant's waiter places (the per-tenant cap) and, when asked, records that its owner waits
-- for a lock, unless that wait would close a cycle in the wait-for graph (a deadlock). The keys of a tenant share a
-- tenant-level hash tag, so the count, the check and the record are atomic: of two owners closing a cycle at the same
-- moment exactly one sees it, and the tenant never has more live waiters than the cap. Places and edges carry their
-- own deadline (server time) and are ignored and removed once past it, so a crashed process leaves nothing for long.
-- One wait is one field and one index entry: recording or removing it never rewrites the owner's other waits.
-- KEYS[1]: the graph (hash): 'e|<token>' = '<deadline>\1<owner>\1<lock>' (the lock one waiter of the owner waits
--          for), 'h|<lock>' = JSON [deadline, owner...] (the holders of the lock, as last observed by a waiter),
--          '#c' = the cursor of the incremental sweep of dead entries.
-- KEYS[2]: the tenant's waiter places (sorted set: token -> lease deadline, ms of server time).
-- KEYS[3]: the waits by owner (sorted set, every score 0: '<owner>\1<token>', so ZRANGEBYLEX lists one owner's).
-- ARGV[1]: the waiting owner. ARGV[2]: the waiter's token. ARGV[3]: the lock it waits for.
-- ARGV[4]: the waiter's lease in ms. ARGV[5]: ms for which the observed holders hold the lock.
-- ARGV[6]: the longest cycle searched for (owners). ARGV[7]: the most live waiters the tenant may have.
-- ARGV[8]: '1' to record the wait in the graph (and search for a cycle), '0' to take or renew the place only.
-- ARGV[9..]: the owners observed holding the lock.
-- Returns {0} when the waiter has its place (and the wait is recorded); {1, owner1, lock1, owner2, lock2, ...} when
-- the wait would close a cycle (owner i waits for lock i, held by owner i+1; the last lock is held by owner1, the
-- caller), nothing recorded then; {2} when the tenant already has ARGV[7] live waiters (the caller has no place).
local graph, places, by_owner = KEYS[1], KEYS[2], KEYS[3]
local me, token, lock = ARGV[1], ARGV[2], ARGV[3]
local lease, held_for, depth = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cap, record = tonumber(ARGV[7]), ARGV[8] == '1'
local SEP = '\1'

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function forget_edge(tok)
    local edge = redis.call('HGET', graph, 'e|' .. tok)
    if edge then
        local owner = string.match(edge, '^[^\1]*\1([^\1]*)\1')
        redis.call('ZREM', by_owner, owner .. SEP .. tok)
        redis.call('HDEL', graph, 'e|' .. tok)
    end
end

-- Places whose lease ran out (crashed or stalled waiters) go first, a bounded number per call; the count below only
-- counts live places, so the ones left for later calls never count against the cap.
for _, tok in ipairs(redis.call('ZRANGEBYSCORE', places, '-inf', now, 'LIMIT', 0, 64)) do
    redis.call('ZREM', places, tok)
    forget_edge(tok)
end

if not redis.call('ZSCORE', places, token) and redis.call('ZCOUNT', places, '(' .. now, '+inf') >= cap then
    return {2}
end

local function waits_of(owner)
    local locks = {}
    for _, member in ipairs(redis.call('ZRANGEBYLEX', by_owner, '[' .. owner .. SEP, '(' .. owner .. '\2')) do
        local tok = string.sub(member, #owner + 2)
        local edge = redis.call('HGET', graph, 'e|' .. tok)
        local deadline = edge and tonumber(string.match(edge, '^(%d+)\1'))
        if deadline and deadline > now then
            locks[#locks + 1] = string.match(edge, '^[^\1]*\1[^\1]*\1(.*)$')
        elseif not edge then
            redis.call('ZREM', by_owner, member)
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

if record then
    -- The caller's observation is the freshest truth about the lock it waits for.
    local observed = {now + held_for}
    for i = 9, #ARGV do
        observed[#observed + 1] = ARGV[i]
    end
    redis.call('HSET', graph, 'h|' .. lock, cjson.encode(observed))

    -- Breadth-first from the holders of the lock: reaching the caller again closes a cycle.
    local parent = {}
    local visited = {[me] = true}
    local frontier = {}
    for i = 9, #ARGV do
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

    redis.call('HSET', graph, 'e|' .. token, string.format('%d', now + lease) .. SEP .. me .. SEP .. lock)
    redis.call('ZADD', by_owner, 0, me .. SEP .. token)
end
redis.call('ZADD', places, string.format('%d', now + lease), token)

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
    elseif kind == 'e|' then
        if tonumber(string.match(value, '^(%d+)\1')) <= now then
            forget_edge(string.sub(name, 3))
        end
    end
end
redis.call('HSET', graph, '#c', scan[1])

local keep = math.max(lease, held_for)
for _, key in ipairs(KEYS) do
    if redis.call('PTTL', key) < keep then
        redis.call('PEXPIRE', key, keep)
    end
end
return {0}
