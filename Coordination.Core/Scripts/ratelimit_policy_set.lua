-- Creates or replaces a rate-limit policy (platform-wide) or a tenant's override of one, within the bounds, and moves
-- the version every node compares against to see that something changed.
-- KEYS[1]: the policies, a hash {policy name -> definition, '#version' -> counter}.
-- KEYS[2]: the overrides of the policy, a hash {tenant -> definition}.
-- ARGV[1]: 'policy' or 'override'. ARGV[2]: the policy name. ARGV[3]: the tenant (overrides). ARGV[4]: the definition.
-- ARGV[5]: the most policies kept. ARGV[6]: the most overrides per policy. ARGV[7]: '1' when configuration defines
-- the policy (an override needs the policy to exist, in configuration or here).
-- Returns {1, version} when stored; {0, 'policies'} or {0, 'overrides'} when a bound refused it; {0, 'missing'} when
-- an override names a policy that does not exist.
if ARGV[1] == 'policy' then
    if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
        local stored = redis.call('HLEN', KEYS[1]) - redis.call('HEXISTS', KEYS[1], '#version')
        if stored >= tonumber(ARGV[5]) then
            return {0, 'policies'}
        end
    end
    redis.call('HSET', KEYS[1], ARGV[2], ARGV[4])
else
    if ARGV[7] ~= '1' and redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then
        return {0, 'missing'}
    end
    if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[6]) then
        return {0, 'overrides'}
    end
    redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
end
return {1, redis.call('HINCRBY', KEYS[1], '#version', 1)}
