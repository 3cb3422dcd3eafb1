namespace Coordination;

/// <summary>Builds the Redis keys of the library and validates caller-supplied names.</summary>
internal static class CoordinationKey
{
    /// <exception cref="ArgumentException">The name breaks <see cref="CoordinationLimits.FindNameProblem"/>'s rule.</exception>
    public static void ValidateName(string name, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(name, parameterName);
        if (CoordinationLimits.FindNameProblem(name) is { } problem)
        {
            throw new ArgumentException(problem, parameterName);
        }
    }

    /// <exception cref="ArgumentException">The value is not a valid tenant or prefix (<see cref="CoordinationLimits.SegmentPattern"/>).</exception>
    public static void ValidateSegment(string segment, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(segment, parameterName);
        if (!CoordinationLimits.IsValidSegment(segment))
        {
            throw new ArgumentException("The value must be 1..64 characters of letters, digits, '.', '_' or '-'.", parameterName);
        }
    }

    /// <summary>
    /// Builds <c>{prefix}:{tenant}:{capability}:{name}</c>. Prefix and tenant cannot contain ':', so no name can
    /// reach into another tenant's namespace.
    /// </summary>
    public static string Build(string prefix, string tenant, string capability, string name) =>
        string.Concat(prefix, ":", tenant, ":", capability, ":", name);

    /// <summary>
    /// Builds <c>{prefix}:{tenant}:{capability}:{{prefix}:{tenant}}</c>: a per-tenant key whose hash tag is the tenant,
    /// so that the tenant's keys of this shape share one slot (a script may use several of them). The capabilities
    /// that use it (wait-for graph, quota ledgers) are ones no caller's key is built with.
    /// </summary>
    public static string TenantTagged(string prefix, string tenant, string capability) =>
        string.Concat(prefix, ":", tenant, ":", capability, ":{", prefix, ":", tenant, "}");

    /// <summary>The part of a full key after <c>{prefix}:{tenant}:{capability}:</c>.</summary>
    public static string NameOf(string fullKey, string prefix, string tenant, string capability)
    {
        var head = prefix.Length + tenant.Length + capability.Length + 3;
        return fullKey.Length >= head ? fullKey[head..] : fullKey;
    }
}
