-- A fixed-window decision: at most ARGV[1] permits per window of ARGV[2] ms, windows aligned to the server's clock
-- (a window starts at a multiple of the period since the Unix epoch, so every node counts the same window).
-- KEYS[1]: the counter, a hash {w = the counted window's start ms, c = permits admitted in it}; it expires at the
--          window's end.
-- ARGV[1]: the limit. ARGV[2]: the period ms. ARGV[3]: the permits asked for. ARGV[4]: the reserve: permits of the
--          allowance this request may not use (0 for critical traffic; RateLimitingOptions.CriticalReserve for normal).
-- Returns {allowed 1|0, remaining, reset ms (until the window ends), retry ms (0 when allowed, -1 never: more permits
-- than the limit less the reserve)}; remaining is what is left of the limit less the reserve. A refusal changes
-- nothing.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
-- What this request counts against: the limit less the reserve held back from it.
local limit = tonumber(ARGV[1]) - tonumber(ARGV[4])
local period = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
local start = now - now % period
local reset = start + period - now
local state = redis.call('HMGET', KEYS[1], 'w', 'c')
local counted = 0
if tonumber(state[1]) == start then
    counted = tonumber(state[2]) or 0
end
if permits > limit then
    return {0, math.max(0, limit - counted), reset, -1}
end
if counted + permits > limit then
    return {0, math.max(0, limit - counted), reset, reset}
end
counted = counted + permits
redis.call('HSET', KEYS[1], 'w', start, 'c', counted)
redis.call('PEXPIREAT', KEYS[1], start + period)
return {1, limit - counted, reset, 0}
