-- Ends every session of a user and deletes the user's index.
-- KEYS[1]: the user's index.
-- ARGV[1]: the session key prefix of the user's tag.
-- Returns how many live sessions were ended.
local ended = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    ended = ended + redis.call('DEL', session_key(ARGV[1], id))
end
redis.call('DEL', KEYS[1])
return ended
