namespace Coordination;

/// <summary>
/// One level of an all-or-nothing acquisition (<see cref="IRateLimitService.AcquireAllAsync"/>): a policy and the key it
/// limits, such as the tenant as a whole, one user, or one user's calls to one endpoint.
/// </summary>
/// <param name="Policy">The policy's name; not a <see cref="RateLimitAlgorithm.Concurrency"/> policy.</param>
/// <param name="Key">What this level limits: a name, 1..512 UTF-8 bytes, no control characters.</param>
public sealed record RateLimitLevel(string Policy, string Key);
