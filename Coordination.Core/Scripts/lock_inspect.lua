-- Reads the live holds of a lock; changes nothing but the layout of a fast hold (lock_common.lua). Tokens are never returned (they are capabilities).
-- KEYS[1]: the holds (hash). KEYS[2]: the holds by expiry. KEYS[3]: the fencing counter.
-- KEYS[4]: the FIFO queue (unused). KEYS[5]: every waiter by lease deadline. KEYS[6]: the fair waiters' modes (unused).
-- Returns {now (ms), last fencing token issued, live waiters, then per live hold: mode, owner, count, fence, expires at}.
adopt_fast_hold(KEYS[1], KEYS[2], KEYS[3])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local result = {now, tonumber(redis.call('GET', KEYS[3]) or '0'), redis.call('ZCOUNT', KEYS[5], '(' .. now, '+inf')}
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. now, '+inf', 'WITHSCORES')
for i = 1, #live, 2 do
    local value = redis.call('HGET', KEYS[1], live[i])
    if value then
        local m, count, fence, who = string.match(value, '^(%a)|(%d+)|(%d+)|(.*)$')
        result[#result + 1] = m
        result[#result + 1] = who
        result[#result + 1] = tonumber(count)
        result[#result + 1] = tonumber(fence)
        result[#result + 1] = tonumber(live[i + 1])
    end
end
return result
