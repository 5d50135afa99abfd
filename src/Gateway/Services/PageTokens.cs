using System.Text;

namespace HomaBone.Gateway.Services;

/// <summary>
/// Opaque page tokens (AIP-158): they bind the position to the parent and filters of the list that issued
/// them, so a token cannot be replayed against another cohort or filter.
/// </summary>
internal static class PageTokens
{
    public static string Encode(string lastParticipantId, string cohortId, bool showWithdrawn) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"v1|{cohortId}|{(showWithdrawn ? 1 : 0)}|{lastParticipantId}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The participant id to continue after ("" for the first page), or null when invalid.</summary>
    public static string? Decode(string token, string cohortId, bool showWithdrawn)
    {
        if (token.Length == 0)
        {
            return string.Empty;
        }

        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('|');
            return parts.Length == 4 && parts[0] == "v1" && parts[1] == cohortId && parts[2] == (showWithdrawn ? "1" : "0") && parts[3].Length > 0 ? parts[3] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
