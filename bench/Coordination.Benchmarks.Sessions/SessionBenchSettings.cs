using System.Globalization;

namespace Coordination.Benchmarks.Sessions;

/// <summary>Command-line settings. The defaults keep a full run around a minute.</summary>
internal sealed record SessionBenchSettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.5);

    public IReadOnlyList<int> Callers { get; init; } = [1, 64];

    public int Sessions { get; init; } = 1_000;

    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(30);

    public string? Redis { get; init; }

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public const string Usage = """
        Coordination.Benchmarks.Sessions: our ISessionManager against a raw StackExchange.Redis hash and the RedisCache
        (IDistributedCache) that ASP.NET Core's session uses, get (sliding) and create, in one run against one redis-server.

          dotnet run -c Release --project bench/Coordination.Benchmarks.Sessions -- [options]

          --duration <s>       measured seconds per client and cell (default 3; one round per client, in rotating order ABC BCA CAB)
          --warmup <s>         warm-up seconds before each client's cell (default 0.5)
          --callers <list>     concurrent callers, comma-separated (default 1,64)
          --sessions <n>       sessions pre-created per client for the get cells (default 1000)
          --idle <s>           idle (sliding) timeout of every session (default 1800)
          --redis <host:port>  use this server instead of starting redis-server
          --output <path>      report path (default docs/benchmarks-sessions.md in the repository)
          --no-write           print only
        """;

    public static SessionBenchSettings Parse(string[] args)
    {
        var settings = new SessionBenchSettings { Arguments = args };
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
                "--sessions" => settings with { Sessions = BenchmarkConsole.Positive(Next()) },
                "--idle" => settings with { IdleTimeout = BenchmarkConsole.Seconds(Next()) },
                "--redis" => settings with { Redis = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return settings.IdleTimeout > TimeSpan.Zero && settings.Duration > TimeSpan.Zero
            ? settings
            : throw new ArgumentException("--duration and --idle must be positive.");
    }
}
