using HomaBone.Grains;

namespace HomaBone.Gateway.Services;

/// <summary>The rule every request_id (idempotency key) of the API follows.</summary>
internal static class RequestIds
{
    /// <summary>Longest accepted request id.</summary>
    public const int MaxLength = 128;

    /// <summary>Adds a violation for a request id longer than <see cref="MaxLength"/>.</summary>
    public static void Check(string requestId, string field, List<FieldViolation> violations)
    {
        if (requestId.Length > MaxLength)
        {
            violations.Add(new(field, $"must be at most {MaxLength} characters; got {requestId.Length}"));
        }
    }
}
