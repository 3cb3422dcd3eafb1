namespace Coordination.AppHost.Tests;

/// <summary>
/// The hosting-mode choice given what the machine offers: container runtime first, then local binaries, then
/// embedded (Garnet for Redis, no PostgreSQL), each server on its own; a forced mode wins over the probes.
/// </summary>
public sealed class HostingModeResolverTests
{
    [Fact]
    public void Resolve_Auto_RuntimeAnswers_ChoosesContainersWhateverBinariesExist()
    {
        var probes = new FakeProbes(Runtimes: ["docker"], RedisServer: false, PostgresBinaries: false);

        var selection = HostingModeResolver.Resolve("auto", isPublishMode: false, preferredRuntime: null, probes);

        Assert.Equal(HostingMode.Container, selection.Mode);
        Assert.Equal(PostgresHosting.Container, selection.Postgres);
        Assert.Contains("'docker info' succeeded", selection.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_Auto_OnlyPodmanAnswers_ProbesDockerThenPodman()
    {
        var probes = new FakeProbes(Runtimes: ["podman"], RedisServer: true, PostgresBinaries: true);

        var selection = HostingModeResolver.Resolve(null, isPublishMode: false, preferredRuntime: null, probes);

        Assert.Equal(HostingMode.Container, selection.Mode);
        Assert.Equal(["docker", "podman"], probes.Probed);
    }

    [Fact]
    public void Resolve_Auto_PreferredRuntimeSet_ProbesOnlyIt()
    {
        var probes = new FakeProbes(Runtimes: ["docker"], RedisServer: true, PostgresBinaries: true);

        var selection = HostingModeResolver.Resolve("auto", isPublishMode: false, preferredRuntime: "podman", probes);

        Assert.Equal(HostingMode.Local, selection.Mode);
        Assert.Equal(["podman"], probes.Probed);
    }

    [Theory]
    [InlineData(true, true, "Local", "Local")]
    [InlineData(true, false, "Local", "None")]
    [InlineData(false, true, "Embedded", "Local")]
    [InlineData(false, false, "Embedded", "None")]
    public void Resolve_Auto_NoRuntime_LocalBinariesElseEmbeddedPerServer(
        bool redisServer, bool postgresBinaries, string expectedRedis, string expectedPostgres)
    {
        var probes = new FakeProbes(Runtimes: [], RedisServer: redisServer, PostgresBinaries: postgresBinaries);

        var selection = HostingModeResolver.Resolve("AUTO", isPublishMode: false, preferredRuntime: null, probes);

        Assert.Equal(Enum.Parse<HostingMode>(expectedRedis), selection.Mode);
        Assert.Equal(Enum.Parse<PostgresHosting>(expectedPostgres), selection.Postgres);
        Assert.Contains("no healthy container runtime", selection.Reason, StringComparison.Ordinal);
        Assert.Contains(postgresBinaries ? "PostgreSQL binaries found" : "no PostgreSQL binaries: no fallback", selection.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("container", "Container", "Container")]
    [InlineData("local", "Local", "Local")]
    [InlineData(" Embedded ", "Embedded", "None")]
    public void Resolve_Forced_IgnoresTheProbes(string configured, string expectedRedis, string expectedPostgres)
    {
        var probes = new FakeProbes(Runtimes: ["docker"], RedisServer: true, PostgresBinaries: true);

        var selection = HostingModeResolver.Resolve(configured, isPublishMode: false, preferredRuntime: null, probes);

        Assert.Equal(Enum.Parse<HostingMode>(expectedRedis), selection.Mode);
        Assert.Equal(Enum.Parse<PostgresHosting>(expectedPostgres), selection.Postgres);
        Assert.Empty(probes.Probed);
    }

    [Theory]
    [InlineData("embedded")]
    [InlineData("local")]
    [InlineData(null)]
    public void Resolve_PublishMode_AlwaysContainers(string? configured)
    {
        var probes = new FakeProbes(Runtimes: [], RedisServer: false, PostgresBinaries: false);

        var selection = HostingModeResolver.Resolve(configured, isPublishMode: true, preferredRuntime: null, probes);

        Assert.Equal(HostingMode.Container, selection.Mode);
        Assert.Equal(PostgresHosting.Container, selection.Postgres);
        Assert.Empty(probes.Probed);
    }

    [Fact]
    public void Resolve_UnknownValue_ThrowsNamingTheChoices()
    {
        var probes = new FakeProbes(Runtimes: [], RedisServer: false, PostgresBinaries: false);

        var error = Assert.Throws<InvalidOperationException>(
            () => HostingModeResolver.Resolve("garnet", isPublishMode: false, preferredRuntime: null, probes));

        Assert.Contains("auto, container, local or embedded", error.Message, StringComparison.Ordinal);
    }

    private sealed record FakeProbes(string[] Runtimes, bool RedisServer, bool PostgresBinaries) : IHostingProbes
    {
        public List<string> Probed { get; } = [];

        public bool ContainerRuntimeAnswers(string runtime, out string finding)
        {
            Probed.Add(runtime);
            var answers = Runtimes.Contains(runtime);
            finding = answers ? string.Empty : "not on PATH";
            return answers;
        }

        public bool HasRedisServer() => RedisServer;

        public bool HasPostgresBinaries() => PostgresBinaries;
    }
}
