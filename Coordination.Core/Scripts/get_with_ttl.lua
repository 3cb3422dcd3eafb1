-- Reads a value and its remaining TTL at the same instant.
-- KEYS[1]: the key.
-- Returns {value, pttl}: value false when absent; pttl -1 when the key never expires.
local value = redis.call('GET', KEYS[1])
if value == false then
    return {false, -2}
end
return {value, redis.call('PTTL', KEYS[1])}
