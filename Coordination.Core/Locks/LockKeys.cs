using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The Redis keys of one lock. They all start with <c>{prefix}:{tenant}:{capability}:{name}</c>, whose braces are
/// the hash tag: a lock's keys (holds, expiries, fencing counter, queue) always share one hash slot, so every
/// script on them runs on one node of a cluster. The wait-for graph spans locks; it lives in one hash per tenant
/// under a tenant-level tag (<see cref="Graph"/>).
/// </summary>
internal sealed class LockKeys
{
    // A name starting with '}' would make the tag empty (Redis then hashes whole keys, splitting the lock across
    // slots). Names cannot contain control characters, so prefixing U+0001 keeps every name's keys distinct.
    private const char TagGuard = '\u0001';

    public LockKeys(string prefix, string tenant, string capability, string name)
    {
        Name = name;
        Capability = capability;
        Base = string.Concat(prefix, ":", tenant, ":", capability, ":{", name.StartsWith('}') ? TagGuard + name : name, "}");
    }

    public string Name { get; }

    /// <summary>"lock" or "semaphore": the kind of lock whose keys these are.</summary>
    public string Capability { get; }

    /// <summary>The hash of holds; also what release messages name.</summary>
    public string Base { get; }

    // Built on first use: an uncontended hold needs only the fast scripts' keys. A race builds equal arrays twice.
    private RedisKey[]? _all;
    private RedisKey[]? _fastAcquire;
    private RedisKey[]? _fastRelease;

    /// <summary>KEYS[1..6] of the lock scripts on the general layout.</summary>
    public RedisKey[] All => _all ??= [Base, Base + ":exp", Base + ":fence", Base + ":q", Base + ":qt", Base + ":qm"];

    /// <summary>KEYS of lock_fast_acquire.lua: the holds and the fencing counter.</summary>
    public RedisKey[] FastAcquire => _fastAcquire ??= [Base, Base + ":fence"];

    /// <summary>KEYS of lock_fast_release.lua: the holds.</summary>
    public RedisKey[] FastRelease => _fastRelease ??= [Base];

    /// <summary>
    /// The keys of lock_graph_wait.lua and lock_graph_leave.lua for a tenant's lock namespace: the wait-for graph
    /// <c>{prefix}:{tenant}:{capability}:{prefix:tenant}</c>, the tenant's waiter places (<c>…:w</c>) and the waits by
    /// owner (<c>…:o</c>), under one tenant-level hash tag.
    /// </summary>
    public static RedisKey[] Graph(string prefix, string tenant, string capability)
    {
        var graph = CoordinationKey.TenantTagged(prefix, tenant, capability);
        return [graph, graph + ":w", graph + ":o"];
    }

    /// <summary>The channel releases are published on (one per key prefix, shared by the tenants).</summary>
    public static string Channel(string prefix) => prefix + ":lock-released";
}

/// <summary>
/// The keys of recently used locks of one tenant, so a name locked again and again does not build its key strings
/// and arrays on every acquisition. Direct-mapped by the name's hash: bounded whatever the number of names, and a
/// miss (or a race of two names on one slot) only builds the keys anew.
/// </summary>
internal sealed class LockKeysCache(string prefix, string tenant)
{
    private const int Slots = 1024;
    private readonly LockKeys?[] _slots = new LockKeys?[Slots];

    public LockKeys Get(string capability, string name)
    {
        var slot = (name.GetHashCode() ^ capability.Length) & (Slots - 1);
        if (Volatile.Read(ref _slots[slot]) is { } cached && cached.Name == name && cached.Capability == capability)
        {
            return cached;
        }

        var keys = new LockKeys(prefix, tenant, capability, name);
        Volatile.Write(ref _slots[slot], keys);
        return keys;
    }
}
