-- Marks the repair of a life of the data set done (KeyValueRepair.cs), unless a newer loss started another life
-- meanwhile: then that life's repair is still pending and runs from the start.
-- KEYS[1]: the marker hash, {prefix}:#kv-durability (on a Redis Cluster one per primary, {prefix}:#kv-durability:{tag}).
-- ARGV[1]: the id of the life that was repaired.
-- Returns 1 when marked done, 0 when the marker holds another life (or none).
if redis.call('HGET', KEYS[1], 'life') ~= ARGV[1] then
    return 0
end

redis.call('HSET', KEYS[1], 'repair', 'done')
return 1
