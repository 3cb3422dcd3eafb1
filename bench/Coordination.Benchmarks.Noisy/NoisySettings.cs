using System.Globalization;

namespace Coordination.Benchmarks.Noisy;

/// <summary>Command-line settings. The defaults are the full run of issue 12: 30 s phases, every attack (about 8 minutes).</summary>
internal sealed record NoisySettings
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(3);

    public int Rate { get; init; } = 200;

    public int Concurrency { get; init; } = 32;

    public int LockWaiters { get; init; } = 256;

    public IReadOnlyList<string> Attacks { get; init; } = [.. Attack.All.Select(a => a.Id)];

    public bool Postgres { get; init; } = true;

    public string? Note { get; init; }

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public const string Usage = """
        Coordination.Benchmarks.Noisy: tenant A attacks the HTTP API (Coordination.Api, hosted in this process on
        Kestrel on loopback) while tenant B sends a fixed-rate mix; B alone and B under each attack, interleaved, in
        one run against one redis-server (and one PostgreSQL for the fallback).

          dotnet run -c Release --project bench/Coordination.Benchmarks.Noisy -- [options]

          --duration <s>        seconds per phase: B alone, then B under the attack (default 30; e.g. 3 for a smoke run)
          --settle <s>          unmeasured pause after each attack, so its backlog drains (default 3)
          --rate <n>            tenant B's requests per second, open loop (default 200)
          --concurrency <n>     tenant A's requests in flight per attack (default 32)
          --lock-waiters <n>    tenant A's waiting lock acquisitions in the lock attack (default 256)
          --attacks <list>      comma-separated attack ids (default all: control,stamps,lock-waiters,memory,mirror,minting,invalidation-log,status-auth)
          --no-postgres         no PostgreSQL fallback (the mirror attack then only writes to Redis)
          --note <text>         a line for the report, e.g. which code was measured
          --output <path>       report path (default docs/benchmarks-noisy.md in the repository)
          --no-write            print only
        """;

    public static NoisySettings Parse(string[] args)
    {
        var settings = new NoisySettings { Arguments = args };
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                throw new ArgumentException("Options:");
            }

            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            settings = args[i] switch
            {
                "--duration" => settings with { Duration = Seconds(Next()) },
                "--settle" => settings with { Settle = Seconds(Next()) },
                "--rate" => settings with { Rate = Positive(Next()) },
                "--concurrency" => settings with { Concurrency = Positive(Next()) },
                "--lock-waiters" => settings with { LockWaiters = Positive(Next()) },
                "--attacks" => settings with { Attacks = KnownAttacks(Next()) },
                "--no-postgres" => settings with { Postgres = false },
                "--note" => settings with { Note = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return settings;
    }

    private static string[] KnownAttacks(string value)
    {
        var ids = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = ids.Where(id => Attack.All.All(a => a.Id != id)).ToArray();
        return unknown.Length == 0 && ids.Length > 0
            ? ids
            : throw new ArgumentException($"Unknown attack(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Attack.All.Select(a => a.Id))}.");
    }

    private static TimeSpan Seconds(string value)
    {
        var seconds = double.Parse(value, CultureInfo.InvariantCulture);
        return seconds >= 0 ? TimeSpan.FromSeconds(seconds) : throw new ArgumentException($"{value} must not be negative.");
    }

    private static int Positive(string value)
    {
        var parsed = int.Parse(value, CultureInfo.InvariantCulture);
        return parsed > 0 ? parsed : throw new ArgumentException($"{value} must be positive.");
    }
}
