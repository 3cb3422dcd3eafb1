namespace Coordination;

/// <summary>The base of every exception the library throws for a coordination failure (not for bad arguments).</summary>
public abstract class CoordinationException : Exception
{
    /// <summary>Creates the exception.</summary>
    protected CoordinationException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
