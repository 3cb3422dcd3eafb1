-- Deletes a session and its entry in its user's index.
-- KEYS[1]: the session key.
-- ARGV[1]: session id. ARGV[2]: the user index prefix of the id's tag.
-- Returns 1 when a live session had the id, else 0.
local user = redis.call('HGET', KEYS[1], 'u')
if not user then
    return 0
end
local index = ARGV[2] .. user
redis.call('DEL', KEYS[1])
redis.call('ZREM', index, ARGV[1])
tidy_index(index, now_ms())
return 1
