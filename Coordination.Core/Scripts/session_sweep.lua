-- Removes the entries of ended sessions from one user's index (SessionCleanup.cs, run by one node at a time): the
-- scripts that touch an index tidy it too, but an index nobody touches keeps its ended entries until its last session
-- ends. The session hashes expire on their own.
-- KEYS[1]: the user's index (sorted set: session id -> expiry, ms of Redis's clock).
-- ARGV[1]: the most entries to remove in this call (the caller calls again while it gets that many).
-- Returns the ids removed (their sessions have ended); the index is deleted when nothing is left in it.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ended = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #ended > 0 then
    redis.call('ZREM', KEYS[1], unpack(ended))
end
if redis.call('ZCARD', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[1])
end
return ended
