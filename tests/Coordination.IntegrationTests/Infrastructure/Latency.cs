using System.Globalization;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Percentiles of measured durations.</summary>
public static class Latency
{
    /// <summary>The nearest-rank percentile (0..100) of <paramref name="values"/>.</summary>
    public static double Percentile(IReadOnlyCollection<double> values, double percentile)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public static string Format(double milliseconds) => milliseconds.ToString("F3", CultureInfo.InvariantCulture) + " ms";
}
