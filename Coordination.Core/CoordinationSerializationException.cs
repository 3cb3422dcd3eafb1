namespace Coordination;

/// <summary>A stored value could not be read as the requested type. The stored value is left untouched.</summary>
public sealed class CoordinationSerializationException : CoordinationException
{
    /// <summary>Creates the exception.</summary>
    public CoordinationSerializationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
