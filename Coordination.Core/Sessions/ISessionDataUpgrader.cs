using System.Text.Json;

namespace Coordination;

/// <summary>
/// One step of the sessions' data schema: turns data in schema version <see cref="FromVersion"/> into version
/// <see cref="FromVersion"/> + 1. Register each step as <c>services.AddSingleton&lt;ISessionDataUpgrader, TStep&gt;()</c>;
/// the steps must form the chain 1→2→…→N (no gap, no two from one version), else the host fails to start. The current
/// schema version is then N + 1 = 1 + the number of steps; with none it is 1 and sessions are read as stored.
/// </summary>
/// <remarks>
/// Steps run on every read that finds a session in an older schema (get, list, rotate, update, restore from the durable
/// copy, reads served by the copy), from the session's version up to the current one, in order; get, rotate, update and
/// restore write the result back. A step must be a pure, deterministic function of its input and thread-safe: a session
/// may be upgraded by several nodes at once, and the same data may be upgraded again when a write-back loses to a
/// concurrent update. A step that throws, returns <see langword="null"/> or produces data over
/// <see cref="SessionManagerOptions.MaxFields"/>/<see cref="SessionManagerOptions.MaxDataBytes"/> fails the read with
/// <see cref="SessionUpgradeFailedException"/> and changes nothing stored.
/// </remarks>
public interface ISessionDataUpgrader
{
    /// <summary>The schema version this step reads (1 or more); it writes <see cref="FromVersion"/> + 1.</summary>
    int FromVersion { get; }

    /// <summary>The session's data in the next schema version.</summary>
    /// <param name="data">The data in schema version <see cref="FromVersion"/>; field names as stored, without prefix.</param>
    /// <returns>The data in schema version <see cref="FromVersion"/> + 1: a new dictionary, or <paramref name="data"/> when nothing changes.</returns>
    IReadOnlyDictionary<string, JsonElement> Upgrade(IReadOnlyDictionary<string, JsonElement> data);
}
