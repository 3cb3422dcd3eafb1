-- Functions the session scripts share, inserted after each one's header (not run on its own).
-- A session is a hash: u user id, c created ms, a last access ms, i idle ms, x absolute expiry ms, v version, s the
-- schema version of its data (absent: 1; session_upgrade.lua), and one field 'd:<name>' per data entry. Its key expires at min(a + i, x). The user's index is a sorted set of the
-- user's session ids scored by their absolute expiry (x), which never moves: reads and updates slide the session's
-- own expiry and leave the index alone, so an entry can outlive its session (ended idle) until its absolute end, a
-- cleanup, or a script that lists or caps the index drops it. The session keys of its ids are computed here (prefix
-- .. the id's random part): they carry the index's hash tag, so every key a script touches is in the slot of its KEYS.

local RANDOM_LENGTH = 22
local CHUNK = 200

local function now_ms()
    local t = redis.call('TIME')
    return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function session_key(prefix, id)
    return prefix .. string.sub(id, 1, RANDOM_LENGTH)
end

-- Drops the entries of ended sessions and lets the index expire with its last session.
local function tidy_index(index, now)
    redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
    local last = redis.call('ZRANGE', index, -1, -1, 'WITHSCORES')
    if last[2] then
        redis.call('PEXPIREAT', index, last[2])
    end
end

-- Records an access: the idle expiry restarts from now, never past the absolute expiry. idle, absolute: the hash's
-- i and x (the caller has read them).
local function slide(key, idle, absolute, now)
    redis.call('HSET', key, 'a', now)
    redis.call('PEXPIREAT', key, math.min(now + idle, absolute))
end

-- HSET/HDEL in bounded argument lists (Lua's unpack has a stack limit).
local function in_chunks(command, key, items)
    for first = 1, #items, CHUNK do
        redis.call(command, key, unpack(items, first, math.min(first + CHUNK - 1, #items)))
    end
end
