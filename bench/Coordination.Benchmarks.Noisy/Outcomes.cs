using System.Collections.Concurrent;
using System.Globalization;

namespace Coordination.Benchmarks.Noisy;

/// <summary>How many requests ended with each HTTP status, or with each exception type; safe for concurrent callers.</summary>
internal sealed class Outcomes
{
    private readonly ConcurrentDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public long Total => _counts.Values.Sum();

    public void Record(int status) => _counts.AddOrUpdate(status.ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);

    public void Record(Exception exception) => _counts.AddOrUpdate(exception.GetType().Name, 1, (_, n) => n + 1);

    public void Record(string what) => _counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    /// <summary>"204: 1,234, 429: 56" in status order, exceptions last; "none" when nothing was recorded.</summary>
    public string Describe() =>
        _counts.IsEmpty
            ? "none"
            : string.Join(", ", _counts.OrderBy(c => char.IsDigit(c.Key[0]) ? 0 : 1).ThenBy(c => c.Key, StringComparer.Ordinal)
                .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key}: {c.Value:N0}")));
}
