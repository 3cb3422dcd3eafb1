-- Takes a free lock exclusively for a new hold in the fast layout: the sole hold as a string at KEYS[1],
-- "<token>|<owner>", expiring with the hold (PX). It exists only while nobody else holds the lock, waits for it or
-- touches it otherwise: every other lock script first turns it into the general layout (lock_common.lua).
-- A free lock is one without KEYS[1] (of either layout): the holds key always expires with its last live hold.
-- KEYS[1]: the holds. KEYS[2]: the fencing counter, epoch * 2^40 + a count (at least 31 days of life, plus the
-- count's lead on the clock, after each increment; a missing counter, or one of an epoch below the caller's, starts
-- from the caller's epoch plus Redis's clock in seconds: the rule is next_fence in lock_common.lua, written out here
-- because this script has no prelude).
-- ARGV[1]: the hold, "<token>|<owner>" (the client joins them: one string operation less here, per acquisition).
-- ARGV[2]: the time to live in ms. ARGV[3]: "1" to have the expiry time whole (see below); "0" or absent otherwise
-- (present when ARGV[4] follows).
-- ARGV[4] (optional, only with the fencing epochs of PostgreSQL): the caller's epoch * 2^40, as an exact integer.
-- ARGV[5] (with ARGV[4]): the run ids of the Redis server lives whose epoch the caller holds, comma-separated.
-- ARGV[6] (with ARGV[4]): "1" to check this server's run id on every call (the caller saw a connection fail or the
-- topology change, and has not read the servers' identity since), "0" to check it only when the counter is re-seeded.
-- Returns 0 when the lock is not free. {-1, run id} when this server's run id is not in ARGV[5] where it had to be
-- checked: nothing changed (the hold and the increment are undone); the caller resolves the epoch of that run id and
-- tries again. When taken: {fencing token, expires at (ms of server time), 1} if this acquisition created the
-- counter; {fencing token, expires at} if ARGV[3] is "1", the counter was re-seeded, or the token is not within 2^32
-- of ARGV[4] (the fencing token is a string when it is 2^53 or more: Lua's numbers are doubles, exact below 2^53);
-- otherwise one integer, (fencing token - ARGV[4]) * 2^21 + (expires at mod 2^21), which the client completes with
-- ARGV[4] and its estimate of the server's clock (RedisClock.cs). One integer costs Redis and the client less than
-- an array, and stays exact in Lua's doubles (below 2^53).
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 0
end
-- The hold's fencing token is not stored with it: while it is in the fast layout it is the counter's value.
local fence = redis.call('INCR', KEYS[2])
local expiresAt = redis.call('PEXPIRETIME', KEYS[1])
-- Redis's clock without a TIME call: the hold was set to expire ARGV[2] ms from now.
local now = math.floor((expiresAt - ARGV[2]) / 1000)
local base = ARGV[4] and tonumber(ARGV[4]) or 0
local created = fence == 1
if created or fence < base or ARGV[6] == '1' then
    if ARGV[5] then
        -- Is this server a life whose epoch the caller holds? (The client refuses INFO outside admin mode; a script
        -- may run it.) A new life (a restart, a failover) has a new run id, and a new epoch in PostgreSQL.
        local run_id = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
        if not string.find(',' .. ARGV[5] .. ',', ',' .. run_id .. ',', 1, true) then
            redis.call('DEL', KEYS[1])
            if created then
                redis.call('DEL', KEYS[2])
            else
                redis.call('DECR', KEYS[2])
            end
            return {-1, run_id}
        end
    end
    if created or fence < base then
        -- A new counter (a new name, one whose counter expired, or one lost with the data), or one of an earlier
        -- epoch: it starts from the caller's epoch plus the clock, and its expiry is the full 62 days. Only a created
        -- counter is reported as such (the array form with a third element), for the tenant's lock-name quota
        -- (QuotaOptions). SET then INCRBY: Redis's 64-bit arithmetic is exact where Lua's doubles may not be.
        if base == 0 then
            redis.call('SET', KEYS[2], now, 'EX', '5356800')
            fence = now
        else
            redis.call('SET', KEYS[2], ARGV[4], 'EX', '5356800')
            fence = redis.call('INCRBY', KEYS[2], now)
            if fence >= 9007199254740992 then
                fence = redis.call('GET', KEYS[2])
            end
        end
        if created then
            return {fence, expiresAt, 1}
        end
        return {fence, expiresAt}
    end
end
-- The expiry is pushed back (to 62 days plus how far the count is ahead of the clock) only when fewer than 31 days
-- plus that lead are left: a read (TTL) costs Redis less than a write (EXPIRE) on every acquisition, and 31 days
-- left still outlive any hold (30 days).
local ahead = math.max(fence % 1099511627776 - now, 0)
if redis.call('TTL', KEYS[2]) < 2678400 + ahead then
    redis.call('EXPIRE', KEYS[2], string.format('%d', 5356800 + ahead))
end
if fence >= 9007199254740992 then
    return {redis.call('GET', KEYS[2]), expiresAt}
end
if ARGV[3] == '1' or fence - base >= 4294967296 then
    return {fence, expiresAt}
end
return (fence - base) * 2097152 + expiresAt % 2097152
