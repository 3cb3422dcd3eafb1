-- Records a finished run of a worker duty: its state (the JSON /v1/status shows) and when it is next due.
-- KEYS[1]: the duties' state (hash: field = duty name, value = JSON {"name","node","lastRunStartedAt",
-- "lastRunEndedAt","result","error","nextRunAt","runs","failures"}, times ISO-8601 UTC).
-- KEYS[2]: the duties' schedule and counters (hash: "{name}:next" in Unix ms, "{name}:runs", "{name}:failures").
-- ARGV[1]: the duty's name. ARGV[2]: the name as a JSON string. ARGV[3]: the node as a JSON string.
-- ARGV[4]: when the run started (Unix ms of Redis's clock, from duty_begin.lua). ARGV[5]: the interval (ms).
-- ARGV[6]: 'ok' or 'failed'. ARGV[7]: the error as a JSON string, or 'null'.
-- ARGV[8]: how long both hashes are kept after the last run of any duty (ms).
-- Returns {now, next, runs, failures}: Redis's time at the end of the run, when the duty is next due (start plus
-- interval, or now when the run overran its interval), and the counts of runs and failures over every node.
local function iso(ms)
    local s = math.floor(ms / 1000)
    local days = math.floor(s / 86400)
    local rem = s - days * 86400
    -- Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    local z = days + 719468
    local era = math.floor(z / 146097)
    local doe = z - era * 146097
    local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
    local y = yoe + era * 400
    local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
    local mp = math.floor((5 * doy + 2) / 153)
    local d = doy - math.floor((153 * mp + 2) / 5) + 1
    local m = mp < 10 and mp + 3 or mp - 9
    if m <= 2 then
        y = y + 1
    end
    return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d,
        math.floor(rem / 3600), math.floor((rem % 3600) / 60), rem % 60, ms - s * 1000)
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local name = ARGV[1]
local started = tonumber(ARGV[4])
local due = started + tonumber(ARGV[5])
if due < now then
    due = now
end
local runs = redis.call('HINCRBY', KEYS[2], name .. ':runs', 1)
local failures
if ARGV[6] == 'failed' then
    failures = redis.call('HINCRBY', KEYS[2], name .. ':failures', 1)
else
    failures = tonumber(redis.call('HGET', KEYS[2], name .. ':failures')) or 0
end
redis.call('HSET', KEYS[2], name .. ':next', due)
redis.call('HSET', KEYS[1], name, '{"name":' .. ARGV[2] .. ',"node":' .. ARGV[3]
    .. ',"lastRunStartedAt":"' .. iso(started) .. '","lastRunEndedAt":"' .. iso(now)
    .. '","result":"' .. ARGV[6] .. '","error":' .. ARGV[7] .. ',"nextRunAt":"' .. iso(due)
    .. '","runs":' .. runs .. ',"failures":' .. failures .. '}')
redis.call('PEXPIRE', KEYS[1], ARGV[8])
redis.call('PEXPIRE', KEYS[2], ARGV[8])
return {now, due, runs, failures}
