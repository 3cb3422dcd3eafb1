-- Ends every session of a user and deletes the user's index.
-- KEYS[1]: the user's index.
-- ARGV[1]: the session key prefix of the user's tag.
-- Returns { how many live sessions were ended, then every id the index held } (the ids leave the tenant's session
-- ledger after this script when the session quota is on).
local answer = { 0 }
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    answer[1] = answer[1] + redis.call('DEL', session_key(ARGV[1], id))
    answer[#answer + 1] = id
end
redis.call('DEL', KEYS[1])
return answer
