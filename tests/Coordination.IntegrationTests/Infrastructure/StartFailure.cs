namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// Captures why an app refused to start under <c>WebApplicationFactory</c>. When the app's entry point throws while
/// starting, the factory can lose a race with it: the entry point disposes the host before the factory resolves it,
/// and the factory throws <see cref="ObjectDisposedException"/> for <c>IServiceProvider</c> instead of the start's own
/// failure (dotnet/aspnetcore, <c>WebApplicationFactory.ConfigureHostBuilder</c>). That exception says nothing about
/// the app, so the start is tried again with a fresh factory; any other failure is returned at once.
/// </summary>
public static class StartFailure
{
    private const int Attempts = 5;

    /// <param name="start">Builds a fresh factory, starts it and disposes it; it must throw.</param>
    /// <returns>The first failure that is not the factory's race (or the last one after five races).</returns>
    public static async Task<Exception> CaptureAsync(Func<Task> start)
    {
        for (var attempt = 1; ; attempt++)
        {
            var failure = await Assert.ThrowsAnyAsync<Exception>(start);
            if (!IsFactoryRace(failure) || attempt == Attempts)
            {
                return failure;
            }
        }
    }

    private static bool IsFactoryRace(Exception failure) =>
        failure is ObjectDisposedException { ObjectName: "IServiceProvider" } && failure.StackTrace?.Contains("WebApplicationFactory", StringComparison.Ordinal) == true;
}
