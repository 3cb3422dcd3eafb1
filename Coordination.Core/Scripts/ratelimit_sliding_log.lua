-- A sliding-log decision: exact, every admitted permit is an entry scored by its server time (ms), and a request is
-- admitted when the entries of the last ARGV[2] ms plus its permits stay within the limit. One entry per permit, so
-- the policy rules keep the limit small (RateLimitPolicyRules.MaxSlidingLogLimit).
-- KEYS[1]: the log, a sorted set; it expires a period after its newest entry.
-- ARGV[1]: the limit. ARGV[2]: the period ms. ARGV[3]: the permits asked for. ARGV[4]:
--          the reserve: permits of the allowance this request may not use (0 for critical
--          traffic; RateLimitingOptions.CriticalReserve for normal).
-- The limit below is the policy's less the reserve: remaining and retry are this priority's.
-- Returns {allowed 1|0, remaining, reset ms (until every entry has left the window), retry ms (0 when allowed, -1
-- never)}. A refusal removes only entries that had left the window.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
-- What this request counts against: the limit less the reserve held back from it.
local limit = tonumber(ARGV[1]) - tonumber(ARGV[4])
local period = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
-- An entry made at t counts while now < t + period.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])

local function reset_now()
    if count == 0 then
        return 0
    end
    local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
    return tonumber(newest[2]) + period - now
end

if permits > limit then
    return {0, math.max(0, limit - count), reset_now(), -1}
end
if count + permits > limit then
    -- The request fits once the oldest (count + permits - limit) entries have left the window.
    local rank = count + permits - limit - 1
    local oldest = redis.call('ZRANGE', KEYS[1], rank, rank, 'WITHSCORES')
    return {0, math.max(0, limit - count), reset_now(), math.max(1, tonumber(oldest[2]) + period - now)}
end
-- Members unique per call: two calls in one millisecond see different counts (the first one's entries are still in).
-- Added in chunks: unpack cannot spread more than a few thousand values onto Lua's stack.
local entries = {}
for i = 1, permits do
    entries[#entries + 1] = now
    entries[#entries + 1] = clock[1] .. clock[2] .. ':' .. count .. ':' .. i
    if #entries == 1000 or i == permits then
        redis.call('ZADD', KEYS[1], unpack(entries))
        entries = {}
    end
end
redis.call('PEXPIRE', KEYS[1], period)
return {1, limit - count - permits, period, 0}
