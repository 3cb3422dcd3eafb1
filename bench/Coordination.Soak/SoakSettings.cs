using System.Globalization;
using Coordination.Benchmarks;

namespace Coordination.Soak;

/// <summary>Command-line settings. The defaults are the soak of the issue: 10 minutes, 32 callers, a sample every 10 s.</summary>
internal sealed record SoakSettings
{
    /// <summary>How much the memory of the last third may grow over the middle third and still be flat.</summary>
    public const double DefaultThreshold = 0.10;

    /// <summary>
    /// Growth always allowed, whatever the threshold: 2 MiB. The GC heap of the run is about 10 MiB and moves by a few
    /// MiB between samples with the collections (seen in one-minute trials), so 10 % of it is below its own noise.
    /// </summary>
    public const long MemoryFloorBytes = 2 * 1024 * 1024;

    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(10);

    public int Callers { get; init; } = 32;

    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(10);

    public double Threshold { get; init; } = DefaultThreshold;

    public bool Postgres { get; init; } = true;

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The unjudged start of the run: the first 2 minutes, or the first 20 % of a shorter run.</summary>
    public TimeSpan Warmup => TimeSpan.FromTicks(Math.Min(TimeSpan.FromMinutes(2).Ticks, Duration.Ticks / 5));

    public const string Usage = """
        Coordination.Soak: a steady mixed workload through the library (AddCoordination) against its own redis-server
        and PostgreSQL 15 (the fallback), sampled at intervals: throughput, errors, memory (working set, GC heap),
        GC counts, threads, and the connection counts of the pool, of Redis and of PostgreSQL. Verdict: flat or not
        (exit code 0 or 1). Not for CI: the full run takes ten minutes on an otherwise idle machine.

          dotnet run -c Release --project bench/Coordination.Soak -- [options]

          --minutes <m>         length of the run (default 10; fractions allowed)
          --callers <n>         concurrent callers (default 32)
          --sample-seconds <s>  seconds between samples (default 10)
          --threshold <pct>     allowed growth of memory, last third over middle third, in percent (default 10;
                                growth below 2 MiB always passes)
          --no-postgres         no PostgreSQL and no fallback: Redis only
          --output <path>       report path (default docs/soak.md in the repository)
          --no-write            print only
        """;

    public static SoakSettings Parse(string[] args)
    {
        var settings = new SoakSettings { Arguments = args };
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                throw new ArgumentException("Options:");
            }

            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            settings = args[i] switch
            {
                "--minutes" => settings with { Duration = TimeSpan.FromMinutes(PositiveNumber(Next())) },
                "--callers" => settings with { Callers = BenchmarkConsole.Positive(Next()) },
                "--sample-seconds" => settings with { SampleInterval = TimeSpan.FromSeconds(PositiveNumber(Next())) },
                "--threshold" => settings with { Threshold = PositiveNumber(Next()) / 100 },
                "--no-postgres" => settings with { Postgres = false },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        if (settings.Duration < settings.SampleInterval * 6)
        {
            throw new ArgumentException("The run must last at least six sample intervals (two samples per third of the run).");
        }

        return settings;
    }

    public string Command()
    {
        var arguments = Arguments.Count == 0 ? string.Empty : " -- " + string.Join(' ', Arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        return "dotnet run -c Release --project bench/Coordination.Soak" + arguments;
    }

    private static double PositiveNumber(string value)
    {
        var number = double.Parse(value, CultureInfo.InvariantCulture);
        return number > 0 ? number : throw new ArgumentException($"'{value}' must be positive.");
    }
}
