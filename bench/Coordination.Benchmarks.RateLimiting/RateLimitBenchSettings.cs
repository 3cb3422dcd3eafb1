using System.Globalization;

namespace Coordination.Benchmarks.RateLimiting;

/// <summary>Command-line settings. The defaults keep a full run around two minutes.</summary>
internal sealed record RateLimitBenchSettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.5);

    public IReadOnlyList<int> Callers { get; init; } = [1, 64];

    public int Keys { get; init; } = 10_000;

    public int Limit { get; init; } = 1_000;

    public TimeSpan Saturation { get; init; } = TimeSpan.FromSeconds(3);

    public string? Redis { get; init; }

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public const string Usage = """
        Coordination.Benchmarks.RateLimiting: our IRateLimitService against RedisRateLimiting (System.Threading.RateLimiting
        on Redis), decisions per second for each algorithm, and how many one saturated key admits, in one run against one
        redis-server.

          dotnet run -c Release --project bench/Coordination.Benchmarks.RateLimiting -- [options]

          --duration <s>       measured seconds per client and cell (default 3; one round per client, in rotating order)
          --warmup <s>         warm-up seconds before each client's cell (default 0.5)
          --callers <list>     concurrent callers, comma-separated (default 1,64)
          --keys <n>           distinct keys the callers spread over in the throughput cells (default 10000)
          --limit <n>          permits per second per key in the throughput cells (default 1000: nearly every call is admitted)
          --saturation <s>     seconds one key limited to 100 per second is saturated by 64 callers (default 3)
          --redis <host:port>  use this server instead of starting redis-server
          --output <path>      report path (default docs/benchmarks-ratelimiting.md in the repository)
          --no-write           print only
        """;

    public static RateLimitBenchSettings Parse(string[] args)
    {
        var settings = new RateLimitBenchSettings { Arguments = args };
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
                "--callers" => settings with { Callers = [.. Next().Split(',').Select(BenchmarkConsole.Positive)] },
                "--keys" => settings with { Keys = BenchmarkConsole.Positive(Next()) },
                "--limit" => settings with { Limit = BenchmarkConsole.Positive(Next()) },
                "--saturation" => settings with { Saturation = BenchmarkConsole.Seconds(Next()) },
                "--redis" => settings with { Redis = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return settings.Duration > TimeSpan.Zero && settings.Saturation > TimeSpan.Zero
            ? settings
            : throw new ArgumentException("--duration and --saturation must be positive.");
    }
}
