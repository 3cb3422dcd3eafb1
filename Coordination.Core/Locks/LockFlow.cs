namespace Coordination;

/// <summary>
/// The locks the current async flow takes, for re-entrancy and for the flow's owner id. A flow's record is
/// replaced (never changed) when it takes a lock, and only from the synchronous part of the public
/// <c>Acquire*</c> methods, which are deliberately not <see langword="async"/>: an <see cref="AsyncLocal{T}"/>
/// set there stays visible to the caller after the call, where one set inside an async method would not.
/// </summary>
/// <remarks>
/// Flows started while the flow holds a lock inherit its record: they act as the same owner (deadlock graph,
/// hierarchy) and re-enter only holds the record already knows, never one a sibling flow takes later (that one
/// is in the sibling's own record), so siblings still exclude each other. Entries belong to the manager that took
/// them (<c>scope</c>): two managers of the same tenant in one process behave like two processes.
/// </remarks>
internal sealed class LockFlow
{
    private static readonly AsyncLocal<LockFlow?> Current = new();

    private readonly FlowEntry[] _entries;

    private LockFlow(string owner, FlowEntry[] entries)
    {
        Owner = owner;
        _entries = entries;
    }

    public string Owner { get; }

    /// <summary>The owner of the current flow while it holds (or is taking) a lock; <see langword="null"/> otherwise.</summary>
    public static string? LiveOwner()
    {
        var flow = Current.Value;
        return flow is not null && Array.Exists(flow._entries, e => e.IsLive) ? flow.Owner : null;
    }

    /// <summary>The current flow's entries, live or not (see <see cref="FlowEntry.IsLiveHoldOf"/>).</summary>
    public static ReadOnlySpan<FlowEntry> Entries => Current.Value is { } flow ? flow._entries : [];

    /// <summary>Records an acquisition of <paramref name="key"/> starting in the current flow; finished entries are dropped.</summary>
    public static FlowEntry Enter(object scope, string key, Func<string> newOwner)
    {
        var flow = Current.Value;
        var live = flow is null ? [] : Array.FindAll(flow._entries, e => e.IsLive);
        var owner = live.Length > 0 ? flow!.Owner : newOwner();
        var entry = new FlowEntry(scope, key, owner);
        Current.Value = new LockFlow(owner, [.. live, entry]);
        return entry;
    }
}

/// <summary>One acquisition recorded in a flow: pending, then held (until released or lost), or failed.</summary>
internal sealed class FlowEntry(object scope, string key, string owner)
{
    private HeldLock? _hold;
    private volatile bool _failed;

    public object Scope { get; } = scope;

    public string Key { get; } = key;

    public string Owner { get; } = owner;

    public HeldLock? Hold => Volatile.Read(ref _hold);

    public bool IsLive => !_failed && (Hold is null || Hold.IsActive);

    /// <summary>Whether this entry is a live hold of the lock <paramref name="key"/> taken through <paramref name="scope"/>.</summary>
    public bool IsLiveHoldOf(object scope, string key) => ReferenceEquals(Scope, scope) && Key == key && Hold is { IsActive: true };

    public void Complete(HeldLock hold)
    {
        Volatile.Write(ref _hold, hold);
        _failed = false;
    }

    public void Fail()
    {
        if (Hold is null)
        {
            _failed = true;
        }
    }
}
