using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Sessions;

/// <summary>
/// One session's data, in the form each client stores it: ten fields of about 500 bytes of JSON in all (what a web
/// application keeps per signed-in user: identity, preferences, a cart, a CSRF token, feature flags).
/// </summary>
internal sealed class SessionData
{
    private SessionData(IReadOnlyDictionary<string, JsonElement> fields)
    {
        Fields = fields;
        Json = JsonSerializer.SerializeToUtf8Bytes(fields);
        HashFields = [.. fields.Select(f => new HashEntry(f.Key, f.Value.GetRawText()))];
    }

    /// <summary>The fields, as <see cref="ISessionManager.CreateAsync"/> takes them.</summary>
    public IReadOnlyDictionary<string, JsonElement> Fields { get; }

    /// <summary>The fields serialized with System.Text.Json as one object, as the <c>IDistributedCache</c> client stores them.</summary>
    public byte[] Json { get; }

    /// <summary>One hash field per session field, its value the field's JSON text, as the raw client stores them.</summary>
    public HashEntry[] HashFields { get; }

    /// <summary>The bytes of field names and JSON values (the measure a session store's size cap applies to).</summary>
    public int FieldBytes => Fields.Sum(f => Encoding.UTF8.GetByteCount(f.Key) + Encoding.UTF8.GetByteCount(f.Value.GetRawText()));

    public static SessionData For(int number)
    {
        var user = number.ToString("D5", CultureInfo.InvariantCulture);
        var csrf = Base64Url(RandomNumberGenerator.GetBytes(32));
        var json = $$"""
            {
              "userName": "user-{{user}}",
              "email": "user-{{user}}@example.com",
              "locale": "en-GB",
              "theme": "dark",
              "roles": ["reader", "editor", "billing"],
              "cartId": "{{Guid.NewGuid()}}",
              "cartItems": [{"sku": "SKU-{{user}}-1", "quantity": 2, "price": 19.99}, {"sku": "SKU-{{user}}-2", "quantity": 1, "price": 5.49}],
              "lastPage": "/catalogue/products/{{user}}?sort=price&page=2",
              "csrfToken": "{{csrf}}",
              "flags": {"beta": true, "newCheckout": false, "tour": "done", "consent": "2026-11-30T10:15:00Z"}
            }
            """;
        using var document = JsonDocument.Parse(json);
        return new SessionData(document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal));
    }

    /// <summary>A new unguessable session id: 128 random bits, URL-safe, as session stores generate them.</summary>
    public static string NewId() => Base64Url(RandomNumberGenerator.GetBytes(16));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
