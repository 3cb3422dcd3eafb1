namespace Coordination.AppHost.Tests;

/// <summary>
/// The test classes that share one <see cref="LocalModeAppFixture"/>: the AppHost starts once for all of them
/// (starting it takes far longer than their tests), and they run one class after another.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedLocalModeApp : ICollectionFixture<LocalModeAppFixture>
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Local-mode AppHost";
}
