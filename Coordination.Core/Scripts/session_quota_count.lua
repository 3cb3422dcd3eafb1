-- Counts a new session in its tenant's session ledger before it is created, or refuses it when the tenant is at its
-- quota (Coordination:Quotas:MaxSessionsPerTenant). The ledger is a sorted set of session ids scored by their absolute
-- end (ms of server time): the calls that end a session remove its id, a cleanup removes the ids of sessions that ended
-- idle, and passed scores are dropped here, so its size is an upper bound of the tenant's live sessions that converges
-- to the count within a cleanup interval (docs/sessions.md, "Session quota"). It expires with its latest session.
-- KEYS[1]: the tenant's ledger. ARGV[1]: the session id. ARGV[2]: its absolute timeout ms. ARGV[3]: the quota.
-- Returns 1 when the session is counted, 0 when it is refused (the ledger is unchanged).
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local limit = tonumber(ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= limit then
    -- Passed ends are dropped only when they would refuse one: the ledger never holds more than the quota anyway.
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) >= limit then
        return 0
    end
end
local ends = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], ends, ARGV[1])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], latest[2])
return 1
