-- Moves a rotated session's id in its tenant's session ledger (session_quota_count.lua): the new id takes the old
-- one's score, so the session is counted once, as before.
-- KEYS[1]: the tenant's ledger. ARGV[1]: the old id. ARGV[2]: the new id.
-- Returns 1 when the old id was counted, else 0 (nothing changes).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then
    return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], score, ARGV[2])
return 1
