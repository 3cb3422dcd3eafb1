-- Ends a lease of a concurrency policy (ratelimit_concurrency.lua): removes its members.
-- KEYS[1]: the leases, a sorted set. ARGV[1]: the lease id (random part). ARGV[2]: its permits.
-- Returns 1 when the lease was held (not yet expired), 0 otherwise.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local members = {}
for i = 1, tonumber(ARGV[2]) do
    members[#members + 1] = ARGV[1] .. '#' .. i
end
if redis.call('ZREM', KEYS[1], unpack(members)) > 0 then
    return 1
end
return 0
