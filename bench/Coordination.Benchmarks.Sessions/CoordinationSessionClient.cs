namespace Coordination.Benchmarks.Sessions;

/// <summary>Ours: <see cref="ISessionManager"/> as an application gets it from <c>AddCoordination()</c>.</summary>
internal sealed class CoordinationSessionClient(ISessionManager sessions) : ISessionClient
{
    public string Name => "ours";

    public string GetDescription => "`ISessionManager.GetAsync(id)` (reads the session and slides its idle expiry, capped by the absolute one; returns a `Session` with its data parsed)";

    public string CreateDescription => "`ISessionManager.CreateAsync(userId, data)` (stores the session, indexes it under its user, caps the user's sessions)";

    public async ValueTask<string> CreateAsync(string userId, SessionData data) => (await sessions.CreateAsync(userId, data.Fields)).Id;

    public async ValueTask GetAsync(string id)
    {
        _ = await sessions.GetAsync(id) ?? throw new InvalidOperationException("Session not found.");
    }
}
