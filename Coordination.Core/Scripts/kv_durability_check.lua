-- Notices that Redis lost its key/value data, for the repair from the PostgreSQL mirror (KeyValueRepair.cs). The
-- marker records the run id of the server that wrote it; a restart (the marker is gone without persistence, or comes
-- back from an older snapshot under another run id), a failover to another server, or a FLUSHALL makes the next check
-- find it missing or from another run: the check then starts a new life of the data set, whose repair is pending.
-- (INFO is refused to the client outside admin mode; a script may run it.)
-- KEYS[1]: the marker hash, {prefix}:#kv-durability (on a Redis Cluster one per primary, {prefix}:#kv-durability:{tag}).
-- ARGV[1]: an id for the new life, used only when this call finds a loss.
-- Returns {state, life, since}: state 'changed' (this call found the loss and rewrote the marker), else the repair
-- state of the current life ('pending' or 'done'); life its id; since when it began (Redis time, ms, as a string).
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local marker = redis.call('HMGET', KEYS[1], 'run', 'life', 'repair', 'since')
if marker[1] == run then
    return {marker[3], marker[2], marker[4]}
end

local now = redis.call('TIME')
local since = now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000))
redis.call('HSET', KEYS[1], 'run', run, 'life', ARGV[1], 'repair', 'pending', 'since', since)
return {'changed', ARGV[1], since}
