namespace Coordination;

/// <summary>Describes a switch to or from the PostgreSQL fallback store.</summary>
public sealed class FallbackEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public FallbackEventArgs(string operation, Exception? exception, int replayedWrites = 0)
    {
        Operation = operation;
        Exception = exception;
        ReplayedWrites = replayedWrites;
    }

    /// <summary>The operation that caused the switch.</summary>
    public string Operation { get; }

    /// <summary>The Redis failure behind the switch, when there was one.</summary>
    public Exception? Exception { get; }

    /// <summary>On recovery, how many writes made during the fallback were replayed to Redis.</summary>
    public int ReplayedWrites { get; }
}
