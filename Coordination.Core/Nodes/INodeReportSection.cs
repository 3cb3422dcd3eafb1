namespace Coordination;

/// <summary>
/// A part of this node's report contributed by another capability (alerts, duties, an application's own state).
/// Register implementations in dependency injection (<c>services.AddSingleton&lt;INodeReportSection, MySection&gt;()</c>);
/// the reporter asks each one at every report and stores what it returns, serialized as JSON, under
/// <c>sections.{Name}</c>. It must not return secrets, keys, tenant names or stored data: admins of every node see it.
/// </summary>
/// <remarks>
/// Called from the reporter's loop, one at a time; a section that throws or takes longer than the report interval
/// is left out of that report (and logged). A section whose JSON is longer than 4 KiB is left out too.
/// </remarks>
public interface INodeReportSection
{
    /// <summary>The section's name in the report: lowercase letters, digits and '-', 1..32 characters.</summary>
    string Name { get; }

    /// <summary>The section's current content (any object System.Text.Json can write), or <see langword="null"/> to leave it out.</summary>
    /// <param name="cancellationToken">Cancelled when the report interval is over or the host stops.</param>
    ValueTask<object?> CollectAsync(CancellationToken cancellationToken);
}
