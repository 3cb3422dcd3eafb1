using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Coordination.Chaos;

/// <summary>
/// Workers create sessions (one user each) and update a counter field of one of their sessions through either node.
/// After recovery every session whose creation was acknowledged is read back through both nodes: it must exist and
/// hold its last acknowledged counter (or a later or failed write's).
/// </summary>
internal sealed class SessionWorkload(Recorder recorder, IReadOnlyList<LibraryNode> nodes, SessionDiagnosis diagnosis)
{
    public const string LostInvariant = "session: acknowledged write not read back";
    public const int Workers = 4;
    public const int SessionsPerWorker = 50;
    public static readonly TimeSpan ReplayWait = TimeSpan.FromSeconds(5);

    private readonly List<Tracked>[] _sessions = [.. Enumerable.Range(0, Workers).Select(_ => new List<Tracked>())];

    public PauseGate Gate { get; } = new();

    public Task[] Start(CancellationToken cancellationToken) =>
    [
        .. Enumerable.Range(0, Workers).Select(worker => { Gate.Register(); return Task.Run(() => RunAsync(worker, cancellationToken), cancellationToken); }),
    ];

    /// <summary>
    /// With the workers paused: every acknowledged session read back through both nodes. A session that reads older is
    /// read again for up to <see cref="ReplayWait"/>: a change made in the PostgreSQL copy during the outage reaches
    /// Redis by the replay, which the node that made it runs at its next session call once Redis answers
    /// (docs/sessions.md, "While Redis is unavailable"); only what is still older then is a violation.
    /// </summary>
    public async Task VerifyAsync(ScenarioStats stats, CancellationToken cancellationToken)
    {
        await Gate.PauseAsync(cancellationToken);
        try
        {
            var pending = new List<(Tracked Session, LibraryNode Node)>();
            foreach (var tracked in _sessions.SelectMany(s => s).Where(t => t.Acknowledged >= 0))
            {
                foreach (var node in nodes)
                {
                    stats.Check(LostInvariant);
                    if (await ReadsBackAsync(node, tracked, stats, cancellationToken) is false)
                    {
                        pending.Add((tracked, node));
                    }
                }
            }

            if (pending.Count == 0)
            {
                return;
            }

            var first = pending.Count;
            var started = Stopwatch.GetTimestamp();
            while (pending.Count > 0 && Stopwatch.GetElapsedTime(started) < ReplayWait)
            {
                await Task.Delay(100, cancellationToken);
                var still = new List<(Tracked Session, LibraryNode Node)>();
                foreach (var (tracked, node) in pending)
                {
                    if (await ReadsBackAsync(node, tracked, stats, cancellationToken) is false)
                    {
                        still.Add((tracked, node));
                    }
                }

                pending = still;
            }

            stats.Notes.Enqueue(string.Create(CultureInfo.InvariantCulture, $"session read-back: {first} reads older than the acknowledged write at first, {first - pending.Count} of them current within {Stopwatch.GetElapsedTime(started).TotalMilliseconds:N0} ms (the replay), {pending.Count} not within {ReplayWait.TotalSeconds:0} s"));
            foreach (var (tracked, node) in pending)
            {
                stats.Violation(LostInvariant);
                var read = await ReadBackAsync(node, tracked.Id, stats, cancellationToken);
                long? counter = read?.Value is { } found && found.Data.TryGetValue("n", out var n) ? n.GetInt64() : null;
                stats.Notes.Enqueue($"session {tracked.Id} via {node.Name}: {(read?.Value is null ? "not found" : $"n = {counter} (version {read.Value.Version})")}, acknowledged {tracked.Acknowledged}, attempted {tracked.Attempted}; {await diagnosis.DescribeAsync(tracked.Owner!, cancellationToken)}");
            }
        }
        finally
        {
            Gate.Resume();
        }
    }

    /// <summary>True when the session reads back with an accepted counter, false when not, null when it could not be read.</summary>
    private static async Task<bool?> ReadsBackAsync(LibraryNode node, Tracked tracked, ScenarioStats stats, CancellationToken cancellationToken)
    {
        if (await ReadBackAsync(node, tracked.Id, stats, cancellationToken) is not { } read)
        {
            return null;
        }

        return read.Value is { } found && found.Data.TryGetValue("n", out var n) && tracked.Accepts(n.GetInt64());
    }

    private static async Task<StrongBox?> ReadBackAsync(LibraryNode node, string id, ScenarioStats stats, CancellationToken cancellationToken)
    {
        // After recovery a read can still meet a closing circuit: retried for 10 s, then reported as not verified.
        var deadline = Stopwatch.GetTimestamp() + (10 * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                return new StrongBox(await node.Coordinator.Sessions.GetAsync(id, cancellationToken));
            }
            catch (CoordinationUnavailableException ex) when (Stopwatch.GetTimestamp() < deadline)
            {
                _ = ex;
                await Task.Delay(100, cancellationToken);
            }
            catch (CoordinationUnavailableException ex)
            {
                stats.Notes.Enqueue($"session {id} via {node.Name} not verified: {ex.Reason}");
                return null;
            }
        }
    }

    private async Task RunAsync(int worker, CancellationToken cancellationToken)
    {
        var sessions = _sessions[worker];
        var random = new Random(worker);
        var created = 0;
        for (var call = 0; !cancellationToken.IsCancellationRequested; call++)
        {
            await Gate.CheckAsync(cancellationToken);
            var node = nodes[call % nodes.Count];
            var start = Stopwatch.GetTimestamp();
            if (sessions.Count < SessionsPerWorker && call % 4 == 0)
            {
                try
                {
                    var user = string.Create(CultureInfo.InvariantCulture, $"chaos-user-{worker}-{created++}");
                    var session = await node.Coordinator.Sessions.CreateAsync(user, new Dictionary<string, JsonElement> { ["n"] = JsonSerializer.SerializeToElement(0) }, cancellationToken: cancellationToken);
                    sessions.Add(new Tracked(session.Id) { Owner = user, Acknowledged = 0, Attempted = 0 });
                    recorder.Current.Success(start);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    recorder.Failure(start, "session create", ex);
                    await Delay(5, cancellationToken);
                }

                continue;
            }

            if (sessions.Count == 0)
            {
                continue;
            }

            var tracked = sessions[random.Next(sessions.Count)];
            var next = tracked.Attempted + 1;
            tracked.Attempted = next;
            try
            {
                var updated = await node.Coordinator.Sessions.UpdateAsync(tracked.Id, new Dictionary<string, JsonElement?> { ["n"] = JsonSerializer.SerializeToElement(next) }, cancellationToken: cancellationToken);
                if (updated is null)
                {
                    // The API's documented answer for a session that does not exist: counted, and the read-back decides.
                    recorder.Current.Failure(start, "session update: not found (null)", expected: true);
                    tracked.Failed.Add(next);
                }
                else
                {
                    tracked.Acknowledged = next;
                    recorder.Current.Success(start);
                    if (!updated.Data.TryGetValue("n", out var answered) || answered.GetInt64() != next)
                    {
                        recorder.Current.Notes.Enqueue($"session {tracked.Id}: update to {next} answered n = {(updated.Data.TryGetValue("n", out var a) ? a.GetInt64() : null)}");
                    }
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                tracked.Failed.Add(next);
                recorder.Failure(start, "session update", ex);
                await Delay(5, cancellationToken);
            }

            await Delay(1, cancellationToken);
        }
    }

    private static async Task Delay(int milliseconds, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private sealed record StrongBox(Session? Value);
}
