using System.Globalization;

namespace Coordination.Chaos;

/// <summary>Command-line settings. The defaults are the recorded run: 20 s per scenario, seven scenarios (about 3 minutes).</summary>
internal sealed record ChaosSettings
{
    public TimeSpan ScenarioLength { get; init; } = TimeSpan.FromSeconds(20);

    public IReadOnlyList<string> Scenarios { get; init; } = [.. Fault.All.Select(f => f.Id)];

    public string? Note { get; init; }

    public string? Output { get; init; }

    public bool Write { get; init; } = true;

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>How long a fault that lasts (Redis down, stopped, PostgreSQL down) is held: 15 % of a scenario, 1..3 s.</summary>
    public TimeSpan FaultHold => TimeSpan.FromSeconds(Math.Clamp(ScenarioLength.TotalSeconds * 0.15, 1, 3));

    public const string Usage = """
        Coordination.Chaos: a mixed load through two library hosts and two API replicas (Coordination.Api hosted in
        this process on Kestrel) while faults are injected into a throwaway redis-server and PostgreSQL, one scenario
        after another; every invariant checked, every error counted by type. Exits 1 when an invariant was violated or
        an exception type outside the contract was seen.

          dotnet run -c Release --project bench/Coordination.Chaos -- [options]

          --scenario-seconds <s>  length of each scenario (default 20; e.g. 6 for a smoke run)
          --scenarios <list>      comma-separated scenario ids (default all: baseline,redis-kill,redis-stop,client-kill,client-pause,postgres-kill,api-stop)
          --note <text>           a line for the report
          --output <path>         the file whose "Chaos suite" section is replaced (default docs/reliability.md)
          --no-write              print only
        """;

    public static ChaosSettings Parse(string[] args)
    {
        var settings = new ChaosSettings { Arguments = args };
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] is "--help" or "-h")
            {
                throw new ArgumentException("Options:");
            }

            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            settings = args[i] switch
            {
                "--scenario-seconds" => settings with { ScenarioLength = AtLeast(Next(), 3) },
                "--scenarios" => settings with { Scenarios = KnownScenarios(Next()) },
                "--note" => settings with { Note = Next() },
                "--output" => settings with { Output = Next() },
                "--no-write" => settings with { Write = false },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }

        return settings;
    }

    private static string[] KnownScenarios(string value)
    {
        var ids = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = ids.Where(id => Fault.All.All(f => f.Id != id)).ToArray();
        return unknown.Length == 0 && ids.Length > 0
            ? ids
            : throw new ArgumentException($"Unknown scenario(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Fault.All.Select(f => f.Id))}.");
    }

    private static TimeSpan AtLeast(string value, double minimum)
    {
        var seconds = double.Parse(value, CultureInfo.InvariantCulture);
        return seconds >= minimum ? TimeSpan.FromSeconds(seconds) : throw new ArgumentException($"{value} must be at least {minimum} s.");
    }
}
