-- Takes a free lock exclusively for a new hold in the fast layout: the sole hold as a string at KEYS[1],
-- "<token>|<owner>", expiring with the hold (PX). It exists only while nobody else holds the lock, waits for it or
-- touches it otherwise: every other lock script first turns it into the general layout (lock_common.lua).
-- A free lock is one without KEYS[1] (of either layout): the holds key always expires with its last live hold.
-- KEYS[1]: the holds. KEYS[2]: the fencing counter (at least 31 days of life, plus its lead on the clock, after each
-- increment; a missing counter starts from Redis's clock in
-- seconds: the rule is next_fence in lock_common.lua, written out here because this script has no prelude).
-- ARGV[1]: the hold, "<token>|<owner>" (the client joins them: one string operation less here, per acquisition).
-- ARGV[2]: the time to live in ms. ARGV[3] (optional): "1" to have the expiry time whole (see below).
-- Returns 0 when the lock is not free. When taken: {fencing token, expires at (ms of server time), 1} if this
-- acquisition created the counter; {fencing token, expires at} if ARGV[3] is given or the token is 2^32 or more;
-- otherwise one integer, fencing token * 2^21 + (expires at mod 2^21), which the
-- client completes with its estimate of the server's clock (RedisClock.cs). One integer costs Redis and the client
-- less than an array, and stays exact in Lua's doubles (below 2^53).
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 0
end
-- The hold's fencing token is not stored with it: while it is in the fast layout it is the counter's value.
local fence = redis.call('INCR', KEYS[2])
local expiresAt = redis.call('PEXPIRETIME', KEYS[1])
-- Redis's clock without a TIME call: the hold was set to expire ARGV[2] ms from now.
local now = math.floor((expiresAt - ARGV[2]) / 1000)
if fence == 1 then
    -- This acquisition created the counter (a new name, or one whose counter expired): the array form with a third
    -- element says so, for the tenant's lock-name quota (QuotaOptions). The seed is the clock, and its expiry the full 62 days.
    redis.call('SET', KEYS[2], now, 'EX', '5356800')
    return {now, expiresAt, 1}
end
-- The expiry is pushed back (to 62 days plus how far the counter is ahead of the clock) only when fewer than 31 days
-- plus that lead are left: a read (TTL) costs Redis less than a write (EXPIRE) on every acquisition, and 31 days
-- left still outlive any hold (30 days).
local ahead = math.min(math.max(fence - now, 0), 1099511627776)
if redis.call('TTL', KEYS[2]) < 2678400 + ahead then
    redis.call('EXPIRE', KEYS[2], string.format('%d', 5356800 + ahead))
end
if ARGV[3] or fence >= 4294967296 then
    return {fence, expiresAt}
end
return fence * 2097152 + expiresAt % 2097152
