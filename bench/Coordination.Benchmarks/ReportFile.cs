namespace Coordination.Benchmarks;

/// <summary>Prints a benchmark's markdown report and writes it under docs/; shared by the benchmarks (linked into the others).</summary>
internal static class ReportFile
{
    /// <summary>Prints <paramref name="markdown"/>; when <paramref name="write"/>, writes it to <paramref name="output"/> or docs/<paramref name="fileName"/> of the repository.</summary>
    public static async Task PublishAsync(string markdown, bool write, string? output, string fileName, CancellationToken cancellationToken)
    {
        Console.WriteLine();
        Console.WriteLine(markdown);
        if (!write)
        {
            return;
        }

        var path = Path.GetFullPath(output ?? Path.Combine(FindRepositoryRoot() ?? Directory.GetCurrentDirectory(), "docs", fileName));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, markdown + await KeptPartAsync(path, cancellationToken), cancellationToken);
        Console.WriteLine($"Written to {path}");
    }

    /// <summary>The marker line from which a report file's end is written by hand (a comparison of several runs) and kept.</summary>
    public const string KeptMarker = "<!-- Kept when the benchmark rewrites this file: written from several runs, see below. -->";

    private static async Task<string> KeptPartAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return string.Empty;
        }

        var existing = await File.ReadAllTextAsync(path, cancellationToken);
        var kept = existing.IndexOf(KeptMarker, StringComparison.Ordinal);
        return kept < 0 ? string.Empty : Environment.NewLine + existing[kept..];
    }

    private static string? FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(Directory.GetCurrentDirectory()); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Aspire.sln")))
            {
                return directory.FullName;
            }
        }

        return null;
    }
}
