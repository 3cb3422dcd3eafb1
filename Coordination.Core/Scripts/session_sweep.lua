-- Removes the entries of ended sessions from one user's index (SessionCleanup.cs, run by one node at a time): those
-- past their absolute end (the index's score) and those whose session ended idle before it (its hash is gone). The
-- scripts that list or cap an index drop them too, but an index nobody touches keeps them until its last absolute end.
-- KEYS[1]: the user's index (sorted set: session id -> absolute expiry, ms of Redis's clock).
-- ARGV[1]: how many entries to look at, from rank ARGV[3]. ARGV[2]: the session key prefix of the index's tag.
-- Returns { ids removed (their sessions have ended), entries looked at }; the index is deleted when nothing is left.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local first = tonumber(ARGV[3])
local entries = redis.call('ZRANGE', KEYS[1], first, first + tonumber(ARGV[1]) - 1, 'WITHSCORES')
local ended = {}
for n = 1, #entries, 2 do
    local id = entries[n]
    if tonumber(entries[n + 1]) <= now or redis.call('EXISTS', ARGV[2] .. string.sub(id, 1, 22)) == 0 then
        ended[#ended + 1] = id
    end
end
if #ended > 0 then
    redis.call('ZREM', KEYS[1], unpack(ended))
end
if redis.call('ZCARD', KEYS[1]) == 0 then
    redis.call('DEL', KEYS[1])
end
return { ended, #entries / 2 }
