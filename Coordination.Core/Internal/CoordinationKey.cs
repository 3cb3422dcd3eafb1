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

    /// <summary>The part of a full key after <c>{prefix}:{tenant}:{capability}:</c>.</summary>
    public static string NameOf(string fullKey, string prefix, string tenant, string capability)
    {
        var head = prefix.Length + tenant.Length + capability.Length + 3;
        return fullKey.Length >= head ? fullKey[head..] : fullKey;
    }
}
