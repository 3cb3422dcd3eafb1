-- Puts back a key/value key from its PostgreSQL mirror row after Redis lost its data (KeyValueRepair.cs), unless Redis
-- had its say since: a key present (written since the loss, or never lost) is kept and answered, and a key deleted
-- since the loss (its tombstone is there) stays deleted. So a restore never undoes a write made in Redis.
-- KEYS[1]: the key; KEYS[2]: its tombstone (kv_delete_tombstoned.lua; built in the key's hash slot).
-- ARGV[1]: the mirrored value; ARGV[2]: its remaining TTL in milliseconds (PostgreSQL's clock), 0 when it never expires.
-- Returns {value, pttl, restored}: value false when the key stays absent; pttl -1 when it never expires;
-- restored 1 when this call wrote the key, else 0.
local current = redis.call('GET', KEYS[1])
if current then
    return {current, redis.call('PTTL', KEYS[1]), 0}
end

if redis.call('EXISTS', KEYS[2]) == 1 then
    return {false, -2, 0}
end

local ttl = tonumber(ARGV[2])
if ttl > 0 then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
    return {ARGV[1], ttl, 1}
end

redis.call('SET', KEYS[1], ARGV[1])
return {ARGV[1], -1, 1}
