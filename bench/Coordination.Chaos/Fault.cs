using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Chaos;

/// <summary>
/// One scenario's fault: <see cref="InjectAsync"/> returns when the fault is over (the server is back, the pause has
/// ended, the new replica serves); <see cref="Probes"/> name the calls whose first success after that is recovery.
/// </summary>
internal sealed record Fault(string Id, string Title, Func<ChaosContext, CancellationToken, Task> InjectAsync, Func<ChaosContext, IReadOnlyList<string>> Probes)
{
    public static IReadOnlyList<Fault> All { get; } =
    [
        new("baseline", "no fault (control)", (_, _) => Task.CompletedTask, _ => []),
        new("redis-kill", "Redis killed with -9, restarted empty after the hold", RedisKillAsync, LockProbes),
        new("redis-stop", "Redis stopped with SIGSTOP, SIGCONT after the hold", RedisStopAsync, LockProbes),
        new("client-kill", "`CLIENT KILL TYPE normal` (every client connection dropped)", ClientKillAsync, LockProbes),
        new("client-pause", "`CLIENT PAUSE 2000` (every command held 2 s)", ClientPauseAsync, LockProbes),
        new("postgres-kill", "Redis killed with -9, then PostgreSQL killed with -9 while Redis is down; PostgreSQL, then Redis restarted after the hold", PostgresKillAsync, LockProbes),
        new("api-stop", "one API replica stopped gracefully (the host's StopAsync, as on SIGTERM) under requests; a fresh one started", ApiStopAsync, ctx => [ApiWorkload.Probe(ctx.NewReplica!)]),
    ];

    private static IReadOnlyList<string> LockProbes(ChaosContext context) => [.. context.Nodes.Select(LockWorkload.Probe)];

    private static async Task RedisKillAsync(ChaosContext context, CancellationToken cancellationToken)
    {
        context.Redis.Kill();
        await Task.Delay(context.Settings.FaultHold, cancellationToken);
        await context.Redis.RestartAsync(cancellationToken);
    }

    private static async Task RedisStopAsync(ChaosContext context, CancellationToken cancellationToken)
    {
        var pid = await context.Redis.ProcessIdAsync();
        await ProcessUtil.SignalAsync(pid, "STOP");
        try
        {
            await Task.Delay(context.Settings.FaultHold, cancellationToken);
        }
        finally
        {
            await ProcessUtil.SignalAsync(pid, "CONT");
        }
    }

    private static async Task ClientKillAsync(ChaosContext context, CancellationToken cancellationToken) =>
        _ = await context.Redis.CliAsync("CLIENT", "KILL", "TYPE", "normal");

    private static async Task ClientPauseAsync(ChaosContext context, CancellationToken cancellationToken)
    {
        _ = await context.Redis.CliAsync("CLIENT", "PAUSE", "2000");
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
    }

    private static async Task PostgresKillAsync(ChaosContext context, CancellationToken cancellationToken)
    {
        context.Redis.Kill();

        // The nodes move to PostgreSQL first (sessions, key/value); then that dies too.
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        await context.Postgres.KillAsync(cancellationToken);
        await Task.Delay(context.Settings.FaultHold, cancellationToken);
        await context.Postgres.RestartAsync(cancellationToken);
        await context.Redis.RestartAsync(cancellationToken);
    }

    private static async Task ApiStopAsync(ChaosContext context, CancellationToken cancellationToken)
    {
        var old = context.Api.First();
        await old.StopAsync();
        context.Api.TakeOut(old);
        _ = context.Api.Add(context.StartReplica());
        await Task.CompletedTask.WaitAsync(cancellationToken);
    }
}
