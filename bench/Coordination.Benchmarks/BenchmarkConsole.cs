using System.Globalization;

namespace Coordination.Benchmarks;

/// <summary>What every benchmark's entry point does before it measures anything.</summary>
internal static class BenchmarkConsole
{
    /// <summary>Parses the command line, or prints why it cannot and the usage, and returns null (exit code 2).</summary>
    public static T? ParseOrExplain<T>(Func<string[], T> parse, string usage, string[] args)
        where T : class
    {
        try
        {
            return parse(args);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(usage);
            return null;
        }
    }

    /// <summary>A source that Ctrl+C cancels, so the run stops its servers and hosts instead of dying.</summary>
    public static CancellationTokenSource CancelOnCtrlC()
    {
        var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        return cancellation;
    }

    /// <summary>A command-line value in seconds (invariant culture, fractions allowed).</summary>
    public static TimeSpan Seconds(string value) => TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture));

    /// <summary>A command-line count that must be above zero.</summary>
    /// <exception cref="ArgumentException">The value is zero or negative.</exception>
    public static int Positive(string value)
    {
        var number = int.Parse(value, CultureInfo.InvariantCulture);
        return number > 0 ? number : throw new ArgumentException($"'{value}' must be positive.");
    }
}
