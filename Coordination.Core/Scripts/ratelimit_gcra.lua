-- A GCRA decision (generic cell rate algorithm): permits are spaced at the emission interval period / limit, and a
-- burst of ARGV[4] permits is tolerated after a quiet stretch. The state is the theoretical arrival time (TAT) of the
-- next permit, kept exactly as whole ms plus a fraction in units of 1/limit ms; all arithmetic is in those units (an
-- emission interval is `period` units), exact while burst * period stays below 2^53, which the policy rules ensure.
-- KEYS[1]: the state, a hash {w = TAT whole ms, f = TAT fraction in 1/limit ms, l = the limit it was counted with};
--          it expires at the TAT (when the full burst is available again).
-- ARGV[1]: the limit (permits per period). ARGV[2]: the period ms. ARGV[3]: the permits asked for. ARGV[4]: the burst.
--          ARGV[5]: the reserve: permits of the allowance this request may not use (0 for critical
--          traffic; RateLimitingOptions.CriticalReserve for normal).
-- Returns {allowed 1|0, remaining (permits of this priority that would still be admitted now), reset ms (until the
-- full burst is available), retry ms (0 when allowed, -1 never: more permits than the burst less the reserve)}. A
-- refusal changes nothing.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
local burst = tonumber(ARGV[4])
local tolerance = burst * period
-- How far ahead this request may push the TAT: the burst less the reserve held back from it.
local usable = (burst - tonumber(ARGV[5])) * period
-- ahead: how far the TAT is ahead of now, in units.
local ahead = 0
local state = redis.call('HMGET', KEYS[1], 'w', 'f', 'l')
if state[1] then
    local counted = tonumber(state[3])
    ahead = (tonumber(state[1]) - now) * counted + tonumber(state[2])
    if counted ~= limit then
        -- The policy's limit changed: the same time in the new units.
        ahead = math.floor(ahead / counted * limit)
    end
    ahead = math.min(math.max(0, ahead), tolerance)
end

local after = ahead + permits * period
local function remaining_of(a)
    return math.floor(math.max(0, usable - a) / period)
end

if permits * period > usable then
    return {0, remaining_of(ahead), math.ceil(ahead / limit), -1}
end
if after > usable then
    return {0, remaining_of(ahead), math.ceil(ahead / limit), math.ceil((after - usable) / limit)}
end
local whole = math.floor(after / limit)
redis.call('HSET', KEYS[1], 'w', now + whole, 'f', after - whole * limit, 'l', limit)
local reset = math.ceil(after / limit)
redis.call('PEXPIRE', KEYS[1], reset)
return {1, remaining_of(after), reset, 0}
