using System.Text.Json;
using StackExchange.Redis;

namespace Coordination;

/// <summary>The duties' shared schedule and state in Redis (<see cref="DutyKeys"/>), written by duty_begin.lua and duty_record.lua.</summary>
internal sealed class DutyState(RedisExecutor executor, string keyPrefix)
{
    /// <summary>How long the state is kept after the last run of any duty.</summary>
    private static readonly long KeepMilliseconds = (long)TimeSpan.FromDays(30).TotalMilliseconds;

    /// <summary>The longest error text recorded.</summary>
    public const int MaxErrorLength = 200;

    private readonly RedisKey _state = DutyKeys.State(keyPrefix);
    private readonly RedisKey _schedule = DutyKeys.Schedule(keyPrefix);

    /// <summary>Redis's time and when <paramref name="duty"/> is next due (0: never ran), both Unix ms.</summary>
    public async Task<(long Now, long Due)> BeginAsync(string duty, CancellationToken cancellationToken)
    {
        var result = await executor.ExecuteAsync(
            "duty.begin",
            idempotent: true,
            static (db, s) => RedisScript.DutyBegin.EvaluateByShaAsync(db, [s.Key], [s.Duty]),
            (Key: _schedule, Duty: duty),
            cancellationToken);
        var values = (long[])result!;
        return (values[0], values[1]);
    }

    /// <summary>Records a finished run; returns Redis's time at the end, when the duty is next due, and its run and failure counts.</summary>
    public async Task<(long Now, long Due, long Runs, long Failures)> RecordAsync(
        string duty, string node, long startedMs, TimeSpan interval, bool succeeded, string? error, CancellationToken cancellationToken)
    {
        RedisValue[] args =
        [
            duty,
            JsonSerializer.Serialize(duty),
            JsonSerializer.Serialize(node),
            startedMs,
            (long)interval.TotalMilliseconds,
            succeeded ? "ok" : "failed",
            error is null ? "null" : JsonSerializer.Serialize(Bound(error)),
            KeepMilliseconds,
        ];
        var result = await executor.ExecuteAsync(
            "duty.record",
            idempotent: false,
            static (db, s) => RedisScript.DutyRecord.EvaluateByShaAsync(db, [s.State, s.Schedule], s.Args),
            (State: _state, Schedule: _schedule, Args: args),
            cancellationToken);
        var values = (long[])result!;
        return (values[0], values[1], values[2], values[3]);
    }

    private static string Bound(string error) => error.Length <= MaxErrorLength ? error : error[..MaxErrorLength];
}
