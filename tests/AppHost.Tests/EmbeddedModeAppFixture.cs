namespace Coordination.AppHost.Tests;

/// <summary>
/// The whole AppHost in embedded hosting mode (forced with <c>Coordination:HostingMode=embedded</c>): what a machine
/// with only the .NET SDK gets, Garnet in the AppHost's process serving <c>redis</c> and no PostgreSQL.
/// </summary>
public sealed class EmbeddedModeAppFixture : LocalModeAppFixture
{
    /// <summary>Starts the AppHost in embedded mode.</summary>
    public EmbeddedModeAppFixture()
        : base("embedded")
    {
    }
}
