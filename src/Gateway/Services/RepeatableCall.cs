using System.Collections.Concurrent;
using System.Collections.Frozen;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using HomaBone.Hosting;

namespace HomaBone.Gateway.Services;

/// <summary>
/// Which unary calls may be sent again after their answer was lost, and so the status of a timed-out one. A write whose
/// server deduplicates it by <c>request_id</c> is repeatable when the request carries one: the participant writes (the
/// participant grain's request log answers a repeat with the first result) and the cohort writes (the store's request
/// log: a repeated create or update answers the cohort as it is, not ALREADY_EXISTS or ABORTED); a read (the API's Get…
/// and List… methods) changes nothing. Looks at the method name and the request's descriptor only — never at values.
/// </summary>
internal static class RepeatableCall
{
    /// <summary>The UNAVAILABLE detail of a call given up because its silo gateway was lost (LostGatewayGuard).</summary>
    public const string LostGatewayDetail = "the silo gateway carrying the call was lost; the call is safe to send again";

    /// <summary>The UNAVAILABLE detail of a deduplicated write that timed out.</summary>
    public const string TimedOutWriteDetail = "the cluster did not answer in time; the write may have been applied: send it again with the same request_id";

    private static readonly FrozenSet<string> DeduplicatedWrites = new[]
    {
        "/homabone.v1.ParticipantService/UpsertParticipant",
        "/homabone.v1.ParticipantService/WithdrawParticipant",
        "/homabone.v1.CohortService/CreateCohort",
        "/homabone.v1.CohortService/UpdateCohort",
    }.ToFrozenSet(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<MessageDescriptor, FieldDescriptor?> RequestIdFields = new();

    /// <summary>
    /// UNAVAILABLE (which the published retry policy retries) for a timed-out unary call that is safe to send again,
    /// else null (the caller's mapping answers DEADLINE_EXCEEDED). Any timeout of a deduplicated write with a request
    /// id — typically its answer was lost with a silo that stopped or froze — and a read or such a write given up
    /// because its silo gateway was lost (<see cref="SiloGatewayLostException"/>). Other reads that time out stay
    /// DEADLINE_EXCEEDED: retrying a slow analysis five times would multiply the load on a cluster already slow.
    /// </summary>
    public static Status? TimeoutStatus(TimeoutException exception, string method, object? request)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(method);
        if (IsDeduplicatedWrite(method, request))
        {
            return new Status(StatusCode.Unavailable, exception is SiloGatewayLostException ? LostGatewayDetail : TimedOutWriteDetail);
        }

        return exception is SiloGatewayLostException && IsRead(method) ? new Status(StatusCode.Unavailable, LostGatewayDetail) : null;
    }

    private static bool IsRead(string method)
    {
        var name = method.AsSpan(method.LastIndexOf('/') + 1);
        return name.StartsWith("Get", StringComparison.Ordinal) || name.StartsWith("List", StringComparison.Ordinal);
    }

    private static bool IsDeduplicatedWrite(string method, object? request)
    {
        if (!DeduplicatedWrites.Contains(method) || request is not IMessage message)
        {
            return false;
        }

        var field = RequestIdFields.GetOrAdd(message.Descriptor, static d => d.FindFieldByName("request_id") is { FieldType: FieldType.String } f ? f : null);
        return field is not null && field.Accessor.GetValue(message) is string { Length: > 0 };
    }
}
