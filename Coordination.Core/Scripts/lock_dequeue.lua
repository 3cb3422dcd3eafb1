-- Forgets a waiter that stopped waiting (acquired elsewhere, timed out, cancelled). When it was the head of the
-- fair queue and others wait, publishes on the release channel so the next one re-checks at once.
-- KEYS[1]: the holds (hash, named in the message). KEYS[2..3]: unused. KEYS[4]: the FIFO queue of fair waiters.
-- KEYS[5]: every waiter by lease deadline. KEYS[6]: the fair waiters' modes.
-- ARGV[1]: the waiter's token. ARGV[2]: the release channel.
-- Returns 1 when the waiter was recorded, 0 otherwise.
local queue, waiters, queued = KEYS[4], KEYS[5], KEYS[6]
local rank = redis.call('ZRANK', queue, ARGV[1])
local removed = redis.call('ZREM', waiters, ARGV[1])
redis.call('ZREM', queue, ARGV[1])
redis.call('HDEL', queued, ARGV[1])
if rank == 0 and redis.call('ZCARD', waiters) > 0 then
    local head = redis.call('ZRANGE', queue, 0, 0, 'WITHSCORES')
    redis.call('PUBLISH', ARGV[2], '0|' .. (head[2] or '0') .. '|' .. KEYS[1])
end
return removed
