-- Shared by the lock scripts that work on the general layout (inserted after each one's header when it is loaded).

-- The holds and their expiry set live as long as the hold that expires last.
local function expire_with_last_hold(holds, expiries)
    local last = redis.call('ZRANGE', expiries, -1, -1, 'WITHSCORES')
    redis.call('PEXPIREAT', holds, last[2])
    redis.call('PEXPIREAT', expiries, last[2])
end

-- The next fencing token of a lock: INCR of its counter, which holds epoch * 2^40 + a count. After each increment
-- the counter has at least 31 days (beyond the longest hold, 30 days) plus its count's lead on Redis's clock in
-- seconds to live; when less is left, its expiry is pushed back to 62 days plus that lead (a TTL read spares most
-- acquisitions that write). A missing counter (new name, expired, or lost with the data) or one of an epoch below
-- the caller's starts from the caller's epoch plus that clock. When a counter expires the clock has passed its count
-- by at least 31 days, so the restart is above every token it gave; a new life of the server (restart, failover) has
-- a new epoch (PostgreSQL, Locks/FencingEpochs.cs), above every token of the lives before: tokens of a name keep
-- increasing (docs/locks.md, "Fencing tokens"). lock_fast_acquire.lua, which has no prelude, writes the same rule
-- out. now_ms: Redis's clock (ms). base_text: the caller's epoch * 2^40 (exact integer text; nil: epoch 0).
-- run_ids: the run ids of the server lives whose epoch the caller holds, comma-separated (nil without PostgreSQL);
-- verify: check this server's run id on every call, not only when re-seeding.
-- Returns the token (a string when it is 2^53 or more, where Lua's doubles are not exact), and true when this call
-- created the counter (the tenant's lock-name quota counts the name); nil and this server's run id when it had to be
-- checked and is not in run_ids (the increment is undone: nothing changed).
local function next_fence(counter, now_ms, base_text, run_ids, verify)
    local fence = redis.call('INCR', counter)
    local now = math.floor(now_ms / 1000)
    local base = base_text and tonumber(base_text) or 0
    local created = fence == 1
    if created or fence < base or verify then
        if run_ids then
            local run_id = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
            if not string.find(',' .. run_ids .. ',', ',' .. run_id .. ',', 1, true) then
                if created then
                    redis.call('DEL', counter)
                else
                    redis.call('DECR', counter)
                end
                return nil, run_id
            end
        end
        if created or fence < base then
            if base == 0 then
                redis.call('SET', counter, now, 'EX', '5356800')
                return now, created
            end
            redis.call('SET', counter, base_text, 'EX', '5356800')
            fence = redis.call('INCRBY', counter, now)
            if fence >= 9007199254740992 then
                fence = redis.call('GET', counter)
            end
            return fence, created
        end
    end
    local ahead = math.max(fence % 1099511627776 - now, 0)
    if redis.call('TTL', counter) < 2678400 + ahead then
        redis.call('EXPIRE', counter, string.format('%d', 5356800 + ahead))
    end
    if fence >= 9007199254740992 then
        return redis.call('GET', counter)
    end
    return fence
end

-- A hold taken on the fast path (lock_fast_acquire.lua) is a string "<token>|<owner>" at the holds key;
-- adopt_fast_hold turns it into an entry of the holds hash and of the expiry set with the same expiry, so the
-- script after it sees one layout.
local function adopt_fast_hold(holds, expiries, counter)
    if redis.call('TYPE', holds).ok ~= 'string' then
        return
    end
    local token, who = string.match(redis.call('GET', holds), '^([^|]*)|(.*)$')
    local expires = string.format('%d', redis.call('PEXPIRETIME', holds))
    -- The fast hold's fencing token is the counter's value: lock_fast_acquire.lua increments it in the script that
    -- takes the hold, and nothing else does while the hold is a string (every other acquisition adopts it first).
    local fence = redis.call('GET', counter)
    redis.call('DEL', holds)
    redis.call('HSET', holds, token, 'w|1|' .. fence .. '|' .. who, '#w', token)
    redis.call('ZADD', expiries, expires, token)
    -- The expiry set may still have holds that expired (they are swept later).
    expire_with_last_hold(holds, expiries)
end

