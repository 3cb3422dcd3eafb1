using Coordination;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the node reports on the builder <c>AddCoordination</c> returned.</summary>
public static class NodeReportsExtensions
{
    /// <summary>
    /// Makes this node report its state into Redis every <see cref="NodeReportOptions.Interval"/> (a hosted service),
    /// and registers <see cref="INodeReports"/>, which reads every node's report (for status pages). Options are bound
    /// from <see cref="NodeReportOptions.SectionName"/> and validated at start. Other capabilities add to the report by
    /// registering <see cref="INodeReportSection"/>s.
    /// </summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="role">The node's role (<c>api</c>, <c>worker</c>): lowercase letters, digits and '-', 1..32 characters.</param>
    /// <param name="configure">Changes the options after they are bound.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="role"/> is not a valid role.</exception>
    public static ICoordinationBuilder WithNodeReports(this ICoordinationBuilder builder, string role, Action<NodeReportOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        NodeReportRegistration.Add(builder.Services, role, configure);
        return builder;
    }
}
