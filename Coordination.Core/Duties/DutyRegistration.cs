namespace Coordination;

/// <summary>A duty registered with <c>WithDuty</c>: its name and how to get it from the container.</summary>
internal sealed class DutyRegistration(string name, Func<IServiceProvider, IDuty> resolve)
{
    public string Name { get; } = name;

    public Func<IServiceProvider, IDuty> Resolve { get; } = resolve;
}
