-- Reads the invalidations a node has not seen yet, or tells it that the log no longer reaches back that far.
-- KEYS[1]: the invalidation log stream.
-- ARGV[1]: the last id the node applied ('' to just learn the current end); ARGV[2]: the most entries to return.
-- Returns {now_ms, last_id, lost, entries}: lost is 1 when entries after ARGV[1] were trimmed or the log was reset
-- (the node must clear its memory level); entries are {id, {field, value, ...}} after ARGV[1], oldest first.
local function parse(id)
    local ms, seq = string.match(id, '^(%d+)-(%d+)$')
    return tonumber(ms), tonumber(seq)
end
local function compare(a, b)
    local am, as = parse(a)
    local bm, bs = parse(b)
    if am ~= bm then
        return am < bm and -1 or 1
    end
    if as ~= bs then
        return as < bs and -1 or 1
    end
    return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tail = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last = '0-0'
if #tail > 0 then
    last = tail[1][1]
end
if ARGV[1] == '' then
    return {now, last, 0, {}}
end
if compare(last, ARGV[1]) < 0 then
    -- The log is behind the node: it was deleted or the server lost its data.
    return {now, last, 1, {}}
end
local head = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #head > 0 and compare(head[1][1], ARGV[1]) > 0 then
    -- The entry at ARGV[1] is gone, so entries after it may have been trimmed too; only a stream that never lost an
    -- entry (entries-added equals length, Redis 7+) proves nothing is missing.
    local lost = 1
    local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
    if type(info) == 'table' and info.err == nil then
        local length, added
        for i = 1, #info, 2 do
            if info[i] == 'length' then
                length = tonumber(info[i + 1])
            elseif info[i] == 'entries-added' then
                added = tonumber(info[i + 1])
            end
        end
        if length ~= nil and added ~= nil and added == length then
            lost = 0
        end
    end
    if lost == 1 then
        return {now, last, 1, {}}
    end
end
return {now, last, 0, redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])}
