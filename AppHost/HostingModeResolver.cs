using Coordination.AppHost.LocalResources;

namespace Coordination.AppHost;

/// <summary>
/// Chooses between <see cref="HostingMode.Container"/> and <see cref="HostingMode.Local"/>.
/// </summary>
/// <remarks>
/// <para>
/// Configuration key <c>Coordination:HostingMode</c> (environment variable
/// <c>Coordination__HostingMode</c>, or <c>--Coordination:HostingMode=local</c> on the command line):
/// <list type="bullet">
/// <item><c>auto</c> (default): containers when a container runtime answers <c>info</c> within
/// a few seconds, local executables otherwise;</item>
/// <item><c>container</c>: always containers (resources stay unstarted without a runtime);</item>
/// <item><c>local</c>: always local executables.</item>
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

    // `docker info` against a missing daemon fails in milliseconds; a wedged daemon must not
    // hold the AppHost's start for long.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Resolves the mode for this run of the AppHost.</summary>
    /// <param name="builder">The AppHost builder (its configuration and execution context are read).</param>
    /// <returns>The chosen mode with its reason.</returns>
    /// <exception cref="InvalidOperationException">The configured value is not <c>auto</c>, <c>container</c> or <c>local</c>.</exception>
    public static HostingModeSelection Resolve(IDistributedApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        if (builder.ExecutionContext.IsPublishMode)
        {
            return new(HostingMode.Container, "publish mode always describes containers");
        }

        var configured = builder.Configuration[ConfigurationKey]?.Trim();
        if (string.IsNullOrEmpty(configured) || configured.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return ProbeContainerRuntime(builder.Configuration[ContainerRuntimeVariable]);
        }

        if (configured.Equals("container", StringComparison.OrdinalIgnoreCase))
        {
            return new(HostingMode.Container, $"{ConfigurationKey}={configured}");
        }

        if (configured.Equals("local", StringComparison.OrdinalIgnoreCase))
        {
            return new(HostingMode.Local, $"{ConfigurationKey}={configured}");
        }

        throw new InvalidOperationException(
            $"'{configured}' is not a valid value for {ConfigurationKey}: use auto, container or local.");
    }

    private static HostingModeSelection ProbeContainerRuntime(string? preferredRuntime)
    {
        var preferred = preferredRuntime?.Trim();
        string[] runtimes = string.IsNullOrEmpty(preferred) ? ["docker", "podman"] : [preferred];

        var findings = new List<string>(runtimes.Length);
        foreach (var runtime in runtimes)
        {
            if (IsHealthy(runtime, out var finding))
            {
                return new(HostingMode.Container, $"auto: '{runtime} info' succeeded");
            }

            findings.Add($"{runtime}: {finding}");
        }

        return new(HostingMode.Local, $"auto: no healthy container runtime ({string.Join("; ", findings)})");
    }

    private static bool IsHealthy(string runtime, out string finding)
    {
        var path = LocalExecutables.FindOnPath(runtime);
        if (path is null)
        {
            finding = "not on PATH";
            return false;
        }

        if (LocalExecutables.RunAndCapture(path, "info", ProbeTimeout, out var failure) is null)
        {
            finding = $"'info' {failure}";
            return false;
        }

        finding = string.Empty;
        return true;
    }
}
