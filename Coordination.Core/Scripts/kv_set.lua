-- Stores a key/value entry and says whether the key existed before (the tenant's key quota counts only keys a write
-- creates: an overwrite is never refused). Used only while a key quota is on; without one a plain SET is sent.
-- KEYS[1]: the key. ARGV[1]: the value. ARGV[2]: the time to live in ms, '0' for none.
-- Returns 1 when the key existed before the write, 0 when the write created it.
local existed = redis.call('EXISTS', KEYS[1])
if ARGV[2] == '0' then
    redis.call('SET', KEYS[1], ARGV[1])
else
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return existed
