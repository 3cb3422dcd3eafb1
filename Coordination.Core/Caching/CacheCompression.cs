namespace Coordination;

/// <summary>How cache values above <see cref="CacheOptions.CompressionThresholdBytes"/> are compressed in Redis.</summary>
/// <remarks>
/// Each stored entry names its own codec in a header byte, so entries written under another setting stay readable
/// after the setting changes.
/// </remarks>
public enum CacheCompression
{
    /// <summary>Values are stored as serialized.</summary>
    None = 0,

    /// <summary>Brotli (<see cref="System.IO.Compression.BrotliEncoder"/>), fastest level: the best ratio for text and JSON.</summary>
    Brotli = 1,

    /// <summary>GZip (<see cref="System.IO.Compression.GZipStream"/>), fastest level.</summary>
    GZip = 2,
}
