using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.IO.Compression;
using System.Text;

namespace Coordination;

/// <summary>
/// The stored form of a cache entry. Redis holds <c>{created}:{expires}:{sliding}:</c> (ASCII, written by
/// <c>cache_set.lua</c> from the server clock) followed by the body written here:
/// <c>[codec:1][compute ms:4 LE][tag count:1]([tag length:2 LE][tag UTF-8])*[payload]</c>. The codec byte lets entries
/// written under another compression setting be read as they are.
/// </summary>
internal static class CacheEntryCodec
{
    public const int MaxTags = 255;

    /// <summary>Builds the body. Returns it and the bytes compression saved.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload, string[] tags, int computeMilliseconds, CacheCompression compression, int threshold, out long saved)
    {
        saved = 0;
        byte[]? compressed = null;
        var compressedLength = 0;
        var codec = CacheCompression.None;
        if (compression != CacheCompression.None && payload.Length >= threshold)
        {
            compressed = Compress(payload, compression, out compressedLength);
            if (compressedLength < payload.Length)
            {
                codec = compression;
                saved = payload.Length - compressedLength;
            }
        }

        var headerLength = 6;
        foreach (var tag in tags)
        {
            headerLength += 2 + Encoding.UTF8.GetByteCount(tag);
        }

        var body = codec == CacheCompression.None ? payload : compressed.AsSpan(0, compressedLength);
        var result = new byte[headerLength + body.Length];
        result[0] = (byte)codec;
        BinaryPrimitives.WriteInt32LittleEndian(result.AsSpan(1), computeMilliseconds);
        result[5] = (byte)tags.Length;
        var offset = 6;
        foreach (var tag in tags)
        {
            var length = Encoding.UTF8.GetBytes(tag, result.AsSpan(offset + 2));
            BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(offset), (ushort)length);
            offset += 2 + length;
        }

        body.CopyTo(result.AsSpan(offset));
        if (compressed is not null)
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }

        return result;
    }

    /// <summary>Reads a stored value. Returns false when it is not in the cache format.</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> stored, long failSafeWindow, out StoredEntryInfo info, out ReadOnlyMemory<byte> payload, out CacheCompression codec)
    {
        info = default;
        payload = default;
        codec = CacheCompression.None;
        var span = stored.Span;
        if (!ReadNumber(ref span, out var created) || !ReadNumber(ref span, out var expires) || !ReadNumber(ref span, out var sliding) || span.Length < 6)
        {
            return false;
        }

        var headerLength = stored.Length - span.Length;
        codec = (CacheCompression)span[0];
        var compute = BinaryPrimitives.ReadInt32LittleEndian(span[1..]);
        var count = span[5];
        var offset = 6;
        var tags = count == 0 ? [] : new string[count];
        for (var i = 0; i < count; i++)
        {
            if (span.Length < offset + 2)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(span[offset..]);
            if (span.Length < offset + 2 + length)
            {
                return false;
            }

            tags[i] = Encoding.UTF8.GetString(span.Slice(offset + 2, length));
            offset += 2 + length;
        }

        payload = stored[(headerLength + offset)..];
        info = new StoredEntryInfo(created, expires, expires + failSafeWindow, sliding, compute, tags);
        return codec is CacheCompression.None or CacheCompression.Brotli or CacheCompression.GZip;
    }

    public static byte[] Decompress(ReadOnlySpan<byte> data, CacheCompression codec)
    {
        using var input = new MemoryStream(data.ToArray(), writable: false);
        using Stream decoder = codec == CacheCompression.Brotli
            ? new BrotliStream(input, CompressionMode.Decompress)
            : new GZipStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream(data.Length * 4);
        decoder.CopyTo(output);
        return output.ToArray();
    }

    private static byte[] Compress(ReadOnlySpan<byte> payload, CacheCompression codec, out int length)
    {
        if (codec == CacheCompression.Brotli)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(payload.Length));
            if (BrotliEncoder.TryCompress(payload, buffer, out length, quality: 1, window: 22))
            {
                return buffer;
            }

            length = int.MaxValue;
            return buffer;
        }

        using var output = new MemoryStream(payload.Length / 2 + 64);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(payload);
        }

        var rented = ArrayPool<byte>.Shared.Rent((int)output.Length);
        length = (int)output.Length;
        output.GetBuffer().AsSpan(0, length).CopyTo(rented);
        return rented;
    }

    private static bool ReadNumber(ref ReadOnlySpan<byte> span, out long value)
    {
        if (!Utf8Parser.TryParse(span, out value, out var consumed) || span.Length <= consumed || span[consumed] != (byte)':')
        {
            return false;
        }

        span = span[(consumed + 1)..];
        return true;
    }
}
