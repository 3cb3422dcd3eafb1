using System.Text.Json;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The registered <see cref="ISessionDataUpgrader"/> steps as one checked chain 1→2→…→N, and their application to a
/// session's data. The current schema version is N + 1 (1 with no steps).
/// </summary>
internal sealed class SessionUpgrades
{
    private readonly ISessionDataUpgrader[] _steps;

    /// <exception cref="InvalidOperationException">The steps do not form the chain 1→2→…→N (the message names the problem).</exception>
    public SessionUpgrades(IEnumerable<ISessionDataUpgrader> upgraders)
    {
        ArgumentNullException.ThrowIfNull(upgraders);
        var steps = upgraders.ToArray();
        if (FindChainProblem(steps) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }

        Array.Sort(steps, static (a, b) => a.FromVersion.CompareTo(b.FromVersion));
        _steps = steps;
    }

    /// <summary>The schema version of data the steps produce: 1 + the number of steps.</summary>
    public int CurrentVersion => _steps.Length + 1;

    /// <summary>What keeps <paramref name="upgraders"/> from forming the chain 1→2→…→N, or <see langword="null"/> when they do.</summary>
    public static string? FindChainProblem(IReadOnlyCollection<ISessionDataUpgrader> upgraders)
    {
        ArgumentNullException.ThrowIfNull(upgraders);
        var byVersion = new Dictionary<int, ISessionDataUpgrader>();
        foreach (var upgrader in upgraders)
        {
            if (upgrader.FromVersion < 1)
            {
                return $"The session data upgrader {Name(upgrader)} starts from schema version {upgrader.FromVersion}; schema versions start at 1.";
            }

            if (!byVersion.TryAdd(upgrader.FromVersion, upgrader))
            {
                return $"Two session data upgraders start from schema version {upgrader.FromVersion}: {Name(byVersion[upgrader.FromVersion])} and {Name(upgrader)}; each step of the chain 1→2→…→N is registered once.";
            }
        }

        // Count distinct versions from 1 on form the chain exactly when none of 1..Count is missing.
        for (var version = 1; version <= upgraders.Count; version++)
        {
            if (!byVersion.ContainsKey(version))
            {
                var registered = string.Join(", ", byVersion.Keys.Order());
                return $"The session data upgraders must form the chain 1→2→…→N without a gap: none starts from schema version {version} (the registered ones start from {registered}).";
            }
        }

        return null;
    }

    /// <summary>
    /// <paramref name="data"/>, stored in <paramref name="schemaVersion"/>, brought to <see cref="CurrentVersion"/>:
    /// the steps from <paramref name="schemaVersion"/> on, in order, then checked and encoded like a new session's data.
    /// </summary>
    /// <returns>The upgraded data as stored values (parsed back from their encoding) and its 'd:' field, value pairs.</returns>
    /// <exception cref="SessionUpgradeFailedException">A step threw or returned null, or the result is not valid session data.</exception>
    public (Dictionary<string, JsonElement> Data, List<RedisValue> Fields) Apply(IReadOnlyDictionary<string, JsonElement> data, int schemaVersion, SessionManagerOptions options)
    {
        for (var version = Math.Max(schemaVersion, 1); version < CurrentVersion; version++)
        {
            var step = _steps[version - 1];
            IReadOnlyDictionary<string, JsonElement>? next;
            try
            {
                next = step.Upgrade(data);
            }
            catch (Exception ex)
            {
                throw ExceptionFactory.SessionUpgradeFailed($"The session data upgrader {Name(step)} (schema version {version} to {version + 1}) threw: {ex.Message}", version, version + 1, ex);
            }

            data = next ?? throw ExceptionFactory.SessionUpgradeFailed($"The session data upgrader {Name(step)} (schema version {version} to {version + 1}) returned null.", version, version + 1, null);
        }

        List<RedisValue> fields;
        try
        {
            fields = SessionData.EncodeAll(data, options, "data");
        }
        catch (ArgumentException ex)
        {
            throw ExceptionFactory.SessionUpgradeFailed($"The session's data upgraded from schema version {schemaVersion} to {CurrentVersion} cannot be stored: {ex.Message}", schemaVersion, CurrentVersion, ex);
        }

        // What the caller gets is what is stored: the encoded values read back, as any later read would.
        var stored = new Dictionary<string, JsonElement>(fields.Count / 2, StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i += 2)
        {
            using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)fields[i + 1]);
            stored[((string)fields[i]!)[SessionData.FieldPrefix.Length..]] = document.RootElement.Clone();
        }

        return (stored, fields);
    }

    private static string Name(ISessionDataUpgrader upgrader) => upgrader.GetType().FullName ?? upgrader.GetType().Name;
}
