using Coordination.AppHost.LocalResources;

namespace Coordination.AppHost;

/// <summary>
/// Chooses how Redis and PostgreSQL run: containers, local executables, or embedded (Garnet in the AppHost's process,
/// no PostgreSQL), in that order of preference.
/// </summary>
/// <remarks>
/// <para>
/// Configuration key <c>Coordination:HostingMode</c> (environment variable
/// <c>Coordination__HostingMode</c>, or <c>--Coordination:HostingMode=local</c> on the command line):
/// <list type="bullet">
/// <item><c>auto</c> (default): containers when a container runtime answers <c>info</c> within
/// a few seconds; otherwise Redis from <c>redis-server</c> when it is on PATH, else Garnet embedded in the AppHost,
/// and PostgreSQL from its binaries when they exist, else no PostgreSQL fallback;</item>
/// <item><c>container</c>: always containers (resources stay unstarted without a runtime);</item>
/// <item><c>local</c>: always local executables (the start fails when one is missing);</item>
/// <item><c>embedded</c>: what a machine with only the .NET SDK gets: Garnet in the AppHost, no PostgreSQL.</item>
/// </list>
/// </para>
/// <para>Publish mode always uses containers so the manifest carries Redis and PostgreSQL.</para>
/// </remarks>
internal static class HostingModeResolver
{
    /// <summary>The configuration key that forces a mode.</summary>
    public const string ConfigurationKey = "Coordination:HostingMode";

    // Aspire's own switch between docker and podman; when set, only that runtime is probed.
    private const string ContainerRuntimeVariable = "ASPIRE_CONTAINER_RUNTIME";

    /// <summary>Resolves the mode for this run of the AppHost, probing this machine.</summary>
    /// <param name="builder">The AppHost builder (its configuration and execution context are read).</param>
    /// <returns>The chosen mode with its reason.</returns>
    /// <exception cref="InvalidOperationException">The configured value is not <c>auto</c>, <c>container</c>, <c>local</c> or <c>embedded</c>.</exception>
    public static HostingModeSelection Resolve(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        return Resolve(
            builder.Configuration[ConfigurationKey],
            builder.ExecutionContext.IsPublishMode,
            builder.Configuration[ContainerRuntimeVariable],
            new MachineHostingProbes(builder.Configuration));
    }

    /// <summary>Resolves the mode from the configured value and what the probes find.</summary>
    /// <param name="configuredMode">The value of <see cref="ConfigurationKey"/>, if any.</param>
    /// <param name="isPublishMode">Whether the AppHost publishes (then always containers, nothing is probed).</param>
    /// <param name="preferredRuntime">The value of <c>ASPIRE_CONTAINER_RUNTIME</c>, if any.</param>
    /// <param name="probes">What the machine offers.</param>
    /// <returns>The chosen mode with its reason.</returns>
    /// <exception cref="InvalidOperationException">The configured value is not <c>auto</c>, <c>container</c>, <c>local</c> or <c>embedded</c>.</exception>
    public static HostingModeSelection Resolve(string? configuredMode, bool isPublishMode, string? preferredRuntime, IHostingProbes probes)
    {
        ArgumentNullException.ThrowIfNull(probes);

        if (isPublishMode)
        {
            return HostingModeSelection.Containers("publish mode always describes containers");
        }

        var configured = configuredMode?.Trim();
        if (string.IsNullOrEmpty(configured) || configured.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return Probe(preferredRuntime, probes);
        }

        if (configured.Equals("container", StringComparison.OrdinalIgnoreCase))
        {
            return HostingModeSelection.Containers($"{ConfigurationKey}={configured}");
        }

        if (configured.Equals("local", StringComparison.OrdinalIgnoreCase))
        {
            return new(HostingMode.Local, PostgresHosting.Local, $"{ConfigurationKey}={configured}");
        }

        if (configured.Equals("embedded", StringComparison.OrdinalIgnoreCase))
        {
            return new(HostingMode.Embedded, PostgresHosting.None, $"{ConfigurationKey}={configured}");
        }

        throw new InvalidOperationException(
            $"'{configured}' is not a valid value for {ConfigurationKey}: use auto, container, local or embedded.");
    }

    private static HostingModeSelection Probe(string? preferredRuntime, IHostingProbes probes)
    {
        var preferred = preferredRuntime?.Trim();
        string[] runtimes = string.IsNullOrEmpty(preferred) ? ["docker", "podman"] : [preferred];

        var findings = new List<string>(runtimes.Length);
        foreach (var runtime in runtimes)
        {
            if (probes.ContainerRuntimeAnswers(runtime, out var finding))
            {
                return HostingModeSelection.Containers($"auto: '{runtime} info' succeeded");
            }

            findings.Add($"{runtime}: {finding}");
        }

        var noRuntime = $"auto: no healthy container runtime ({string.Join("; ", findings)})";
        var redis = probes.HasRedisServer() ? HostingMode.Local : HostingMode.Embedded;
        var postgres = probes.HasPostgresBinaries() ? PostgresHosting.Local : PostgresHosting.None;
        var redisReason = redis == HostingMode.Local ? "a local Redis server (redis-server or valkey-server) found" : "no redis-server or valkey-server on PATH: Garnet embedded";
        var postgresReason = postgres == PostgresHosting.Local ? "PostgreSQL binaries found" : "no PostgreSQL binaries: no fallback";
        return new(redis, postgres, $"{noRuntime}; {redisReason}; {postgresReason}");
    }
}
