-- Ends a lease of a concurrency policy (ratelimit_acquire.lua): removes its members.
-- KEYS[1]: the leases, a sorted set. ARGV[1]: the lease id (random part). ARGV[2]: its permits.
-- Returns 1 when the lease was held (not yet expired), 0 otherwise.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
-- Removed in chunks: unpack cannot spread more than a few thousand values onto Lua's stack.
local permits = tonumber(ARGV[2])
local removed = 0
local members = {}
for i = 1, permits do
    members[#members + 1] = ARGV[1] .. '#' .. i
    if #members == 1000 or i == permits then
        removed = removed + redis.call('ZREM', KEYS[1], unpack(members))
        members = {}
    end
end
if removed > 0 then
    return 1
end
return 0
