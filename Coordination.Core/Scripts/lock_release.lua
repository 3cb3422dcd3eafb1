-- Releases one count of a hold (or all of it), only for the holder of the token. When the release lets a waiter
-- in (the lock is free, or a permit came back) and someone waits, it publishes "fence|head arrival|KEYS[1]" on
-- the release channel so waiters wake at once instead of polling.
-- KEYS[1]: the holds (hash). KEYS[2]: the holds by expiry. KEYS[3]: the fencing counter (read by adopt_fast_hold).
-- KEYS[4]: the FIFO queue of fair waiters. KEYS[5]: every waiter by lease deadline. KEYS[6]: the fair waiters' modes.
-- ARGV[1]: the holder's token. ARGV[2]: '1' to release every count, '0' for one. ARGV[3]: the release channel.
-- ARGV[4] (optional): undoing an acquisition refused at the tenant's lock-name quota, the fencing token it created
-- the counter with: the counter goes too while it still holds that token. Nobody else was handed it (anyone else
-- would have incremented it), so the next counter, seeded from the clock again, still gives greater tokens than any
-- caller saw; once someone else incremented it, the counter stays.
-- Returns {counts left on the hold, 1 when the hold is gone}; {-1, 0} when the token holds nothing (never held,
-- expired, or released already): nothing changes then.
local holds, expiries = KEYS[1], KEYS[2]
local queue, waiters, queued = KEYS[4], KEYS[5], KEYS[6]

adopt_fast_hold(holds, expiries, KEYS[3])
-- After the adoption, which reads the counter as a fast hold's token.
if ARGV[4] and redis.call('GET', KEYS[3]) == ARGV[4] then
    redis.call('DEL', KEYS[3])
end

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local expires = redis.call('ZSCORE', expiries, ARGV[1])
local value = redis.call('HGET', holds, ARGV[1])
if not expires or not value or tonumber(expires) <= now then
    return {-1, 0}
end

local m, count, fence, who = string.match(value, '^(%a)|(%d+)|(%d+)|(.*)$')
count = tonumber(count)
if ARGV[2] ~= '1' and count > 1 then
    redis.call('HSET', holds, ARGV[1], m .. '|' .. (count - 1) .. '|' .. fence .. '|' .. who)
    return {count - 1, 0}
end

-- The live holds other than this one (this one is live: its expiry is later than now).
local left = redis.call('ZCOUNT', expiries, string.format('(%d', now), '+inf') - 1
if left == 0 then
    -- The last live hold: both keys go, with this hold and whatever expired holds they still had.
    redis.call('DEL', holds, expiries)
else
    -- The hold goes, with its writer mark and owner index when they are its own.
    local index = '#o|' .. m .. '|' .. who
    local marks = redis.call('HMGET', holds, '#w', index)
    local fields = {ARGV[1]}
    if marks[1] == ARGV[1] then
        fields[#fields + 1] = '#w'
    end
    if marks[2] == ARGV[1] then
        fields[#fields + 1] = index
    end
    redis.call('HDEL', holds, unpack(fields))
    redis.call('ZREM', expiries, ARGV[1])
    expire_with_last_hold(holds, expiries)
end

-- Nobody waits (no waiter key): nothing to sweep, nobody to wake.
if redis.call('EXISTS', waiters) == 1 then
    for _, tok in ipairs(redis.call('ZRANGEBYSCORE', waiters, '-inf', now)) do
        redis.call('ZREM', queue, tok)
        redis.call('ZREM', waiters, tok)
        redis.call('HDEL', queued, tok)
    end
    if (left == 0 or m == 's') and redis.call('ZCARD', waiters) > 0 then
        local head = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
        redis.call('PUBLISH', ARGV[3], fence .. '|' .. (head[2] or '0') .. '|' .. holds)
    end
end
return {0, 1}
