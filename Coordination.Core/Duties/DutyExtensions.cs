using System.Text.RegularExpressions;
using Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers duties (<see cref="IDuty"/>) on the builder <c>AddCoordination</c> returned.</summary>
public static partial class DutyExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TDuty"/> (a singleton) as the duty <paramref name="name"/>: run every
    /// <see cref="DutyOptions.Interval"/> (<paramref name="interval"/> unless <c>Coordination:Worker:Duties:{name}:Interval</c>
    /// says otherwise) on one node at a time, its state recorded in Redis (<see cref="DutyKeys.State"/>), its runs counted
    /// (<c>coordination.duty.*</c>). Options are validated at start. Registering a name again changes nothing.
    /// </summary>
    /// <typeparam name="TDuty">The duty; its dependencies are injected.</typeparam>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="name">The duty's name: 1..64 characters of lowercase letters, digits and '-', starting with a letter or digit.</param>
    /// <param name="interval">The default interval.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid duty name.</exception>
    public static ICoordinationBuilder WithDuty<TDuty>(this ICoordinationBuilder builder, string name, TimeSpan interval)
        where TDuty : class, IDuty
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TDuty>();
        return builder.WithDuty(name, interval, static sp => sp.GetRequiredService<TDuty>());
    }

    /// <summary>Registers the duty <paramref name="name"/> made by <paramref name="factory"/>, as <see cref="WithDuty{TDuty}"/> does.</summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="name">The duty's name: 1..64 characters of lowercase letters, digits and '-', starting with a letter or digit.</param>
    /// <param name="interval">The default interval.</param>
    /// <param name="factory">Makes the duty, once, when the scheduler starts.</param>
    /// <returns>The same builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not a valid duty name.</exception>
    public static ICoordinationBuilder WithDuty(this ICoordinationBuilder builder, string name, TimeSpan interval, Func<IServiceProvider, IDuty> factory)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(name);
        if (!DutyName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a duty name: 1..64 characters of lowercase letters, digits and '-', starting with a letter or digit.", nameof(name));
        }

        var services = builder.Services;
        if (services.Any(d => d.ServiceType == typeof(DutyRegistration) && d.ImplementationInstance is DutyRegistration r && r.Name == name))
        {
            return builder;
        }

        services.AddSingleton(new DutyRegistration(name, factory));
        services.AddOptions<DutyOptions>(name)
            .Configure(o => o.Interval = interval)
            .BindConfiguration($"{DutyOptions.SectionName}:{name}")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        if (!services.Any(d => d.ServiceType == typeof(DutyState)))
        {
            services.AddOptions<DutySchedulerOptions>().BindConfiguration(DutySchedulerOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
            services.TryAddSingleton(sp => new DutyState(
                sp.GetRequiredService<RedisExecutor>(),
                sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<CoordinationOptions>>().Value.KeyPrefix));
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IDutyObserver, NullDutyObserver>());
            services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DutyScheduler>());
        }

        return builder;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex DutyName();
}
