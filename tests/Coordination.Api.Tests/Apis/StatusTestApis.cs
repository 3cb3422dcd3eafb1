using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Apis;

/// <summary>
/// Starts an API on Kestrel for the status tests, which run several at once: WebApplicationFactory's start sometimes
/// loses a race with Kestrel ("Addresses cannot be modified after the server has started"); such a start is disposed
/// (so no half-started host keeps running and reporting) and tried again.
/// </summary>
internal static class StatusTestApis
{
    private const int Attempts = 3;

    public static async Task<ApiFactory> StartAsync(string redisConnectionString, IReadOnlyDictionary<string, string?> settings)
    {
        for (var attempt = 1; ; attempt++)
        {
            var factory = new ApiFactory(redisConnectionString, settings);
            try
            {
                factory.UseKestrel(0);
                factory.StartServer();
                return factory;
            }
            catch (InvalidOperationException ex) when (attempt < Attempts && ex.Message.Contains("cannot be modified after the server has started", StringComparison.Ordinal))
            {
                await factory.DisposeAsync();
            }
            catch
            {
                await factory.DisposeAsync();
                throw;
            }
        }
    }
}
