using System.Globalization;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>The kinds of operation in the mixed workload.</summary>
internal enum OperationKind
{
    CacheGet,
    CachePut,
    Lock,
    SessionGet,
    RateLimit,
}

/// <summary>
/// The mixed workload both the API and the library run: the same schedule, the same data, the same names (each client
/// in its own tenant). Out of every ten operations: four cache reads (nine in ten of an entry written before the run,
/// one in ten of a key never written, so mostly hits), one cache write (of an entry that exists, so the hit rate stays),
/// one lock acquisition without waiting followed by its release, two session reads (each slides the session's idle
/// expiry), two rate-limit decisions. Each caller walks the schedule from its own offset, so at any moment the callers
/// run different kinds; keys and sessions are chosen by each caller's own seeded random sequence.
/// </summary>
internal static class Mix
{
    public const int CacheKeys = 1_000;
    public const int Sessions = 1_000;
    public const int RateLimitKeys = 256;

    /// <summary>Lock names per caller: each caller takes only its own, so an acquisition without waiting never meets a holder.</summary>
    public const int LocksPerCaller = 8;

    public const string Policy = "e2e-mix";

    /// <summary>The rate-limit policy of the mix: a token bucket far above what the run can send, so every decision is an allow.</summary>
    public static readonly RateLimitPolicy PolicyDefinition = new()
    {
        Algorithm = RateLimitAlgorithm.TokenBucket,
        Limit = 10_000_000,
        Period = TimeSpan.FromSeconds(1),
        Burst = 10_000_000,
    };

    public static readonly TimeSpan EntryTimeToLive = TimeSpan.FromHours(1);

    public static readonly TimeSpan LockTimeToLive = TimeSpan.FromSeconds(10);

    public static IReadOnlyList<OperationKind> Kinds { get; } = Enum.GetValues<OperationKind>();

    private static readonly OperationKind[] Schedule =
    [
        OperationKind.CacheGet, OperationKind.SessionGet, OperationKind.RateLimit, OperationKind.CacheGet, OperationKind.Lock,
        OperationKind.CacheGet, OperationKind.SessionGet, OperationKind.CachePut, OperationKind.RateLimit, OperationKind.CacheGet,
    ];

    public static string Describe =>
        "out of every ten operations: 4 cache get (9 in 10 of the 1,000 entries written before the run, 1 in 10 of a key never written: a 404 or miss, as expected), " +
        "1 cache put (of one of those entries, 1 h TTL), 1 lock acquire without waiting + release (a caller's own 8 names, never contended; one operation, two HTTP requests), " +
        "2 session get (one of 1,000 sessions created before the run; slides its idle expiry), 2 rate-limit acquire (token bucket of 10,000,000/s, 256 keys: always allowed)";

    public static int Weight(OperationKind kind) => Schedule.Count(k => k == kind);

    /// <summary>The kind of the <paramref name="call"/>-th operation of <paramref name="caller"/>.</summary>
    public static OperationKind KindOf(int caller, long call) => Schedule[(int)((call + (caller * 3L)) % Schedule.Length)];

    public static string Name(OperationKind kind) => kind switch
    {
        OperationKind.CacheGet => "cache get",
        OperationKind.CachePut => "cache put",
        OperationKind.Lock => "lock acquire + release",
        OperationKind.SessionGet => "session get",
        OperationKind.RateLimit => "rate-limit acquire",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>A cache read's key: whether it was written before the run, and the key.</summary>
    public static (bool Written, string Key) CacheReadKey(Random random) =>
        random.Next(10) == 0
            ? (false, string.Create(CultureInfo.InvariantCulture, $"absent-{random.Next(CacheKeys)}"))
            : (true, CacheKey(random.Next(CacheKeys)));

    public static string CacheKey(int index) => string.Create(CultureInfo.InvariantCulture, $"item-{index}");

    public static string LockName(int caller, Random random) => string.Create(CultureInfo.InvariantCulture, $"lock-{caller}-{random.Next(LocksPerCaller)}");

    public static string RateLimitKey(Random random) => string.Create(CultureInfo.InvariantCulture, $"client-{random.Next(RateLimitKeys)}");

    /// <summary>The user of the <paramref name="index"/>-th session: ten sessions per user.</summary>
    public static string SessionUser(int index) => string.Create(CultureInfo.InvariantCulture, $"user-{index / 10:D4}");

    public static Item Value(int index) => new(index, string.Create(CultureInfo.InvariantCulture, $"item {index}"), index * 1.5, ["e2e", "bench"]);
}

/// <summary>A cached value: a small JSON object (about 70 bytes).</summary>
internal sealed record Item(int Id, string Name, double Price, string[] Tags);
