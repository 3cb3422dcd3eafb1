-- Deletes a key/value key that a write created past its tenant's quota, unless another write replaced it since:
-- deleting unconditionally would lose that write, which its caller saw acknowledged.
-- KEYS[1]: the key. ARGV[1]: the value the refused write stored.
-- Returns 1 when the key was deleted, 0 when it holds another value (or is gone).
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
