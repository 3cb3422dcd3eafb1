-- A token-bucket decision: a bucket of ARGV[4] tokens refilled at ARGV[1] tokens per ARGV[2] ms, starting full.
-- Tokens are kept exactly as integers in units of 1/period of a token (a token is `period` units, and every ms adds
-- `limit` units), so a fraction of a token refilled is never lost or rounded up; exact while capacity * period stays
-- below 2^53, which the policy rules ensure.
-- KEYS[1]: the bucket, a hash {t = tokens in units, at = its last update ms, s = the period the units were counted
--          with}; it expires when the bucket would be full again (a missing bucket is a full one).
-- ARGV[1]: the refill per period (the limit). ARGV[2]: the period ms. ARGV[3]: the permits asked for. ARGV[4]: the
--          capacity. ARGV[5]: the reserve: permits of the allowance this request may not use (0 for critical
--          traffic; RateLimitingOptions.CriticalReserve for normal).
-- Returns {allowed 1|0, remaining whole tokens above the reserve, reset ms (until the bucket is full), retry ms (0
-- when allowed, -1 never: more permits than the capacity less the reserve)}. A refusal changes nothing.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local rate = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local permits = tonumber(ARGV[3])
local capacity = tonumber(ARGV[4])
local full = capacity * period
-- The tokens this request must leave in the bucket.
local kept = tonumber(ARGV[5]) * period
local tokens = full
local state = redis.call('HMGET', KEYS[1], 't', 'at', 's')
if state[1] then
    tokens = tonumber(state[1])
    local scale = tonumber(state[3])
    if scale ~= period then
        -- The policy's period changed: the same share of a token in the new units.
        tokens = math.floor(tokens / scale * period)
    end
    tokens = math.min(tokens, full)
    -- A server clock that stepped back refills nothing.
    local elapsed = math.max(0, now - tonumber(state[2]))
    if elapsed >= math.ceil((full - tokens) / rate) then
        tokens = full
    else
        tokens = tokens + elapsed * rate
    end
end

local need = permits * period
local function remaining_of(t)
    return math.floor(math.max(0, t - kept) / period)
end

if need + kept > full then
    return {0, remaining_of(tokens), math.ceil((full - tokens) / rate), -1}
end
if tokens < need + kept then
    return {0, remaining_of(tokens), math.ceil((full - tokens) / rate), math.ceil((need + kept - tokens) / rate)}
end
tokens = tokens - need
local reset = math.ceil((full - tokens) / rate)
redis.call('HSET', KEYS[1], 't', tokens, 'at', now, 's', period)
redis.call('PEXPIRE', KEYS[1], reset)
return {1, remaining_of(tokens), reset, 0}
