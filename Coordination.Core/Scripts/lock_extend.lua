-- Restarts the time to live of a hold, only for the holder of the token (an expired hold cannot be extended).
-- KEYS[1]: the holds (hash). KEYS[2]: the holds by expiry. KEYS[3]: the fencing counter (read by adopt_fast_hold).
-- KEYS[4..6]: the lock's other keys (unused).
-- ARGV[1]: the holder's token. ARGV[2]: the new time to live in ms, from now (server time).
-- Returns the new expiry (ms of server time), or -1 when the token holds nothing.
local holds, expiries = KEYS[1], KEYS[2]

adopt_fast_hold(holds, expiries, KEYS[3])

local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)

local expires = redis.call('ZSCORE', expiries, ARGV[1])
if not expires or tonumber(expires) <= now or redis.call('HEXISTS', holds, ARGV[1]) == 0 then
    return -1
end

local renewed = now + tonumber(ARGV[2])
redis.call('ZADD', expiries, renewed, ARGV[1])
expire_with_last_hold(holds, expiries)
return renewed
