-- A sliding-window decision, counted as the current aligned window plus the previous one weighted by the share of it
-- the sliding window still covers: previous * (period - elapsed) / period + current. A request is admitted only when
-- that estimate, with its permits, stays within the limit; the comparison is made in integers
-- (previous * (period - elapsed) + (current + permits) * period <= limit * period), exact while limit * period stays
-- below 2^53, which the policy rules ensure.
-- KEYS[1]: the counter, a hash {w = current window start ms, c = its permits, p = the previous window's permits}; it
--          expires when both windows have passed.
-- ARGV[1]: the limit. ARGV[2]: the period ms. ARGV[3]: the permits asked for. ARGV[4]:
--          the reserve: permits of the allowance this request may not use (0 for critical
--          traffic; RateLimitingOptions.CriticalReserve for normal).
-- The limit below is the policy's less the reserve: remaining and retry are this priority's.
-- Returns {allowed 1|0, remaining, reset ms (until the estimate is back to 0), retry ms (0 when allowed, -1 never)}.
-- A refusal changes nothing.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
-- What this request counts against: the limit less the reserve held back from it.
local limit = tonumber(ARGV[1]) - tonumber(ARGV[4])
local period = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
local start = now - now % period
local elapsed = now - start
local state = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local window = tonumber(state[1])
local current, previous = 0, 0
if window == start then
    current = tonumber(state[2]) or 0
    previous = tonumber(state[3]) or 0
elseif window == start - period then
    previous = tonumber(state[2]) or 0
end

local function remaining_of(c)
    -- The previous window's share is rounded up, so the estimate never undercounts.
    return math.max(0, limit - c - math.ceil(previous * (period - elapsed) / period))
end

local function reset_of(c)
    if c > 0 then
        return start + 2 * period - now
    elseif previous > 0 then
        return start + period - now
    end
    return 0
end

if permits > limit then
    return {0, remaining_of(current), reset_of(current), -1}
end
if previous * (period - elapsed) + (current + permits) * period > limit * period then
    local retry
    if current + permits <= limit then
        -- Later in this window, once the previous window's share has shrunk enough.
        local at = period - math.floor((limit - current - permits) * period / previous)
        retry = at - elapsed
    else
        -- In the next window, once this window (then the previous one) weighs little enough.
        local at = period - math.floor((limit - permits) * period / current)
        retry = start + period - now + at
    end
    return {0, remaining_of(current), reset_of(current), math.max(1, retry)}
end
current = current + permits
redis.call('HSET', KEYS[1], 'w', start, 'c', current, 'p', previous)
redis.call('PEXPIREAT', KEYS[1], start + 2 * period)
return {1, remaining_of(current), reset_of(current), 0}
