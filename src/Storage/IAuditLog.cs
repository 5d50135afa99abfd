namespace HomaBone.Storage;

/// <summary>
/// The audit log of the public API: one entry per RPC call, durable before the call is answered. Append-only
/// from the service's side: there is no update or delete.
/// </summary>
public interface IAuditLog
{
    /// <summary>Appends <paramref name="entry"/> (its <see cref="AuditEntry.Sequence"/> is ignored) and returns its sequence number once durable.</summary>
    Task<long> AppendAuditAsync(AuditEntry entry, CancellationToken cancellationToken = default);

    /// <summary>Entries matching <paramref name="query"/>, newest first.</summary>
    Task<IReadOnlyList<AuditEntry>> QueryAuditAsync(AuditQuery query, CancellationToken cancellationToken = default);
}

/// <summary>One audited call. Never holds a health value or a participant identifier (only pseudonyms).</summary>
/// <param name="Sequence">Store-assigned, increasing with time of writing.</param>
/// <param name="Time">When the call started (UTC).</param>
/// <param name="Principal">The authenticated subject (token subject or client id, certificate thumbprint), or "anonymous".</param>
/// <param name="Rpc">The gRPC method, e.g. /homabone.v1.CohortService/GetQuartiles.</param>
/// <param name="CohortId">The cohort the call named, or empty.</param>
/// <param name="CohortVersion">The cohort version the answer used, when the handler reported it.</param>
/// <param name="Parameters">Request parameters without health values (page sizes, model labels, pseudonymised participants).</param>
/// <param name="DisclosureActions">Disclosure-control actions the handler took (suppressed cells, rounding).</param>
/// <param name="ResultMessages">Response messages sent (1 for a unary success, 0 for an error, n for a stream).</param>
/// <param name="ResultBytes">Serialized size of the response messages.</param>
/// <param name="Duration">Wall-clock duration of the call.</param>
/// <param name="StatusCode">The gRPC status code answered (0 = OK).</param>
public sealed record AuditEntry(
    long Sequence,
    DateTimeOffset Time,
    string Principal,
    string Rpc,
    string CohortId,
    long? CohortVersion,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<string> DisclosureActions,
    long ResultMessages,
    long ResultBytes,
    TimeSpan Duration,
    int StatusCode);

/// <summary>Filters of an audit query; empty or null filters match everything.</summary>
/// <param name="From">Entries at or after this time.</param>
/// <param name="To">Entries before this time.</param>
/// <param name="Principal">Exact principal.</param>
/// <param name="Rpc">Exact method, or a suffix after '/' (e.g. "GetQuartiles").</param>
/// <param name="CohortId">Exact cohort id.</param>
/// <param name="BeforeSequence">Only entries with a smaller sequence (pagination); 0 means from the newest.</param>
/// <param name="Limit">Maximum number of entries.</param>
public sealed record AuditQuery(
    DateTimeOffset? From,
    DateTimeOffset? To,
    string? Principal,
    string? Rpc,
    string? CohortId,
    long BeforeSequence,
    int Limit);
