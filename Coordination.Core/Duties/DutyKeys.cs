namespace Coordination;

/// <summary>The Redis keys of the duties, in the platform's namespace (<c>#</c> is not allowed in a tenant, so no tenant can form them).</summary>
public static class DutyKeys
{
    /// <summary>
    /// The hash of the duties' state, <c>{prefix}:#duties:{{prefix}:#duties}:state</c>: field = duty name, value = JSON
    /// <c>{"name","node","lastRunStartedAt","lastRunEndedAt","result":"ok"|"failed","error","nextRunAt","runs","failures"}</c>
    /// with times in ISO-8601 UTC.
    /// </summary>
    /// <param name="keyPrefix">The key prefix (<c>Coordination:KeyPrefix</c>).</param>
    /// <returns>The key.</returns>
    /// <exception cref="ArgumentException"><paramref name="keyPrefix"/> is not a valid key prefix.</exception>
    public static string State(string keyPrefix) => Base(keyPrefix) + ":state";

    /// <summary>The hash of the duties' schedule and counters (<c>{prefix}:#duties:{{prefix}:#duties}:schedule</c>), in the same slot as <see cref="State"/>.</summary>
    internal static string Schedule(string keyPrefix) => Base(keyPrefix) + ":schedule";

    private static string Base(string keyPrefix)
    {
        CoordinationKey.ValidateSegment(keyPrefix, nameof(keyPrefix));
        return $"{keyPrefix}:#duties:{{{keyPrefix}:#duties}}";
    }
}
