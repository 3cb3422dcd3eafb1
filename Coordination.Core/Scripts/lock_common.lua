-- Shared by the lock scripts that work on the general layout (inserted after each one's header when it is loaded).

-- The holds and their expiry set live as long as the hold that expires last.
local function expire_with_last_hold(holds, expiries)
    local last = redis.call('ZRANGE', expiries, -1, -1, 'WITHSCORES')
    redis.call('PEXPIREAT', holds, last[2])
    redis.call('PEXPIREAT', expiries, last[2])
end

-- The next fencing token of a lock: INCR of its counter. After each increment the counter has at least 31 days (beyond
-- the longest hold, 30 days) plus its lead on Redis's clock in seconds to live; when less is left, its expiry is
-- pushed back to 62 days plus that lead (a TTL read spares most acquisitions that write). A missing counter (new name,
-- or expired) starts from that clock. When a counter expires the clock has passed its value by at least 31 days, so
-- the restart is above every token it gave: tokens of a name keep increasing (docs/locks.md, "Fencing tokens").
-- lock_fast_acquire.lua, which has no prelude, writes the same rule out. now_ms: Redis's clock (ms).
-- Returns the token, and true when this call created the counter (the tenant's lock-name quota counts the name).
local function next_fence(counter, now_ms)
    local fence = redis.call('INCR', counter)
    local now = math.floor(now_ms / 1000)
    if fence == 1 then
        redis.call('SET', counter, now, 'EX', '5356800')
        return now, true
    end
    local ahead = math.min(math.max(fence - now, 0), 1099511627776)
    if redis.call('TTL', counter) < 2678400 + ahead then
        redis.call('EXPIRE', counter, string.format('%d', 5356800 + ahead))
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

