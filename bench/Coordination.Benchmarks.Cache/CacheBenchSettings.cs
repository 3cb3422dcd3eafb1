using System.Globalization;

namespace Coordination.Benchmarks.Cache;

/// <summary>Command-line settings. The defaults keep a full run under about two minutes.</summary>
internal sealed record CacheBenchSettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.5);

    public IReadOnlyList<int> Callers { get; init; } = [1, 64];

    public int Keys { get; init; } = 1_000;

    public string? Redis { get; init; }

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    /// <summary>Scenarios to run (l1, l2, miss); empty: all. A run with a filter never writes the report.</summary>
    public IReadOnlyList<string> Only { get; init; } = [];

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public const string Usage = """
        Coordination.Benchmarks.Cache: our ICacheManager against FusionCache, Microsoft HybridCache and raw
        StackExchange.Redis GET, in one run against one redis-server.

          dotnet run -c Release --project bench/Coordination.Benchmarks.Cache -- [options]

          --duration <s>       measured seconds per client and cell (default 3; two halves, ABC.. ..CBA order)
          --warmup <s>         warm-up seconds before each client's cell (default 0.5)
          --callers <list>     concurrent callers, comma-separated (default 1,64)
          --keys <n>           pre-warmed keys read by the hit scenarios (default 1000)
          --redis <host:port>  use this server instead of starting redis-server
          --output <path>      report path (default docs/benchmarks-cache.md in the repository)
          --no-write           print only
          --only <list>        run only these scenarios, comma-separated: l1, l2, miss (implies --no-write)
        """;

    public static CacheBenchSettings Parse(string[] args)
    {
        var settings = new CacheBenchSettings { Arguments = args };
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
                "--redis" => settings with { Redis = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                "--only" => settings with { Only = [.. Next().Split(',').Select(Scenario)], Write = false },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return settings;
    }

    private static string Scenario(string name) =>
        name is "l1" or "l2" or "miss" ? name : throw new ArgumentException($"Unknown scenario {name} (l1, l2, miss).");
}
