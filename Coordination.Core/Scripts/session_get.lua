-- Records the access of a live session: slides its idle expiry, capped by the absolute one. The caller reads the
-- hash with a plain HGETALL sent right behind this script on the same connection (Redis runs them in order), which
-- costs Redis far less than handing the hash through Lua. The user's index is not touched: its scores are absolute
-- expiries, which an access does not move. Standalone (no session_common.lua): every function a script defines is
-- built again on each call, and this one runs on every read.
-- KEYS[1]: the session key.
-- ARGV[1]: "1" when the session has a durable copy whose expiry should follow the reads (RedisSessionManager).
-- Returns the expiry to write to the copy (0: none), or nil when no live session has the id. The copy's expiry
-- (field p) is moved on only when it is more than half an idle timeout behind: a read costs the copy a write at most
-- twice per idle timeout.
local times = redis.call('HMGET', KEYS[1], 'i', 'x', 'p')
if not times[1] then
    return false
end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local idle = tonumber(times[1])
local expires = math.min(now + idle, tonumber(times[2]))
redis.call('HSET', KEYS[1], 'a', now)
redis.call('PEXPIREAT', KEYS[1], expires)
if ARGV[1] == '1' and expires - (tonumber(times[3]) or 0) > idle / 2 then
    redis.call('HSET', KEYS[1], 'p', expires)
    return expires
end
return 0
