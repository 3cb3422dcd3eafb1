using System.Globalization;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>Command-line settings. The defaults are the full run of issue 17: 1, 16 and 64 callers, 5 s per client and cell.</summary>
internal sealed record EndToEndSettings
{
    /// <summary>The caller count the report's "Against the target" section calls moderate load.</summary>
    public const int ModerateCallers = 16;

    public IReadOnlyList<int> Callers { get; init; } = [1, ModerateCallers, 64];

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);

    public string? Note { get; init; }

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public IReadOnlyList<string> Arguments { get; init; } = [];

    public const string Usage = """
        Coordination.Benchmarks.EndToEnd: one mixed workload (cache get and put, lock acquire + release, session get,
        rate-limit acquire) through the HTTP API (two Coordination.Api replicas hosted in this process on Kestrel,
        called in turn), through the library directly (AddCoordination), and a trivial ASP.NET Core endpoint as the
        framework's ceiling; all against one throwaway redis-server, in rotating order within each cell.

          dotnet run -c Release --project bench/Coordination.Benchmarks.EndToEnd -- [options]

          --callers <list>      comma-separated caller counts (default 1,16,64)
          --duration <s>        measured seconds per client and cell, split into one round per client (default 5; e.g. 2 for a smoke run)
          --warmup <s>          unmeasured seconds per client before each cell (default 1)
          --note <text>         a line for the report, e.g. which code was measured
          --output <path>       report path (default docs/benchmarks-endtoend.md in the repository)
          --no-write            print only
        """;

    public static EndToEndSettings Parse(string[] args)
    {
        var settings = new EndToEndSettings { Arguments = args };
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                throw new ArgumentException("Options:");
            }

            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            settings = args[i] switch
            {
                "--callers" => settings with { Callers = CallerCounts(Next()) },
                "--duration" => settings with { Duration = Positive(BenchmarkConsole.Seconds(Next())) },
                "--warmup" => settings with { Warmup = NotNegative(BenchmarkConsole.Seconds(Next())) },
                "--note" => settings with { Note = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return settings;
    }

    private static int[] CallerCounts(string value)
    {
        var counts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchmarkConsole.Positive).ToArray();
        return counts.Length > 0 && counts.All(c => c <= 4096)
            ? counts
            : throw new ArgumentException($"'{value}' must name 1 to 4096 callers per cell, comma-separated.");
    }

    private static TimeSpan Positive(TimeSpan value) =>
        value > TimeSpan.Zero ? value : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds} s must be positive."));

    private static TimeSpan NotNegative(TimeSpan value) =>
        value >= TimeSpan.Zero ? value : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds} s must not be negative."));
}
