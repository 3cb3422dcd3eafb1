-- Releases one count of a hold (or all of it), only for the holder of the token. When the release lets a waiter
-- in (the lock is free, or a permit came back) and someone waits, it publishes "fence|head arrival|KEYS[1]" on
-- the release channel so waiters wake at once instead of polling.
-- KEYS[1]: the holds (hash). KEYS[2]: the holds by expiry. KEYS[3]: the fencing counter (unused).
-- KEYS[4]: the FIFO queue of fair waiters. KEYS[5]: every waiter by lease deadline. KEYS[6]: the fair waiters' modes.
-- ARGV[1]: the holder's token. ARGV[2]: '1' to release every count, '0' for one. ARGV[3]: the release channel.
-- Returns {counts left on the hold, 1 when the hold is gone}; {-1, 0} when the token holds nothing (never held,
-- expired, or released already): nothing changes then.
local holds, expiries = KEYS[1], KEYS[2]
local queue, waiters, queued = KEYS[4], KEYS[5], KEYS[6]

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

-- The hold goes, with its writer mark and owner index when they are its own.
if redis.call('HGET', holds, '#w') == ARGV[1] then
    redis.call('HDEL', holds, '#w')
end
local index = '#o|' .. m .. '|' .. who
if redis.call('HGET', holds, index) == ARGV[1] then
    redis.call('HDEL', holds, index)
end
redis.call('HDEL', holds, ARGV[1])
redis.call('ZREM', expiries, ARGV[1])

local left = redis.call('ZCOUNT', expiries, '(' .. now, '+inf')
if left == 0 then
    redis.call('DEL', holds, expiries)
else
    local last = redis.call('ZRANGE', expiries, -1, -1, 'WITHSCORES')
    redis.call('PEXPIREAT', holds, last[2])
    redis.call('PEXPIREAT', expiries, last[2])
end

for _, tok in ipairs(redis.call('ZRANGEBYSCORE', waiters, '-inf', now)) do
    redis.call('ZREM', queue, tok)
    redis.call('ZREM', waiters, tok)
    redis.call('HDEL', queued, tok)
end
if (left == 0 or m == 's') and redis.call('ZCARD', waiters) > 0 then
    local head = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
    redis.call('PUBLISH', ARGV[3], fence .. '|' .. (head[2] or '0') .. '|' .. holds)
end
return {0, 1}
