-- Counts a key/value key in its tenant's key ledger after kv_set.lua stored it, or refuses a key that write created
-- when the tenant is at its quota (the caller then deletes the key again). The ledger is a sorted set of key names
-- scored by when each key expires at the latest (ms of server time, +inf without TTL): its size, after the expired
-- names are dropped, is an upper bound of the tenant's live keys (docs/operations.md, "Key quotas").
-- KEYS[1]: the tenant's ledger. ARGV[1]: the key's name. ARGV[2]: the key's time to live in ms, '0' for none.
-- ARGV[3]: the quota (names). ARGV[4]: '1' when the key existed before the write (always counted: not new state).
-- Returns 1 when the name is counted, 0 when it is refused (the ledger is unchanged).
local ledger, name = KEYS[1], ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', ledger, '-inf', now)
if ARGV[4] ~= '1' and not redis.call('ZSCORE', ledger, name) and redis.call('ZCARD', ledger) >= tonumber(ARGV[3]) then
    return 0
end
-- This script runs after the write, so now + TTL is not before the key's own expiry. GT: a name written at once
-- with and without a TTL keeps the later expiry, whichever write landed last.
local expires = '+inf'
if ARGV[2] ~= '0' then
    expires = string.format('%d', now + tonumber(ARGV[2]))
end
redis.call('ZADD', ledger, 'GT', expires, name)
return 1
