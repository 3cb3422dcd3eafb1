-- One rate-limit acquisition over one or more levels (a single policy and key, or a hierarchy such as tenant, user and
-- endpoint of one tenant), all or nothing: every level is checked first, and only when every one has room are the
-- permits charged to all of them. Each level counts with its own algorithm (the functions below), on Redis's clock.
-- KEYS[1] .. KEYS[n]: the levels' states, all of one tenant (one hash slot): a hash (fixed window, sliding window, token
--                     bucket, GCRA) or a sorted set (sliding log, concurrency); the functions below say what each holds.
-- ARGV[1]: the permits asked for. Then five per level i (from ARGV[2 + 5 * (i - 1)]): the algorithm
--          (fixed_window, sliding_window, sliding_log, token_bucket, gcra, concurrency), the limit (per period; for
--          concurrency the leases held at once), the period ms (for concurrency how long a lease lasts), the extra (the
--          capacity for a token bucket, the burst for GCRA, the lease id for concurrency, else empty), and the reserve:
--          the permits of the level's allowance this request may not use (0 for critical traffic).
-- Returns four values per level: {allowed 1|0 (whether that level had room), remaining, reset ms, retry ms (0 when
-- the level had room, -1 never: more permits than the level ever allows less the reserve)}. When every level had
-- room the permits are charged and remaining and reset are after the charge; otherwise nothing is charged (the
-- sliding log and concurrency drop only entries that had expired anyway) and they are as found.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

-- Each function checks one level and returns {remaining, reset ms, retry ms, charge}: retry 0 means the level has
-- room, and charge() then writes the permits and returns {remaining, reset ms} after them.

-- Fixed window: at most `limit` permits per window of `period` ms, windows aligned to the clock (a window starts at a
-- multiple of the period since the Unix epoch, so every node counts the same window).
-- State: {w = the counted window's end ms, c = permits admitted in it}; expires at the window's end. The end, not the
-- start, names the window so that a policy whose period changed never counts into a key that expires at the old end.
-- Later permits of a window only increment the count: the key already expires at the window's end.
local function fixed_window(key, limit, period, permits)
    local ends = now - now % period + period
    local reset = ends - now
    local state = redis.call('HMGET', key, 'w', 'c')
    local counted = 0
    if tonumber(state[1]) == ends then
        counted = tonumber(state[2]) or 0
    end
    local remaining = math.max(0, limit - counted)
    if permits > limit then
        return {remaining, reset, -1}
    end
    if counted + permits > limit then
        return {remaining, reset, reset}
    end
    return {remaining, reset, 0, function()
        if counted > 0 then
            redis.call('HINCRBY', key, 'c', permits)
        else
            redis.call('HSET', key, 'w', ends, 'c', permits)
            redis.call('PEXPIREAT', key, ends)
        end
        return {limit - counted - permits, reset}
    end}
end

-- Sliding window: the current aligned window plus the previous one weighted by the share of it the sliding window
-- still covers, previous * (period - elapsed) / period + current. Admitted while that estimate with the permits stays
-- within the limit, compared in integers (previous * (period - elapsed) + (current + permits) * period <= limit *
-- period), exact while limit * period stays below 2^53, which the policy rules ensure.
-- State: {w = current window start ms, c = its permits, p = the previous window's permits}; expires when both windows
-- have passed.
local function sliding_window(key, limit, period, permits)
    local start = now - now % period
    local elapsed = now - start
    local state = redis.call('HMGET', key, 'w', 'c', 'p')
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
        return {remaining_of(current), reset_of(current), -1}
    end
    if previous * (period - elapsed) + (current + permits) * period > limit * period then
        local retry
        if current + permits <= limit then
            -- Later in this window, once the previous window's share has shrunk enough.
            retry = period - math.floor((limit - current - permits) * period / previous) - elapsed
        else
            -- In the next window, once this window (then the previous one) weighs little enough.
            retry = start + period - now + period - math.floor((limit - permits) * period / current)
        end
        return {remaining_of(current), reset_of(current), math.max(1, retry)}
    end
    return {remaining_of(current), reset_of(current), 0, function()
        local counted = current + permits
        redis.call('HSET', key, 'w', start, 'c', counted, 'p', previous)
        redis.call('PEXPIREAT', key, start + 2 * period)
        return {remaining_of(counted), reset_of(counted)}
    end}
end

-- Sliding log: exact, every admitted permit is an entry scored by its time (ms), admitted while the entries of the
-- last `period` ms plus the permits stay within the limit. One entry per permit, so the policy rules keep the limit
-- small (RateLimitPolicyRules.MaxSlidingLogLimit).
-- State: a sorted set; expires a period after its newest entry.
local function sliding_log(key, limit, period, permits)
    -- An entry made at t counts while now < t + period.
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
    local count = redis.call('ZCARD', key)
    local reset = 0
    if count > 0 then
        local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
        reset = tonumber(newest[2]) + period - now
    end
    local remaining = math.max(0, limit - count)
    if permits > limit then
        return {remaining, reset, -1}
    end
    if count + permits > limit then
        -- The request fits once the oldest (count + permits - limit) entries have left the window.
        local rank = count + permits - limit - 1
        local oldest = redis.call('ZRANGE', key, rank, rank, 'WITHSCORES')
        return {remaining, reset, math.max(1, tonumber(oldest[2]) + period - now)}
    end
    return {remaining, reset, 0, function()
        -- Members unique per call: two calls in one millisecond see different counts (the first one's entries are
        -- still in). Added in chunks: unpack cannot spread more than a few thousand values onto Lua's stack.
        local entries = {}
        for i = 1, permits do
            entries[#entries + 1] = now
            entries[#entries + 1] = clock[1] .. clock[2] .. ':' .. count .. ':' .. i
            if #entries == 1000 or i == permits then
                redis.call('ZADD', key, unpack(entries))
                entries = {}
            end
        end
        redis.call('PEXPIRE', key, period)
        return {limit - count - permits, period}
    end}
end

-- Token bucket: a bucket of `capacity` tokens refilled at `rate` tokens per `period` ms, starting full. Tokens are
-- kept exactly as integers in units of 1/period of a token (a token is `period` units, and every ms adds `rate`
-- units), so a fraction of a token refilled is never lost or rounded up; exact while capacity * period stays below
-- 2^53, which the policy rules ensure. The reserve is counted in tokens the request must leave in the bucket.
-- State: {t = tokens in units, at = its last update ms, s = the period the units were counted with}; expires when
-- the bucket would be full again (a missing bucket is a full one).
local function token_bucket(key, rate, period, permits, capacity, reserve)
    local full = capacity * period
    local kept = reserve * period
    local tokens = full
    local state = redis.call('HMGET', key, 't', 'at', 's')
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

    local reset = math.ceil((full - tokens) / rate)
    if need + kept > full then
        return {remaining_of(tokens), reset, -1}
    end
    if tokens < need + kept then
        return {remaining_of(tokens), reset, math.ceil((need + kept - tokens) / rate)}
    end
    return {remaining_of(tokens), reset, 0, function()
        local left = tokens - need
        local refill = math.ceil((full - left) / rate)
        redis.call('HSET', key, 't', left, 'at', now, 's', period)
        redis.call('PEXPIRE', key, refill)
        return {remaining_of(left), refill}
    end}
end

-- GCRA (generic cell rate algorithm): permits spaced at the emission interval period / limit, a burst of `burst`
-- permits tolerated after a quiet stretch. The state is the theoretical arrival time (TAT) of the next permit, kept
-- exactly as whole ms plus a fraction in units of 1/limit ms; all arithmetic is in those units (an emission interval
-- is `period` units), exact while burst * period stays below 2^53, which the policy rules ensure.
-- State: {w = TAT whole ms, f = TAT fraction in 1/limit ms, l = the limit it was counted with}; expires at the TAT
-- (when the full burst is available again). Remaining: the permits of this priority that would still be admitted now.
local function gcra(key, limit, period, permits, burst, reserve)
    local tolerance = burst * period
    -- How far ahead this request may push the TAT: the burst less the reserve held back from it.
    local usable = (burst - reserve) * period
    -- ahead: how far the TAT is ahead of now, in units.
    local ahead = 0
    local state = redis.call('HMGET', key, 'w', 'f', 'l')
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

    local reset = math.ceil(ahead / limit)
    if permits * period > usable then
        return {remaining_of(ahead), reset, -1}
    end
    if after > usable then
        return {remaining_of(ahead), reset, math.ceil((after - usable) / limit)}
    end
    return {remaining_of(ahead), reset, 0, function()
        local whole = math.floor(after / limit)
        local tat = math.ceil(after / limit)
        redis.call('HSET', key, 'w', now + whole, 'f', after - whole * limit, 'l', limit)
        redis.call('PEXPIRE', key, tat)
        return {remaining_of(after), tat}
    end}
end

-- Concurrency: at most `limit` permits held at once. A lease of n permits is n members `{lease}#{i}` scored by their
-- expiry (ms); expired members are dropped first, so a crashed holder's lease ends after the period. One member per
-- permit, so the policy rules keep the limit small (RateLimitPolicyRules.MaxConcurrencyLimit). Retry when refused:
-- when enough leases expire at the latest (a release frees them sooner).
-- State: a sorted set; expires with its last lease.
local function concurrency(key, limit, period, permits, lease)
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
    local held = redis.call('ZCARD', key)
    local reset = 0
    if held > 0 then
        local latest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
        reset = tonumber(latest[2]) - now
    end
    local remaining = math.max(0, limit - held)
    if permits > limit then
        return {remaining, reset, -1}
    end
    if held + permits > limit then
        local rank = held + permits - limit - 1
        local soonest = redis.call('ZRANGE', key, rank, rank, 'WITHSCORES')
        return {remaining, reset, math.max(1, tonumber(soonest[2]) - now)}
    end
    return {remaining, reset, 0, function()
        -- Added in chunks: unpack cannot spread more than a few thousand values onto Lua's stack.
        local members = {}
        for i = 1, permits do
            members[#members + 1] = now + period
            members[#members + 1] = lease .. '#' .. i
            if #members == 1000 or i == permits then
                redis.call('ZADD', key, unpack(members))
                members = {}
            end
        end
        redis.call('PEXPIRE', key, period)
        return {limit - held - permits, period}
    end}
end

local permits = tonumber(ARGV[1])
local checks = {}
local room = true
for i = 1, #KEYS do
    local at = 2 + 5 * (i - 1)
    local algorithm, limit, period, extra, reserve =
        ARGV[at], tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2]), ARGV[at + 3], tonumber(ARGV[at + 4])
    local check
    if algorithm == 'token_bucket' then
        check = token_bucket(KEYS[i], limit, period, permits, tonumber(extra), reserve)
    elseif algorithm == 'gcra' then
        check = gcra(KEYS[i], limit, period, permits, tonumber(extra), reserve)
    elseif algorithm == 'fixed_window' then
        -- The counting algorithms count against the limit less the reserve held back from the request.
        check = fixed_window(KEYS[i], limit - reserve, period, permits)
    elseif algorithm == 'sliding_window' then
        check = sliding_window(KEYS[i], limit - reserve, period, permits)
    elseif algorithm == 'sliding_log' then
        check = sliding_log(KEYS[i], limit - reserve, period, permits)
    else
        check = concurrency(KEYS[i], limit - reserve, period, permits, extra)
    end
    checks[i] = check
    room = room and check[3] == 0
end

local reply = {}
for i = 1, #checks do
    local check = checks[i]
    if room then
        local after = check[4]()
        reply[#reply + 1] = 1
        reply[#reply + 1] = after[1]
        reply[#reply + 1] = after[2]
        reply[#reply + 1] = 0
    else
        reply[#reply + 1] = check[3] == 0 and 1 or 0
        reply[#reply + 1] = check[1]
        reply[#reply + 1] = check[2]
        reply[#reply + 1] = check[3]
    end
end
return reply
