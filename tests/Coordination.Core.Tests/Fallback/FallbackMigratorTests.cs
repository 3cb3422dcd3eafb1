namespace Coordination.Core.Tests.Fallback;

public class FallbackMigratorTests
{
    [Fact]
    public void Migrations_Embedded_NotEmpty()
    {
        Assert.NotEmpty(FallbackMigrator.Migrations);
        Assert.All(FallbackMigrator.Migrations, m => Assert.False(string.IsNullOrWhiteSpace(m.Sql)));
    }

    [Fact]
    public void Migrations_VersionsParsedFromFileNames()
    {
        var first = FallbackMigrator.Migrations[0];

        Assert.Equal(1, first.Version);
        Assert.Equal("0001_kv", first.Name);
        Assert.All(FallbackMigrator.Migrations, m => Assert.StartsWith(m.Version.ToString("D4", System.Globalization.CultureInfo.InvariantCulture) + "_", m.Name, StringComparison.Ordinal));
    }

    [Fact]
    public void Migrations_OrderedContiguousFromOne()
    {
        var versions = FallbackMigrator.Migrations.Select(m => m.Version).ToArray();

        Assert.Equal(Enumerable.Range(1, versions.Length), versions);
    }

    [Fact]
    public void Migrations_OneForEveryEmbeddedSqlResource()
    {
        var resources = typeof(FallbackMigrator).Assembly.GetManifestResourceNames()
            .Where(r => r.StartsWith("Coordination.Fallback.Migrations.", StringComparison.Ordinal))
            .ToArray();

        Assert.Equal(resources.Length, FallbackMigrator.Migrations.Count);
    }

    [Fact]
    public void Migrations_UseTheSchemaPlaceholderAndAreIdempotent()
    {
        Assert.All(FallbackMigrator.Migrations, m =>
        {
            Assert.Contains("{schema}.", m.Sql, StringComparison.Ordinal);
            Assert.DoesNotContain("coordination.", m.Sql, StringComparison.Ordinal);
        });

        // The first migration creates the key/value table with the columns the store reads.
        var kv = FallbackMigrator.Migrations[0].Sql;
        Assert.Contains("CREATE TABLE IF NOT EXISTS {schema}.kv", kv, StringComparison.Ordinal);
        foreach (var column in new[] { "redis_key", "value", "expires_at", "pending", "version", "updated_at" })
        {
            Assert.Contains(column, kv, StringComparison.Ordinal);
        }
    }
}
