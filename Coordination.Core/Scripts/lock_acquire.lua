-- Takes a hold on a lock (exclusive 'w', shared 'r', or one of N semaphore permits 's'), re-enters a hold the
-- caller already has, or records the caller as a waiter. Every hold has its own expiry and the keys expire with
-- the last one (PEXPIREAT), so nothing can keep a lock once its holders stop renewing it.
-- KEYS[1]: the holds (hash): field <token> = "mode|count|fence|owner", '#w' = the writer's token,
--          '#o|<mode>|<owner>' = the token an explicitly named owner re-enters.
-- KEYS[2]: the holds by expiry (sorted set, ms of server time). KEYS[3]: the fencing counter (next_fence).
-- KEYS[4]: the FIFO queue of fair waiters (sorted set, token -> arrival number).
-- KEYS[5]: every waiter by lease deadline (sorted set). KEYS[6]: the fair waiters' modes (hash) and '#seq'.
-- ARGV[1]: the caller's token. ARGV[2]: the owner. ARGV[3]: the time to live in ms. ARGV[4]: the mode.
-- ARGV[5]: the permits of a semaphore. ARGV[6]: re-entry: '0' none, '1' by token, '2' by owner, '3' by owner
-- only when the owner's hold has the token ARGV[9] (another hold of the owner then blocks like anyone else's).
-- ARGV[7]: the waiter lease in ms (0: the caller does not wait and is not recorded). ARGV[8]: '1' for FIFO.
-- ARGV[9]: with re-entry '3', the token the caller presents (checked here, in the same script that re-enters, so
-- the hold cannot change hands between the check and the re-entry; never stored).
-- ARGV[10]: the most live waiters the lock may have (a refused caller beyond them is not recorded).
-- ARGV[11], ARGV[12], ARGV[13] (optional, only with the fencing epochs of PostgreSQL): the caller's epoch * 2^40 (exact
-- integer text), the run ids of the server lives whose epoch it holds (comma-separated), and "1" to check this
-- server's run id on every call (next_fence in lock_common.lua).
-- Returns {1, token, fencing token, expires at (ms), count} when the caller holds the lock afterwards, with a sixth
-- element 1 when this acquisition created the fencing counter (for the tenant's lock-name quota, QuotaOptions);
-- {0, ms until the blocking holds expire (-1: only the fair queue blocks), arrival number (0 unless fair),
-- blocking owner...} when it does not;
-- {2} when an owner holding the lock shared asks for it exclusively (an upgrade, refused);
-- {3} when re-entry by token finds the hold gone (expired or released);
-- {4} when the caller would wait but the lock already has ARGV[10] waiters (nothing recorded for it);
-- {5, run id} when this server's run id had to be checked and is not in ARGV[12]: the caller resolves the epoch of
-- that run id and tries again (no hold was taken; expired holds and waiters may have been swept).
local holds, expiries, counter = KEYS[1], KEYS[2], KEYS[3]
local queue, waiters, queued = KEYS[4], KEYS[5], KEYS[6]
local token, owner, ttl, mode = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local permits, reentry, lease, fair = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7]), ARGV[8] == '1'
local by_owner = reentry == '2' or reentry == '3'

adopt_fast_hold(holds, expiries, KEYS[3])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local function parse(value)
    local m, count, fence, who = string.match(value, '^(%a)|(%d+)|(%d+)|(.*)$')
    return m, tonumber(count), fence, who
end

local function drop(tok)
    local value = redis.call('HGET', holds, tok)
    if value then
        local m, _, _, who = parse(value)
        if redis.call('HGET', holds, '#w') == tok then
            redis.call('HDEL', holds, '#w')
        end
        local index = '#o|' .. m .. '|' .. who
        if redis.call('HGET', holds, index) == tok then
            redis.call('HDEL', holds, index)
        end
        redis.call('HDEL', holds, tok)
    end
    redis.call('ZREM', expiries, tok)
end

local function leave_queue(tok)
    redis.call('ZREM', queue, tok)
    redis.call('ZREM', waiters, tok)
    redis.call('HDEL', queued, tok)
end

-- Expired holds and waiters whose lease ran out are gone before anything is decided. One EXISTS first: a free
-- lock nobody waits for has none of these keys (empty sorted sets do not exist), and then there is nothing to
-- sweep and no waiter record to remove. Every fair waiter is also in KEYS[5] (added and removed together, and
-- KEYS[5] never expires before KEYS[4]), so without KEYS[5] and KEYS[6] the queue holds nobody either.
local held, waiting = 0, false
local present = redis.call('EXISTS', expiries, waiters, queued)
if present > 0 then
    held = redis.call('ZCARD', expiries)
    -- waiting: KEYS[5] or KEYS[6] exists.
    waiting = present - (held > 0 and 1 or 0) > 0
    if held > 0 then
        local expired = redis.call('ZRANGEBYSCORE', expiries, '-inf', now)
        for _, tok in ipairs(expired) do
            drop(tok)
        end
        held = held - #expired
    end
    if waiting then
        for _, tok in ipairs(redis.call('ZRANGEBYSCORE', waiters, '-inf', now)) do
            leave_queue(tok)
        end
    end
end

-- Re-entry: the same hold, counted; its expiry only ever moves later.
local current = nil
if reentry == '1' then
    if redis.call('HEXISTS', holds, token) == 0 then
        return {3}
    end
    current = token
elseif by_owner then
    current = redis.call('HGET', holds, '#o|' .. mode .. '|' .. owner)
    if not current and mode == 'r' then
        -- Writing includes reading: an owner holding the lock exclusively re-enters that hold.
        local writer = redis.call('HGET', holds, '#w')
        if writer and redis.call('HGET', holds, '#o|w|' .. owner) == writer then
            current = writer
        end
    end
    if not current and mode == 'w' then
        -- The owner reads and now asks to write: refused (no upgrade). With re-entry '3' only when the caller
        -- presents that read hold's token; otherwise the read hold blocks this caller like anyone else's.
        local reader = redis.call('HGET', holds, '#o|r|' .. owner)
        if reader and (reentry ~= '3' or reader == ARGV[9]) then
            return {2}
        end
    end
    if current and reentry == '3' and current ~= ARGV[9] then
        -- Naming the owner is not enough: its hold blocks this caller like another owner's hold.
        current = nil
    end
end
if current then
    local m, count, fence, who = parse(redis.call('HGET', holds, current))
    count = count + 1
    redis.call('HSET', holds, current, m .. '|' .. count .. '|' .. fence .. '|' .. who)
    local expires = math.max(tonumber(redis.call('ZSCORE', expiries, current)), now + ttl)
    redis.call('ZADD', expiries, expires, current)
    expire_with_last_hold(holds, expiries)
    if waiting then
        leave_queue(token)
    end
    return {1, current, #fence >= 16 and fence or tonumber(fence), expires, count}
end

-- held: the live holds (the sweep removed the expired ones).
local admitted
if mode == 'w' then
    admitted = held == 0
elseif mode == 'r' then
    admitted = redis.call('HEXISTS', holds, '#w') == 0
else
    admitted = held < permits
end

-- Fair callers let the fair waiters that came first go first (readers may pass queued readers); nobody waiting,
-- nobody is queued.
if admitted and fair and waiting then
    local rank = redis.call('ZRANK', queue, token)
    local ahead = rank or redis.call('ZCARD', queue)
    if ahead > 0 then
        if mode == 'w' then
            admitted = false
        elseif mode == 'r' then
            for _, tok in ipairs(redis.call('ZRANGE', queue, 0, ahead - 1)) do
                if redis.call('HGET', queued, tok) ~= 'r' then
                    admitted = false
                    break
                end
            end
        else
            admitted = held + ahead < permits
        end
    end
end

if admitted then
    local fence, created = next_fence(counter, now, ARGV[11], ARGV[12], ARGV[13] == '1')
    if not fence then
        return {5, created}
    end
    local expires = now + ttl
    -- Formatted once, as integers: a Lua number handed to redis.call or joined into a string is formatted as a
    -- float (%.17g / %.14g), several times slower, and this is the path every uncontended acquire takes.
    local expires_text = string.format('%d', expires)
    local fence_text = type(fence) == 'string' and fence or string.format('%d', fence)
    local fields = {token, mode .. '|1|' .. fence_text .. '|' .. owner}
    if mode == 'w' then
        fields[#fields + 1] = '#w'
        fields[#fields + 1] = token
    end
    if reentry == '2' then
        fields[#fields + 1] = '#o|' .. mode .. '|' .. owner
        fields[#fields + 1] = token
    end
    redis.call('HSET', holds, unpack(fields))
    if reentry == '3' then
        -- A shared hold of the owner refused above for its token keeps the owner's index.
        redis.call('HSETNX', holds, '#o|' .. mode .. '|' .. owner, token)
    end
    redis.call('ZADD', expiries, expires_text, token)
    if held == 0 then
        -- The only hold: the keys expire with it.
        redis.call('PEXPIREAT', holds, expires_text)
        redis.call('PEXPIREAT', expiries, expires_text)
    else
        expire_with_last_hold(holds, expiries)
    end
    if waiting then
        leave_queue(token)
    end
    if created then
        return {1, token, fence, expires, 1, 1}
    end
    return {1, token, fence, expires, 1}
end

-- Refused: say when the blocking holds expire and whose they are (the wait-for graph needs the owners).
local result = {0, -1, 0}
if held > 0 then
    local blocking = {}
    if mode == 'r' then
        -- Without a writer, a fair reader was refused for a writer queued ahead: it waits for the queue.
        local writer = redis.call('HGET', holds, '#w')
        if writer then
            blocking = {writer}
            result[2] = tonumber(redis.call('ZSCORE', expiries, writer)) - now
        end
    elseif mode == 'w' then
        blocking = redis.call('ZRANGE', expiries, 0, -1)
        result[2] = tonumber(redis.call('ZRANGE', expiries, -1, -1, 'WITHSCORES')[2]) - now
    else
        result[2] = tonumber(redis.call('ZRANGE', expiries, 0, 0, 'WITHSCORES')[2]) - now
    end
    if lease > 0 then
        local seen = {}
        for _, tok in ipairs(blocking) do
            local value = redis.call('HGET', holds, tok)
            if value then
                local _, _, _, who = parse(value)
                if not seen[who] then
                    seen[who] = true
                    result[#result + 1] = who
                end
            end
        end
    end
end

if lease > 0 then
    -- The sweep above removed the waiters whose lease ran out: the count is of live ones.
    if waiting and not redis.call('ZSCORE', waiters, token) and redis.call('ZCARD', waiters) >= tonumber(ARGV[10]) then
        return {4}
    end
    redis.call('ZADD', waiters, now + lease, token)
    if fair then
        local seq = redis.call('ZSCORE', queue, token)
        if not seq then
            seq = redis.call('HINCRBY', queued, '#seq', 1)
            redis.call('ZADD', queue, seq, token)
            redis.call('HSET', queued, token, mode)
        end
        result[3] = tonumber(seq)
    end
    for _, key in ipairs({queue, waiters, queued}) do
        if redis.call('PTTL', key) < lease then
            redis.call('PEXPIRE', key, lease)
        end
    end
end
return result
