using System.Text.Json.Serialization;

namespace Coordination.Api.Models;

/// <summary>The answer of <c>POST /v1/ratelimit/acquire</c> (200 whether or not the permits were granted).</summary>
/// <param name="Allowed">Whether the permits were granted, and so charged to every level; when not, no level was charged.</param>
/// <param name="RetryAfterMs">Milliseconds until a refused request may succeed (the latest of the refusing levels'); 0 when allowed; -1 when a level can never admit that many permits.</param>
/// <param name="RefusedLevel">The position (from 0) of the first level that refused; absent when allowed.</param>
/// <param name="Levels">One decision per level, in the order asked: after the charge when allowed, as found otherwise (each level's <c>allowed</c> saying whether it alone had room).</param>
public sealed record RateLimitLevelsDecisionResponse(
    bool Allowed,
    long RetryAfterMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RefusedLevel,
    IReadOnlyList<RateLimitDecisionResponse> Levels)
{
    /// <summary>The answer for <paramref name="decision"/>.</summary>
    public static RateLimitLevelsDecisionResponse From(RateLimitHierarchyDecision decision) => new(
        decision.Allowed,
        RateLimitDecisionResponse.RetryAfterMsOf(decision.RetryAfter),
        decision.Allowed ? null : decision.RefusedLevel,
        [.. decision.Levels.Select(RateLimitDecisionResponse.From)]);
}
