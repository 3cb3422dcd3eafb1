namespace Coordination;

/// <summary>What the adaptive limits follow: the health of the rate-limit calls of the interval just ended.</summary>
internal interface IRateLimitHealthSignal
{
    /// <summary>The calls since the previous sample (the counts start again from zero).</summary>
    RateLimitHealthSample TakeSample();
}
