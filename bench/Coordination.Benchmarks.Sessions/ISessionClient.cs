namespace Coordination.Benchmarks.Sessions;

/// <summary>One way of keeping web sessions in Redis, reduced to the two operations measured.</summary>
internal interface ISessionClient
{
    string Name { get; }

    /// <summary>What <see cref="GetAsync"/> does, for the report.</summary>
    string GetDescription { get; }

    /// <summary>What <see cref="CreateAsync"/> does, for the report.</summary>
    string CreateDescription { get; }

    /// <summary>Stores a new session of <paramref name="userId"/> and returns its id.</summary>
    ValueTask<string> CreateAsync(string userId, SessionData data);

    /// <summary>Reads a session and slides its idle expiry, as a request does; throws when the session is not found.</summary>
    ValueTask GetAsync(string id);
}
