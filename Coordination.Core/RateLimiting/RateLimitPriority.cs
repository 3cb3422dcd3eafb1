namespace Coordination;

/// <summary>How much a request matters when capacity runs short (<see cref="IRateLimitService.AcquireAsync"/>).</summary>
public enum RateLimitPriority
{
    /// <summary>Ordinary traffic: shed first under pressure.</summary>
    Normal,

    /// <summary>Traffic that keeps a reserved share of the capacity under pressure.</summary>
    Critical,
}
