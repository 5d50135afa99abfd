using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Gateway.Services;
using HomaBone.Storage;

namespace HomaBone.Gateway.Security;

/// <summary>AuditService: the audit log for auditors, newest first, with filters and opaque page tokens.</summary>
internal sealed class AuditApi(IAuditLog log) : AuditService.AuditServiceBase
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1000;

    public override async Task<ListAuditEntriesResponse> ListAuditEntries(ListAuditEntriesRequest request, ServerCallContext context)
    {
        var violations = new List<Grains.FieldViolation>();
        if (request.PageSize is < 0 or > MaxPageSize)
        {
            violations.Add(new("page_size", $"must be between 0 and {MaxPageSize}; got {request.PageSize}"));
        }

        if (request.StartTime is not null && request.EndTime is not null && request.StartTime.ToDateTimeOffset() >= request.EndTime.ToDateTimeOffset())
        {
            violations.Add(new("end_time", "must be after start_time"));
        }

        var filters = Fingerprint(request);
        var before = DecodeToken(request.PageToken, filters);
        if (before is null)
        {
            violations.Add(new("page_token", "is not a token returned by this list with the same filters"));
        }

        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", violations);
        }

        var pageSize = request.PageSize == 0 ? DefaultPageSize : request.PageSize;
        var entries = await log.QueryAuditAsync(
            new AuditQuery(
                request.StartTime?.ToDateTimeOffset(),
                request.EndTime?.ToDateTimeOffset(),
                request.Principal,
                request.Rpc,
                request.CohortId,
                before!.Value,
                pageSize + 1),
            context.CancellationToken);
        var response = new ListAuditEntriesResponse();
        foreach (var entry in entries.Take(pageSize))
        {
            response.Entries.Add(ToProto(entry));
        }

        if (entries.Count > pageSize)
        {
            response.NextPageToken = EncodeToken(entries[pageSize - 1].Sequence, filters);
        }

        return response;
    }

    private static Contracts.V1.AuditEntry ToProto(Storage.AuditEntry entry)
    {
        var proto = new Contracts.V1.AuditEntry
        {
            Sequence = entry.Sequence,
            Time = Timestamp.FromDateTimeOffset(entry.Time),
            Principal = entry.Principal,
            Rpc = entry.Rpc,
            CohortId = entry.CohortId,
            CohortVersion = entry.CohortVersion ?? 0,
            ResultMessages = entry.ResultMessages,
            ResultBytes = entry.ResultBytes,
            Duration = Duration.FromTimeSpan(entry.Duration),
            StatusCode = entry.StatusCode,
        };
        foreach (var (key, value) in entry.Parameters)
        {
            proto.Parameters[key] = value;
        }

        proto.DisclosureActions.Add(entry.DisclosureActions);
        return proto;
    }

    // The token binds the position to the filters that produced it (AIP-158).
    private static string Fingerprint(ListAuditEntriesRequest request)
    {
        var text = string.Join('\u001f', request.StartTime?.ToString() ?? string.Empty, request.EndTime?.ToString() ?? string.Empty, request.Principal, request.Rpc, request.CohortId);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
    }

    private static string EncodeToken(long beforeSequence, string filters) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"a1|{filters}|{beforeSequence.ToString(CultureInfo.InvariantCulture)}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The sequence to continue before (0 for the first page), or null when the token is invalid.</summary>
    private static long? DecodeToken(string token, string filters)
    {
        if (token.Length == 0)
        {
            return 0;
        }

        try
        {
            var base64 = token.Replace('-', '+').Replace('_', '/');
            base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
            var parts = Encoding.UTF8.GetString(Convert.FromBase64String(base64)).Split('|');
            return parts.Length == 3 && parts[0] == "a1" && parts[1] == filters && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence > 0 ? sequence : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
