using System.Globalization;

namespace Coordination.Benchmarks.Locks;

/// <summary>Command-line settings. The defaults keep a full run (diagnostics included) under about three minutes.</summary>
internal sealed record LockBenchSettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(4);

    public TimeSpan ContendedDuration { get; init; } = TimeSpan.FromSeconds(6);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    public IReadOnlyList<int> Callers { get; init; } = [1, 64];

    public int Waiters { get; init; } = 64;

    public TimeSpan Hold { get; init; } = TimeSpan.FromTicks(1_000); // 100 µs

    public TimeSpan TimeToLive { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan RedLockRetry { get; init; } = TimeSpan.FromMilliseconds(10);

    public (TimeSpan Min, TimeSpan Max) TunedBusyWait { get; init; } = (TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(10));

    public bool Diagnostics { get; init; } = true;

    public string? Redis { get; init; }

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public const string Usage = """
        Coordination.Benchmarks.Locks: our IDistributedLockManager against raw StackExchange.Redis, RedLock.net and
        DistributedLock.Redis, uncontended and contended, in one run against one redis-server.

          dotnet run -c Release --project bench/Coordination.Benchmarks.Locks -- [options]

          --duration <s>            measured seconds per client and uncontended cell (default 4; two halves, ABCD DCBA order)
          --contended <s>           measured seconds per contended variant (default 6; two halves, forward then reverse order)
          --warmup <s>              warm-up seconds before each client's cell (default 1)
          --callers <list>          uncontended callers, comma-separated (default 1,64)
          --waiters <n>             contended waiters on the one lock (default 64)
          --hold-us <n>             microseconds of work while holding the contended lock (default 100)
          --ttl <s>                 every client's lock time to live (default 30)
          --wait <s>                every waiting client's wait timeout (default 30)
          --redlock-retry <ms>      RedLock.net retry interval while waiting (default 10, its minimum)
          --busy-wait <min,max>     the tuned DistributedLock.Redis busy-wait sleep range in ms (default 1,10)
          --no-diagnostics          skip the diagnostic rows (ours with tracing off, ours' Lua scripts alone, ours contended
                                    without deadlock detection); saves about 35 s
          --redis <host:port>       use this server instead of starting redis-server
          --output <path>           report path (default docs/benchmarks-locks.md in the repository)
          --no-write                print only
        """;

    public static LockBenchSettings Parse(string[] args)
    {
        var settings = new LockBenchSettings { Arguments = args };
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                throw new ArgumentException("Options:");
            }

            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            settings = args[i] switch
            {
                "--duration" => settings with { Duration = BenchmarkConsole.Seconds(Next()) },
                "--contended" => settings with { ContendedDuration = BenchmarkConsole.Seconds(Next()) },
                "--warmup" => settings with { Warmup = BenchmarkConsole.Seconds(Next()) },
                "--callers" => settings with { Callers = [.. Next().Split(',').Select(BenchmarkConsole.Positive)] },
                "--waiters" => settings with { Waiters = BenchmarkConsole.Positive(Next()) },
                "--hold-us" => settings with { Hold = TimeSpan.FromTicks(10L * int.Parse(Next(), CultureInfo.InvariantCulture)) },
                "--ttl" => settings with { TimeToLive = BenchmarkConsole.Seconds(Next()) },
                "--wait" => settings with { WaitTimeout = BenchmarkConsole.Seconds(Next()) },
                "--redlock-retry" => settings with { RedLockRetry = TimeSpan.FromMilliseconds(BenchmarkConsole.Positive(Next())) },
                "--busy-wait" => settings with { TunedBusyWait = Range(Next()) },
                "--no-diagnostics" => settings with { Diagnostics = false },
                "--redis" => settings with { Redis = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        return settings;
    }

    private static (TimeSpan, TimeSpan) Range(string value)
    {
        var parts = value.Split(',');
        return parts.Length == 2
            ? (TimeSpan.FromMilliseconds(BenchmarkConsole.Positive(parts[0])), TimeSpan.FromMilliseconds(BenchmarkConsole.Positive(parts[1])))
            : throw new ArgumentException($"'{value}' is not 'min,max'.");
    }
}
