namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// Copies a server's or a sentinel's log to the folder <c>COORDINATION_TEST_KEEP_LOGS</c> names, before its temporary
/// folder is deleted: to read what the servers did in a run that failed.
/// </summary>
public static class KeptLogs
{
    private const string Variable = "COORDINATION_TEST_KEEP_LOGS";

    public static void Keep(string logFile, string name)
    {
        if (Environment.GetEnvironmentVariable(Variable) is not { Length: > 0 } folder || !File.Exists(logFile))
        {
            return;
        }

        Directory.CreateDirectory(folder);
        File.Copy(logFile, Path.Combine(folder, name), overwrite: true);
    }
}
