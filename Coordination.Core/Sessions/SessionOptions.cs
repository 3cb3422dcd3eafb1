namespace Coordination;

/// <summary>One session's timeouts; what is left <see langword="null"/> comes from <see cref="SessionManagerOptions"/>.</summary>
public sealed class SessionOptions
{
    /// <summary>Gets or sets how long the session lives without being accessed (1 ms to 30 days).</summary>
    public TimeSpan? IdleTimeout { get; set; }

    /// <summary>Gets or sets how long the session lives at most after its creation, accessed or not (1 ms to 30 days, at least the idle timeout).</summary>
    public TimeSpan? AbsoluteTimeout { get; set; }
}
