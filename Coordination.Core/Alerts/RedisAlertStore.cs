using System.Globalization;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The system-wide incident table in Redis, used when no PostgreSQL is configured: one hash in the platform's
/// namespace (<c>{prefix}:#alerts:{{prefix}:#alerts}:incidents</c>, which no tenant can name) changed only by
/// <c>alert_report.lua</c>, with Redis's clock. While Redis itself is down this store cannot answer, so alerts about
/// Redis then come from each node on its own (<see cref="LocalAlertStore"/>).
/// </summary>
internal sealed class RedisAlertStore(RedisExecutor executor, string keyPrefix, AlertsOptions options) : IAlertStore
{
    // Long enough to outlive any incident's repetitions; renewed at every report.
    private static readonly TimeSpan KeyTimeToLive = TimeSpan.FromDays(30);

    private readonly RedisKey _key = $"{keyPrefix}:#alerts:{{{keyPrefix}:#alerts}}:incidents";

    public string Kind => "redis";

    public RedisKey Key => _key;

    public async Task<IReadOnlyList<AlertNotification>> ReportAsync(string node, IReadOnlyList<AlertCondition> conditions, CancellationToken cancellationToken)
    {
        var arguments = new List<RedisValue>(5 + (conditions.Count * 3))
        {
            node,
            (long)options.RepeatInterval.TotalMilliseconds,
            (long)options.NodeTimeout.TotalMilliseconds,
            (long)KeyTimeToLive.TotalMilliseconds,
            conditions.Count,
        };
        foreach (var condition in conditions)
        {
            arguments.Add(condition.Rule);
            arguments.Add(condition.Active ? "1" : "0");
            arguments.Add(condition.Details ?? string.Empty);
        }

        var result = (RedisResult[])(await executor.ExecuteAsync(
            "alerts.report",
            idempotent: false,
            static (db, s) => RedisScript.AlertReport.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: new[] { _key }, Arguments: arguments.ToArray()),
            cancellationToken))!;

        var notifications = new List<AlertNotification>(result.Length / 7);
        for (var i = 0; i + 6 < result.Length; i += 7)
        {
            var details = (string?)result[i + 4];
            notifications.Add(new AlertNotification(
                (string)result[i]!,
                (string)result[i + 1]!,
                (string)result[i + 2]!,
                DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)result[i + 3]!, CultureInfo.InvariantCulture)),
                string.IsNullOrEmpty(details) ? null : details,
                (string)result[i + 5]!,
                (string?)result[i + 6] == "1"));
        }

        return notifications;
    }
}
