using System.Buffers.Text;
using System.Security.Cryptography;

namespace Coordination;

/// <summary>
/// Session ids: 128 random bits (22 base64url characters), a '.', and the hash tag of the user's slot, so that the
/// session's key lands in the slot of its user's index and every session script touches one slot. The tag tells only
/// which of the 16384 slots a user's sessions are in; the random part is what makes the id unguessable.
/// </summary>
internal static class SessionId
{
    /// <summary>Characters of the random part: 16 bytes in base64url, without padding.</summary>
    public const int RandomLength = 22;

    private const int RandomBytes = 16;

    // The longest tag HashSlot hands out (base 36, counted up until every slot has one) is 4 characters.
    private const int MaxTagLength = 4;

    /// <summary>The hash tag of <paramref name="userId"/>'s sessions in <paramref name="tenant"/>.</summary>
    public static string TagOf(string prefix, string tenant, string userId) =>
        HashSlot.TagFor(HashSlot.Of(string.Concat(prefix, ":", tenant, ":", userId)));

    /// <summary>A new id in the slot of <paramref name="tag"/>; <paramref name="random"/> is its random part.</summary>
    public static string New(string tag, out string random)
    {
        random = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));
        return string.Concat(random, ".", tag);
    }

    /// <inheritdoc cref="New(string, out string)"/>
    public static string New(string tag) => New(tag, out _);

    /// <summary>
    /// Splits an id into its random part and its tag. False for anything not shaped exactly as <see cref="New(string, out string)"/>
    /// makes ids (length, alphabet, a tag that is not the canonical tag of a slot), so no such text reaches a key.
    /// </summary>
    public static bool TryParse(string? id, out string random, out string tag)
    {
        random = tag = string.Empty;
        if (id is null || id.Length < RandomLength + 2 || id.Length > RandomLength + 1 + MaxTagLength || id[RandomLength] != '.')
        {
            return false;
        }

        for (var i = 0; i < RandomLength; i++)
        {
            if (!IsBase64Url(id[i]))
            {
                return false;
            }
        }

        var candidate = id[(RandomLength + 1)..];
        foreach (var c in candidate)
        {
            if (!char.IsAsciiDigit(c) && !char.IsAsciiLetterLower(c))
            {
                return false;
            }
        }

        // Every slot has exactly one tag; any other text of the same alphabet is not one we issued.
        if (!string.Equals(HashSlot.TagFor(HashSlot.Of(candidate)), candidate, StringComparison.Ordinal))
        {
            return false;
        }

        random = id[..RandomLength];
        tag = candidate;
        return true;
    }

    private static bool IsBase64Url(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_';
}
