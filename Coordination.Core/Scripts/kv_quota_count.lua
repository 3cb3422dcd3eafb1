-- Counts a key/value key in its tenant's key ledger after the write stored it (SET ... GET), or refuses a key that
-- write created when the tenant is at its quota (the caller then deletes the key again). The ledger is a sorted set
-- of key names scored by when each key expires at the latest (ms of server time, +inf without TTL): its size, once
-- the expired names are dropped, is an upper bound of the tenant's live keys (docs/operations.md, "Key quotas").
-- KEYS[1]: the tenant's ledger. ARGV[1]: the key's name. ARGV[2]: the key's time to live in ms, '0' for none.
-- ARGV[3]: the quota (names). ARGV[4]: '1' when the key existed before the write (always counted: not new state).
-- Returns 1 when the name is counted, 0 when it is refused (the ledger is unchanged).
local ledger, name, ttl = KEYS[1], ARGV[1], ARGV[2]
local counted = redis.call('ZSCORE', ledger, name)
-- Most writes rewrite a counted name without a TTL: nothing to change (a counted name keeps its place even once its
-- score passed: the write is its key again).
if counted == 'inf' and ttl == '0' then
    return 1
end
local now
if not counted and ARGV[4] ~= '1' then
    local limit = tonumber(ARGV[3])
    if redis.call('ZCARD', ledger) >= limit then
        -- Expired names are dropped only when they would refuse a write: the ledger never holds more than the quota
        -- (and the keys counted because they existed), so leaving them until then costs nothing.
        local clock = redis.call('TIME')
        now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', ledger, '-inf', now)
        if redis.call('ZCARD', ledger) >= limit then
            return 0
        end
    end
end
-- This script runs after the write, so now + TTL is not before the key's own expiry. GT: a name written at once
-- with and without a TTL keeps the later expiry, whichever write landed last.
local expires = '+inf'
if ttl ~= '0' then
    if not now then
        local clock = redis.call('TIME')
        now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
    end
    expires = string.format('%d', now + tonumber(ttl))
end
redis.call('ZADD', ledger, 'GT', expires, name)
return 1
