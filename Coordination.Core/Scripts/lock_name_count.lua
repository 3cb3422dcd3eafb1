-- Counts a lock or semaphore name in its tenant's lock-name ledger after an acquisition created the name's fencing
-- counter, or refuses the name when the tenant is at its quota (the caller then undoes the acquisition). The ledger
-- is a sorted set of names scored by when the counter they created expires unless incremented again (ms of server
-- time: now + 62 days, the life a new counter starts with): once the passed scores are dropped, its size is the number of names
-- created in the last 62 days (docs/locks.md, "Lock-name quota"). The ledger expires with its newest name.
-- KEYS[1]: the tenant's ledger. ARGV[1]: the name, "<capability>:<name>". ARGV[2]: the quota (names).
-- Returns 1 when the name is counted, 0 when it is refused (the ledger is unchanged).
local ledger, name, limit = KEYS[1], ARGV[1], tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
if not redis.call('ZSCORE', ledger, name) and redis.call('ZCARD', ledger) >= limit then
    -- Passed names are dropped only when they would refuse one: the ledger never holds more than the quota anyway.
    redis.call('ZREMRANGEBYSCORE', ledger, '-inf', now)
    if redis.call('ZCARD', ledger) >= limit then
        return 0
    end
end
local expires = string.format('%d', now + 5356800000)
redis.call('ZADD', ledger, expires, name)
redis.call('PEXPIREAT', ledger, expires)
return 1
