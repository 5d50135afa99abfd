using System.Diagnostics.CodeAnalysis;
using Google.Rpc;
using Grpc.Core;
using HomaBone.Grains;

namespace HomaBone.Gateway.Services;

/// <summary>Builds rich gRPC errors (google.rpc.Status with BadRequest field violations).</summary>
internal static class GrpcErrors
{
    /// <summary>Throws INVALID_ARGUMENT listing every violation.</summary>
    [DoesNotReturn]
    public static void ThrowInvalid(string message, IEnumerable<FieldViolation> violations) => throw Invalid(message, violations);

    /// <summary>An INVALID_ARGUMENT error listing every violation.</summary>
    public static RpcException Invalid(string message, IEnumerable<FieldViolation> violations) => ToStatus(Code.InvalidArgument, message, violations).ToRpcException();

    /// <summary>Throws a status of <paramref name="code"/>.</summary>
    [DoesNotReturn]
    public static void Throw(Code code, string message) => throw new Google.Rpc.Status { Code = (int)code, Message = message }.ToRpcException();

    /// <summary>The google.rpc.Status of a failed reply.</summary>
    public static Google.Rpc.Status ToStatus(GrainReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var code = reply.Status switch
        {
            ReplyStatus.InvalidArgument => Code.InvalidArgument,
            ReplyStatus.NotFound => Code.NotFound,
            ReplyStatus.Aborted => Code.Aborted,
            ReplyStatus.FailedPrecondition => Code.FailedPrecondition,
            ReplyStatus.AlreadyExists => Code.AlreadyExists,
            _ => Code.Internal,
        };
        return ToStatus(code, reply.Message ?? code.ToString(), reply.Violations ?? []);
    }

    /// <summary>Returns the payload of a successful reply or throws its error.</summary>
    public static byte[] Unwrap(GrainReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        if (reply.Status == ReplyStatus.Ok && reply.Payload is not null)
        {
            return reply.Payload;
        }

        throw ToStatus(reply).ToRpcException();
    }

    private static Google.Rpc.Status ToStatus(Code code, string message, IEnumerable<FieldViolation> violations)
    {
        var status = new Google.Rpc.Status { Code = (int)code, Message = message };
        var badRequest = new BadRequest();
        foreach (var v in violations)
        {
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description });
        }

        if (badRequest.FieldViolations.Count > 0)
        {
            status.Details.Add(Google.Protobuf.WellKnownTypes.Any.Pack(badRequest));
        }

        return status;
    }
}
