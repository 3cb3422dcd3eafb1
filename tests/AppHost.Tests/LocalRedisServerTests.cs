using Coordination.AppHost.LocalResources;
using Microsoft.Extensions.Configuration;

namespace Coordination.AppHost.Tests;

/// <summary>
/// The local mode's server program: the configured one wins (a path, or a name on PATH), else redis-server, else
/// valkey-server; a configured program that does not exist is not found (the mode then falls back to embedded).
/// </summary>
public sealed class LocalRedisServerTests
{
    private static IConfiguration Configured(string? program) =>
        new ConfigurationBuilder().AddInMemoryCollection([new(LocalHostingSettings.RedisServerKey, program)]).Build();

    [Fact]
    public void Locate_ConfiguredPath_IsUsed()
    {
        var directory = Directory.CreateTempSubdirectory("apphost-valkey-").FullName;
        try
        {
            var program = Path.Combine(directory, "valkey-server");
            File.WriteAllText(program, "#!/bin/sh\n");

            Assert.Equal(program, LocalRedisServer.Locate(Configured(program)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Locate_ConfiguredProgramMissing_IsNotFound()
    {
        Assert.Null(LocalRedisServer.Locate(Configured("no-such-redis-server-" + Guid.NewGuid().ToString("N"))));
    }

    [Fact]
    public void Locate_NothingConfigured_RedisServerFirstThenValkeyServer()
    {
        var expected = LocalExecutables.FindOnPath("redis-server") ?? LocalExecutables.FindOnPath("valkey-server");

        Assert.Equal(expected, LocalRedisServer.Locate(Configured(null)));
        // The test machines have both: redis-server is preferred.
        Assert.EndsWith("redis-server", LocalRedisServer.Locate(Configured(null)), StringComparison.Ordinal);
    }
}
