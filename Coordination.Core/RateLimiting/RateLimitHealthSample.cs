namespace Coordination;

/// <summary>Rate-limit calls of one interval: all of them, those slower than the latency threshold, those that failed.</summary>
internal readonly record struct RateLimitHealthSample(long Calls, long SlowCalls, long FailedCalls);
