using System.Collections.Concurrent;
using System.Diagnostics;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Kills every server process still running when the test process exits, whatever happened to the tests.</summary>
internal static class ChildProcesses
{
    private static readonly ConcurrentDictionary<Process, byte> Running = new();

    static ChildProcesses()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public static void Track(Process process) => Running.TryAdd(process, 0);

    public static void Untrack(Process process) => Running.TryRemove(process, out _);

    private static void KillAll()
    {
        foreach (var process in Running.Keys)
        {
            ProcessUtil.TryKill(process);
        }
    }
}
