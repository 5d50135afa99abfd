using System.Collections.Concurrent;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace HomaBone.Gateway.Services;

/// <summary>
/// Whether a unary call may be sent again after its answer was lost: a read (the API's Get… and List… methods change
/// nothing), or a write whose request carries a non-empty <c>request_id</c> (a repeat answers the first result and
/// changes nothing). Looks at the method name and the request's descriptor only — never at values.
/// </summary>
internal static class RepeatableCall
{
    /// <summary>The UNAVAILABLE detail of a call given up because its silo gateway was lost (LostGatewayGuard).</summary>
    public const string LostGatewayDetail = "the silo gateway carrying the call was lost; the call is safe to send again";

    private static readonly ConcurrentDictionary<MessageDescriptor, FieldDescriptor?> RequestIdFields = new();

    public static bool IsSafeToRepeat(string method, object? request)
    {
        ArgumentNullException.ThrowIfNull(method);
        var name = method.AsSpan(method.LastIndexOf('/') + 1);
        if (name.StartsWith("Get", StringComparison.Ordinal) || name.StartsWith("List", StringComparison.Ordinal))
        {
            return true;
        }

        if (request is not IMessage message)
        {
            return false;
        }

        var field = RequestIdFields.GetOrAdd(message.Descriptor, static d => d.FindFieldByName("request_id") is { FieldType: FieldType.String } f ? f : null);
        return field is not null && field.Accessor.GetValue(message) is string { Length: > 0 };
    }
}
