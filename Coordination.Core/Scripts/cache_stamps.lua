-- Reads all tag and prefix stamps of a tenant with the server time.
-- KEYS[1]: the tenant's stamp hash.
-- Returns {now_ms, field1, stamp1, field2, stamp2, ...}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
table.insert(all, 1, now)
return all
