using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>Checks the data annotations of the options and of every nested options object (source-generated).</summary>
[OptionsValidator]
internal sealed partial class CoordinationOptionsValidator : IValidateOptions<CoordinationOptions>;
