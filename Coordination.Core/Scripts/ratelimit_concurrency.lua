-- A concurrency decision: at most ARGV[1] permits held at once. A lease of n permits is n members `{lease}#{i}` of a
-- sorted set scored by their expiry (server ms); expired members are dropped first, so a crashed holder's lease ends
-- after the period. One member per permit, so the policy rules keep the limit small
-- (RateLimitPolicyRules.MaxConcurrencyLimit).
-- KEYS[1]: the leases, a sorted set; it expires with its last lease.
-- ARGV[1]: the limit. ARGV[2]: the lease duration ms. ARGV[3]: the permits asked for. ARGV[4]: the lease id (random).
--          ARGV[5]: the reserve: permits of the allowance this request may not use (0 for critical
--          traffic; RateLimitingOptions.CriticalReserve for normal).
-- The limit below is the policy's less the reserve: remaining and retry are this priority's.
-- Returns {allowed 1|0, remaining, reset ms (until every lease has expired), retry ms (0 when allowed, -1 never; when
-- refused: when enough leases expire at the latest, a release frees them sooner)}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
-- What this request counts against: the limit less the reserve held back from it.
local limit = tonumber(ARGV[1]) - tonumber(ARGV[5])
local period = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local held = redis.call('ZCARD', KEYS[1])

local function reset_now()
    if held == 0 then
        return 0
    end
    local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    return tonumber(latest[2]) - now
end

if permits > limit then
    return {0, math.max(0, limit - held), reset_now(), -1}
end
if held + permits > limit then
    local rank = held + permits - limit - 1
    local soonest = redis.call('ZRANGE', KEYS[1], rank, rank, 'WITHSCORES')
    return {0, math.max(0, limit - held), reset_now(), math.max(1, tonumber(soonest[2]) - now)}
end
-- Added in chunks: unpack cannot spread more than a few thousand values onto Lua's stack.
local members = {}
for i = 1, permits do
    members[#members + 1] = now + period
    members[#members + 1] = ARGV[4] .. '#' .. i
    if #members == 1000 or i == permits then
        redis.call('ZADD', KEYS[1], unpack(members))
        members = {}
    end
end
redis.call('PEXPIRE', KEYS[1], period)
return {1, limit - held - permits, period, 0}
