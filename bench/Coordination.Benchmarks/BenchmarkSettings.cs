using System.Globalization;

namespace Coordination.Benchmarks;

/// <summary>Command-line settings. Every option has a default that keeps a full run under about two minutes.</summary>
internal sealed record BenchmarkSettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    public IReadOnlyList<int> Concurrency { get; init; } = [1, 64];

    public string? Redis { get; init; }

    public int ValueBytes { get; init; } = 100;

    public int Keys { get; init; } = 1_000;

    public TimeSpan FailFastDuration { get; init; } = TimeSpan.FromSeconds(2);

    public int ReconnectRuns { get; init; } = 3;

    public TimeSpan Downtime { get; init; } = TimeSpan.FromSeconds(1);

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public bool DisableTracing { get; init; }

    public bool TraceRedisCommands { get; init; }

    public bool Breakdown { get; init; }

    /// <summary>Coordination:Quotas:MaxKeysPerTenant of the coordinator; null keeps the default.</summary>
    public int? KeyQuota { get; init; }

    /// <summary>A PostgreSQL connection string: run only the durability benchmark (docs/benchmarks-durability.md) against it.</summary>
    public string? Durability { get; init; }

    /// <summary>Total write rates at which the durability benchmark also measures the asynchronous copy's lag.</summary>
    public IReadOnlyList<int> PacedRates { get; init; } = [2_000, 10_000];

    /// <summary>Keys the durability benchmark restores after an operator's FLUSHALL, and the reload rates it does that at.</summary>
    public int RepairKeys { get; init; } = 20_000;

    public IReadOnlyList<int> RepairRates { get; init; } = [5_000, 1_000_000];

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public const string Usage = """
        Coordination.Benchmarks: raw StackExchange.Redis vs IRedisCoordinator, fail-fast and reconnect times.

          dotnet run -c Release --project bench/Coordination.Benchmarks -- [options]

          --duration <s>         measured seconds per client and cell (default 5; split in two halves, ABBA order)
          --warmup <s>           warm-up seconds per client and cell (default 1)
          --concurrency <list>   concurrent callers, comma-separated (default 1,64)
          --value-bytes <n>      payload size on the wire (default 100)
          --keys <n>             distinct keys (default 1000)
          --failfast <s>         seconds per fail-fast measurement (default 2)
          --reconnect-runs <n>   kill -9 + restart repetitions (default 3; 0 skips; needs our own server)
          --downtime <ms>        how long the server stays dead before the restart (default 1000)
          --redis <host:port>    use this server instead of starting redis-server (skips the reconnect test)
          --output <path>        markdown report path (default docs/benchmarks.md in the repository)
          --disable-tracing      run the coordinator with Aspire:StackExchange:Redis:DisableTracing=true
          --trace-redis-commands run the coordinator with Coordination:TraceRedisCommands=true (a span per command)
          --breakdown            also time GET through each layer of the coordinator (adds about 20 s)
          --key-quota <n>        run the coordinator with Coordination:Quotas:MaxKeysPerTenant=n (0: no quota, a plain SET)
          --durability <conn>    run only the durable-copy benchmark (raw SET vs asynchronous vs synchronous copy, and the
                                 copy's lag) with the fallback store at this PostgreSQL connection string; writes
                                 docs/benchmarks-durability.md
          --paced <list>         with --durability: total write rates (per second, comma-separated) at which the copy's lag
                                 is also measured (default 2000,10000)
          --repair-keys <n>      with --durability: keys restored after a FLUSHALL (default 20000)
          --repair-rates <list>  with --durability: Coordination:Fallback:RepairRowsPerSecond of each repair run
                                 (default 5000,1000000: the default, and as fast as it goes)
          --no-write             print only
        """;

    public static BenchmarkSettings Parse(string[] args)
    {
        var settings = new BenchmarkSettings { Arguments = args };
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
                "--warmup" => settings with { Warmup = BenchmarkConsole.Seconds(Next()) },
                "--concurrency" => settings with { Concurrency = [.. Next().Split(',').Select(c => BenchmarkConsole.Positive(c))] },
                "--value-bytes" => settings with { ValueBytes = BenchmarkConsole.Positive(Next()) },
                "--keys" => settings with { Keys = BenchmarkConsole.Positive(Next()) },
                "--failfast" => settings with { FailFastDuration = BenchmarkConsole.Seconds(Next()) },
                "--reconnect-runs" => settings with { ReconnectRuns = int.Parse(Next(), CultureInfo.InvariantCulture) },
                "--downtime" => settings with { Downtime = TimeSpan.FromMilliseconds(BenchmarkConsole.Positive(Next())) },
                "--redis" => settings with { Redis = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                "--durability" => settings with { Durability = Next() },
                "--paced" => settings with { PacedRates = [.. Next().Split(',').Select(c => BenchmarkConsole.Positive(c))] },
                "--repair-keys" => settings with { RepairKeys = BenchmarkConsole.Positive(Next()) },
                "--repair-rates" => settings with { RepairRates = [.. Next().Split(',').Select(c => BenchmarkConsole.Positive(c))] },
                "--disable-tracing" => settings with { DisableTracing = true },
                "--trace-redis-commands" => settings with { TraceRedisCommands = true },
                "--breakdown" => settings with { Breakdown = true },
                "--key-quota" => settings with { KeyQuota = int.Parse(Next(), CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"Unknown option '{args[i]}'."),
            };
        }

        return settings;
    }
}
