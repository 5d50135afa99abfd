using System.Net.Sockets;
using Grpc.Core;

namespace HomaBone.Gateway.Services;

/// <summary>
/// The gRPC status of a failure that is not already one. Transient cluster failures (a silo that is gone, shutting
/// down or overloaded, a lost connection, a transient store error) are UNAVAILABLE: the only status the published
/// retry policy (protos/homabone/v1/grpc_service_config.json) retries. A call that ran out of time is
/// DEADLINE_EXCEEDED (not retried: the work may have been done), except a write that carries a request id, which
/// <see cref="ParticipantApi"/> answers UNAVAILABLE (a repeat is harmless). Everything else is INTERNAL.
/// </summary>
internal static class FailureStatus
{
    /// <summary>The status for <paramref name="exception"/>, or null when it already is a gRPC status.</summary>
    /// <param name="exception">What the call threw.</param>
    /// <param name="callCancelled">Whether the caller cancelled the call (or its deadline passed).</param>
    public static Status? Map(Exception exception, bool callCancelled)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        if (exception is RpcException)
        {
            return null;
        }

        if (exception is OperationCanceledException && callCancelled)
        {
            return new Status(StatusCode.Cancelled, "the call was cancelled");
        }

        if (exception is TimeoutException)
        {
            return new Status(StatusCode.DeadlineExceeded, "the cluster did not answer in time");
        }

        return IsTransient(exception)
            ? new Status(StatusCode.Unavailable, "the cluster is unavailable; retry")
            : new Status(StatusCode.Internal, "internal error");
    }

    /// <summary>A failure of the cluster or its connections that a retry (elsewhere, a little later) can cure.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        // SiloUnavailableException derives from OrleansMessageRejectionException: the target silo is dead,
        // stopping, or the message could not be delivered.
        Orleans.Runtime.OrleansMessageRejectionException => true,
        HomaBone.Grains.RecordStoreUnavailableException => true,
        Orleans.Runtime.GatewayTooBusyException => true,
        Orleans.Runtime.Messaging.ConnectionFailedException => true,
        Orleans.Runtime.OrleansLifecycleCanceledException => true,
        Orleans.Runtime.OrleansConfigurationException => false,
        Orleans.Runtime.GrainExtensionNotInstalledException => false,

        // "Could not find any gateway", "non-existent activation", forwarding limits: cluster state, not the call.
        Orleans.Runtime.OrleansException => true,
        SocketException => true,
        Microsoft.AspNetCore.Connections.ConnectionAbortedException => true,
        Microsoft.AspNetCore.Connections.ConnectionResetException => true,
        Microsoft.Data.Sqlite.SqliteException => true,
        Npgsql.NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };
}
