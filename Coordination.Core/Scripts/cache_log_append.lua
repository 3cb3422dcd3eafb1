-- Appends an invalidation to a tenant's bounded log and announces it on the backplane channel.
-- KEYS[1]: the tenant's invalidation log stream ({prefix}:{tenant}:cache-log); only this tenant's invalidations trim it.
-- ARGV[1]: the backplane channel; ARGV[2]: the log's maximum length (exact trim);
-- ARGV[3]: the sending node; ARGV[4]: kind (k key, m several keys, t tags, p prefix); ARGV[5]: tenant;
-- ARGV[6]: argument (for m the keys separated by newlines; a key has no control characters).
-- The entry leaves the tenant out (its log names it). Returns the entry id. The message is "{id}\n{node}\n{kind}\n{tenant}\n{argument}".
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'n', ARGV[3], 'k', ARGV[4], 'a', ARGV[6])
redis.call('PUBLISH', ARGV[1], id .. '\n' .. ARGV[3] .. '\n' .. ARGV[4] .. '\n' .. ARGV[5] .. '\n' .. ARGV[6])
return id
