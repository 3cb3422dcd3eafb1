-- Tells the node that holds a worker duty's lock whether the duty is due (the schedule is shared by every node).
-- KEYS[1]: the duties' schedule (hash: field "{name}:next" = when the duty is next due, Unix ms of Redis's clock).
-- ARGV[1]: the duty's name.
-- Returns {now, next}: Redis's time (Unix ms) and when the duty is due (0 when it never ran).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = tonumber(redis.call('HGET', KEYS[1], ARGV[1] .. ':next')) or 0
return {now, due}
