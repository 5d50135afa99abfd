using System.Security.Claims;

namespace HomaBone.Gateway.Security;

/// <summary>How a principal is named in the audit log and rate-limit partitions (never personal data beyond the client id).</summary>
internal static class Principals
{
    /// <summary>The audit name of anonymous callers.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>The subject of <paramref name="user"/>: sub, client_id, azp or name; "anonymous" when unauthenticated.</summary>
    public static string SubjectOf(ClaimsPrincipal? user)
    {
        if (user?.Identity is not { IsAuthenticated: true } identity)
        {
            return Anonymous;
        }

        foreach (var type in (string[])["sub", "client_id", "azp", ClaimTypes.NameIdentifier])
        {
            if (user.FindFirst(type)?.Value is { Length: > 0 } value)
            {
                return Truncate(value);
            }
        }

        return identity.Name is { Length: > 0 } name ? Truncate(name) : "unnamed";
    }

    private static string Truncate(string value) => value.Length <= 128 ? value : value[..128];
}
