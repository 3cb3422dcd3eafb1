using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Authentication;

/// <summary>
/// The configured keys, kept only as SHA-256 hashes. A lookup hashes the presented key and compares it with every
/// stored hash in constant time, so neither the comparison nor the loop reveals how close a guess came.
/// </summary>
internal sealed class ApiKeyStore
{
    private readonly Entry[] _entries;

    public ApiKeyStore(IOptions<ApiKeysOptions> options)
    {
        _entries = [.. options.Value.ApiKeys.Select(e => new Entry(Hash(e.Key), e.Tenant, e.Role.ToLowerInvariant()))];
    }

    public static bool IsKnownRole(string? role) =>
        string.Equals(role, ApiKeyDefaults.MemberRole, StringComparison.OrdinalIgnoreCase)
        || string.Equals(role, ApiKeyDefaults.AdminRole, StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the tenant and role of <paramref name="presentedKey"/>, or <see langword="null"/> when it is unknown.</summary>
    public (string Tenant, string Role)? Find(string presentedKey)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Hash(presentedKey, hash);

        Entry? match = null;
        foreach (var entry in _entries)
        {
            // No early exit: every stored hash is compared whatever matched.
            if (CryptographicOperations.FixedTimeEquals(entry.Hash, hash))
            {
                match = entry;
            }
        }

        return match is null ? null : (match.Tenant, match.Role);
    }

    private static byte[] Hash(string key)
    {
        var hash = new byte[SHA256.HashSizeInBytes];
        Hash(key, hash);
        return hash;
    }

    private static void Hash(string key, Span<byte> destination)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(key.Length);
        var buffer = maxBytes <= 512 ? stackalloc byte[512] : new byte[maxBytes];
        var written = Encoding.UTF8.GetBytes(key, buffer);
        SHA256.HashData(buffer[..written], destination);
        CryptographicOperations.ZeroMemory(buffer[..written]);
    }

    private sealed record Entry(byte[] Hash, string Tenant, string Role);
}
