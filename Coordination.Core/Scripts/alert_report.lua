-- One node's report of its alert conditions (Alerts/RedisAlertStore.cs): the Redis form of AlertIncidentLogic, used
-- when no PostgreSQL is configured. Exactly one report makes each transition, so exactly one node notifies it.
-- KEYS[1]: the incidents, a hash of rule -> JSON {id, since, firing, nodes = {node -> ms}, notified, details}, plus
--          the field '#seq' (incident ids).
-- ARGV[1]: the node. ARGV[2]: the repeat interval (ms). ARGV[3]: the node timeout (ms). ARGV[4]: the key's time to
--          live (ms). ARGV[5]: n, the number of reported rules; then n triples from ARGV[6]: rule, '1' (active) or
--          '0', details ('' for none).
-- Returns a flat array of notifications, 7 values each: rule, 'firing' or 'resolved', node, since (ms), details,
--          incident id, '1' when a firing repeats an earlier one else '0'.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local node = ARGV[1]
local repeat_ms = tonumber(ARGV[2])
local timeout_ms = tonumber(ARGV[3])
local n = tonumber(ARGV[5])

local reported = {}
for i = 0, n - 1 do
    reported[ARGV[6 + i * 3]] = { active = ARGV[7 + i * 3] == '1', details = ARGV[8 + i * 3] }
end

-- Every rule reported, and every stored one that fires or that this node holds.
local rules = {}
local stored = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
    if all[i] ~= '#seq' then
        local incident = cjson.decode(all[i + 1])
        stored[all[i]] = incident
        if incident.firing or incident.nodes[node] ~= nil then
            rules[#rules + 1] = all[i]
        end
    end
end
for rule, report in pairs(reported) do
    if stored[rule] == nil and report.active then
        stored[rule] = { firing = false, nodes = {} }
        rules[#rules + 1] = rule
    elseif stored[rule] ~= nil and not stored[rule].firing and stored[rule].nodes[node] == nil and report.active then
        rules[#rules + 1] = rule
    end
end

local out = {}
local function notify(rule, state, since, details, id, is_repeat)
    out[#out + 1] = rule
    out[#out + 1] = state
    out[#out + 1] = node
    out[#out + 1] = tostring(since)
    out[#out + 1] = details or ''
    out[#out + 1] = id
    out[#out + 1] = is_repeat and '1' or '0'
end

for _, rule in ipairs(rules) do
    local incident = stored[rule]
    -- cjson turns an empty table into an array; nodes is rebuilt as a plain table either way.
    local nodes = {}
    for name, seen in pairs(incident.nodes or {}) do
        nodes[name] = seen
    end
    local report = reported[rule]
    if report ~= nil and report.active then
        nodes[node] = now
        if report.details ~= '' then
            incident.details = report.details
        end
    else
        nodes[node] = nil
    end
    local held = false
    for name, seen in pairs(nodes) do
        if now - seen > timeout_ms then
            nodes[name] = nil
        else
            held = true
        end
    end
    if held and not incident.firing then
        incident.firing = true
        incident.id = tostring(redis.call('HINCRBY', KEYS[1], '#seq', 1))
        incident.since = now
        incident.notified = now
        incident.details = (report ~= nil and report.details ~= '') and report.details or nil
        notify(rule, 'firing', now, incident.details, incident.id, false)
    elseif held and now - (incident.notified or 0) >= repeat_ms then
        incident.notified = now
        notify(rule, 'firing', incident.since, incident.details, incident.id, true)
    elseif not held and incident.firing then
        incident.firing = false
        incident.notified = now
        notify(rule, 'resolved', incident.since, incident.details, incident.id, false)
    end
    local encoded_nodes = {}
    local any = false
    for name, seen in pairs(nodes) do
        encoded_nodes[name] = seen
        any = true
    end
    -- An empty nodes table is stored as an object marker so that decoding keeps it a table of names.
    incident.nodes = any and encoded_nodes or cjson.decode('{}')
    redis.call('HSET', KEYS[1], rule, cjson.encode(incident))
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return out
