namespace Coordination;

/// <summary>One acquisition in progress.</summary>
internal sealed class LockRequest(LockKind kind, LockKeys keys, LockSettings settings, int permits, bool tracked)
{
    public LockKind Kind { get; } = kind;

    public LockKeys Keys { get; } = keys;

    public string Name => Keys.Name;

    public LockSettings Settings { get; set; } = settings;

    public int Permits { get; } = permits;

    /// <summary>Whether this process tracks the hold behind a handle (renewal, loss, shutdown), rather than handing out a lease.</summary>
    public bool Tracked { get; } = tracked;

    public string Owner { get; set; } = string.Empty;

    public string Token { get; set; } = LockRuntime.NewToken();

    public Reentry Reentry { get; set; }

    /// <summary>The hold of the caller's flow this request re-enters (re-entry by token).</summary>
    public HeldLock? ReenterHold { get; set; }

    /// <summary>The caller's flow record of this acquisition, completed or failed when it ends.</summary>
    public FlowEntry? Flow { get; set; }

    /// <summary>The primary epoch the acquisition started in.</summary>
    public long Epoch { get; set; }
}

/// <summary>How an acquisition re-enters a hold (ARGV[6] of lock_acquire.lua).</summary>
internal enum Reentry
{
    None = 0,
    ByToken = 1,
    ByOwner = 2,

    /// <summary>By owner, only the hold whose token is <see cref="LockSettings.ReentryToken"/> (ARGV[9]).</summary>
    ByOwnerWithToken = 3,
}
