using System.Diagnostics;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Coordination;

/// <summary>Who this node is in the reports: <c>{service}@{host}:{process id}</c>, its role, version and start.</summary>
internal sealed class NodeIdentity(string name, string role, string version, DateTimeOffset startedAt)
{
    private const int MaxPart = 64;

    public string Name { get; } = name;

    public string Role { get; } = role;

    public string Version { get; } = version;

    public DateTimeOffset StartedAt { get; } = startedAt;

    public static NodeIdentity Create(NodeReportOptions options, IConfiguration configuration, IHostEnvironment? environment)
    {
        var service = Clean(
            !string.IsNullOrEmpty(options.ServiceName) ? options.ServiceName
            : configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } otel ? otel
            : environment?.ApplicationName ?? "service");
        var name = $"{service}@{Clean(Environment.MachineName)}:{Environment.ProcessId}";
        var assembly = Assembly.GetEntryAssembly() ?? typeof(NodeIdentity).Assembly;
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "unknown";
        DateTimeOffset started;
        using (var process = Process.GetCurrentProcess())
        {
            started = process.StartTime.ToUniversalTime();
        }

        return new NodeIdentity(name, options.Role, version.Length > MaxPart ? version[..MaxPart] : version, started);
    }

    // Names go into a page and a Redis hash field: letters, digits, '.', '_' and '-' only, bounded.
    private static string Clean(string text)
    {
        var clean = new StringBuilder(Math.Min(text.Length, MaxPart));
        foreach (var c in text)
        {
            if (clean.Length == MaxPart)
            {
                break;
            }

            clean.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-');
        }

        return clean.Length == 0 ? "unknown" : clean.ToString();
    }
}
