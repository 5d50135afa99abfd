using System.Net.Sockets;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using HomaBone.Contracts.V1;
using HomaBone.Gateway;
using HomaBone.Gateway.Services;
using Npgsql;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// Unit tests (no processes): Orleans and connection failures become UNAVAILABLE, timeouts DEADLINE_EXCEEDED, and the
/// published retry policy retries UNAVAILABLE alone, for every service of the contracts.
/// </summary>
public sealed class FailureMappingTests
{
    public static TheoryData<string, Exception, StatusCode> Failures() => new()
    {
        { "silo unavailable", new Orleans.Runtime.SiloUnavailableException("silo S127.0.0.1:11111:1 is dead"), StatusCode.Unavailable },
        { "message rejected", Uninitialized<Orleans.Runtime.OrleansMessageRejectionException>(), StatusCode.Unavailable },
        { "gateway too busy", new Orleans.Runtime.GatewayTooBusyException(), StatusCode.Unavailable },
        { "connection failed", new Orleans.Runtime.Messaging.ConnectionFailedException("could not connect to 127.0.0.1:30000"), StatusCode.Unavailable },
        { "lifecycle cancelled", Uninitialized<Orleans.Runtime.OrleansLifecycleCanceledException>(), StatusCode.Unavailable },
        { "no gateway found", new Orleans.Runtime.OrleansException("Could not find any gateway"), StatusCode.Unavailable },
        { "socket", new SocketException((int)SocketError.ConnectionRefused), StatusCode.Unavailable },
        { "connection reset", new Microsoft.AspNetCore.Connections.ConnectionResetException("reset"), StatusCode.Unavailable },
        { "connection aborted", new Microsoft.AspNetCore.Connections.ConnectionAbortedException(), StatusCode.Unavailable },
        { "postgres connection lost", new NpgsqlException("connection lost", new IOException("broken pipe")), StatusCode.Unavailable },
        { "postgres serialization failure", new PostgresException("could not serialize", "ERROR", "ERROR", PostgresErrorCodes.SerializationFailure), StatusCode.Unavailable },
        { "record store deadlock (from the silo filter)", new HomaBone.Grains.RecordStoreUnavailableException("transient record store failure (SQLSTATE 40P01); retry"), StatusCode.Unavailable },
        { "sqlite busy", new Microsoft.Data.Sqlite.SqliteException("database is locked", 5), StatusCode.Unavailable },
        { "aggregate of one silo failure", new AggregateException(new Orleans.Runtime.SiloUnavailableException()), StatusCode.Unavailable },
        { "response timeout", new TimeoutException("Response did not arrive on time in 00:00:10"), StatusCode.DeadlineExceeded },
        { "aggregate of one timeout", new AggregateException(new TimeoutException()), StatusCode.DeadlineExceeded },
        { "postgres unique violation", new PostgresException("duplicate key", "ERROR", "ERROR", PostgresErrorCodes.UniqueViolation), StatusCode.Internal },
        { "orleans configuration", new Orleans.Runtime.OrleansConfigurationException("bad"), StatusCode.Internal },
        { "grain extension missing", new Orleans.Runtime.GrainExtensionNotInstalledException("no extension"), StatusCode.Internal },
        { "bug in grain code", new InvalidOperationException("bug"), StatusCode.Internal },
        { "argument", new ArgumentException("bad argument"), StatusCode.Internal },
        { "cancelled by the server, not the caller", new OperationCanceledException(), StatusCode.Internal },
        { "aggregate of two", new AggregateException(new Orleans.Runtime.SiloUnavailableException(), new InvalidOperationException()), StatusCode.Internal },
    };

    /// <summary>An exception whose constructors Orleans keeps internal (only its type matters to the mapping).</summary>
    private static T Uninitialized<T>()
        where T : Exception => (T)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(T));

    [Theory]
    [MemberData(nameof(Failures))]
    public void FailureMapsToStatus(string what, Exception exception, StatusCode expected)
    {
        var status = FailureStatus.Map(exception, callCancelled: false);
        Assert.True(status.HasValue, what);
        Assert.Equal(expected, status.Value.StatusCode);
        if (exception.GetType().GetField("_message", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)?.GetValue(exception) is string { Length: > 0 } message)
        {
            Assert.DoesNotContain(message, status.Value.Detail, StringComparison.Ordinal); // nothing of the failure leaks
        }
    }

    [Fact]
    public void CancelledCall_IsCancelled_AndRpcExceptionsPassThrough()
    {
        Assert.Equal(StatusCode.Cancelled, FailureStatus.Map(new OperationCanceledException(), callCancelled: true)!.Value.StatusCode);
        Assert.Null(FailureStatus.Map(new RpcException(new Status(StatusCode.NotFound, "no such participant")), callCancelled: false));
    }

    [Fact]
    public void PublishedServiceConfig_RetriesOnlyUnavailable_ForEveryService()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(PublishedRetryPolicy.Path));
        var services = new HashSet<string>(StringComparer.Ordinal);
        foreach (var method in document.RootElement.GetProperty("methodConfig").EnumerateArray())
        {
            var retry = method.GetProperty("retryPolicy");
            Assert.Equal(["UNAVAILABLE"], retry.GetProperty("retryableStatusCodes").EnumerateArray().Select(c => c.GetString()));
            Assert.InRange(retry.GetProperty("maxAttempts").GetInt32(), 2, 5); // gRPC clients cap attempts at 5
            Assert.False(method.TryGetProperty("hedgingPolicy", out _), "hedging would send non-idempotent writes twice");
            foreach (var name in method.GetProperty("name").EnumerateArray())
            {
                services.Add(name.GetProperty("service").GetString()!);
            }
        }

        var contractServices = new[] { ParticipantReflection.Descriptor, CohortReflection.Descriptor, QctReflection.Descriptor, AuditReflection.Descriptor }
            .SelectMany(f => f.Services).Select(s => s.FullName);
        Assert.Equal(contractServices.Order(StringComparer.Ordinal), services.Order(StringComparer.Ordinal));

        // The .NET client accepts it (GrpcChannel validates the retry policy), and reads the same single status.
        var config = PublishedRetryPolicy.Load();
        Assert.All(config.MethodConfigs, m => Assert.Equal([StatusCode.Unavailable], m.RetryPolicy!.RetryableStatusCodes));
        using var channel = GrpcChannel.ForAddress("http://127.0.0.1:1", new GrpcChannelOptions { ServiceConfig = config });
    }

    [Fact]
    public void GatewayServesThePublishedFile()
    {
        Assert.Equal(File.ReadAllText(PublishedRetryPolicy.Path), GatewayExtensions.PublishedServiceConfig.Value);
    }

    [Fact]
    public void WriteTimeout_WithARequestId_IsUnavailable_WithoutOne_StaysATimeout()
    {
        // The response of a write in flight to a silo that exited is lost: Orleans answers TimeoutException after the
        // response timeout. With a request id a repeat is harmless, so the retry policy may send it again.
        var timeout = new TimeoutException("Response did not arrive on time in 00:00:10");
        const string Upsert = "/homabone.v1.ParticipantService/UpsertParticipant";
        Assert.Equal(StatusCode.Unavailable, RepeatableCall.TimeoutStatus(timeout, Upsert, new UpsertParticipantRequest { RequestId = "request-1" })!.Value.StatusCode);
        Assert.Equal(StatusCode.Unavailable, RepeatableCall.TimeoutStatus(timeout, "/homabone.v1.ParticipantService/WithdrawParticipant", new WithdrawParticipantRequest { RequestId = "request-2" })!.Value.StatusCode);
        Assert.Null(RepeatableCall.TimeoutStatus(timeout, Upsert, new UpsertParticipantRequest()));
        Assert.Equal(StatusCode.DeadlineExceeded, FailureStatus.Map(timeout, callCancelled: false)!.Value.StatusCode);

        // A read that merely timed out stays DEADLINE_EXCEEDED. Cohort writes are deduplicated by their request id too
        // (the store's request log): repeatable with one, not without.
        Assert.Null(RepeatableCall.TimeoutStatus(timeout, "/homabone.v1.CohortService/GetAssociations", new GetAssociationsRequest()));
        Assert.Equal(StatusCode.Unavailable, RepeatableCall.TimeoutStatus(timeout, "/homabone.v1.CohortService/UpdateCohort", new UpdateCohortRequest { RequestId = "settings-2" })!.Value.StatusCode);
        Assert.Equal(StatusCode.Unavailable, RepeatableCall.TimeoutStatus(timeout, "/homabone.v1.CohortService/CreateCohort", new CreateCohortRequest { RequestId = "create-1" })!.Value.StatusCode);
        Assert.Null(RepeatableCall.TimeoutStatus(timeout, "/homabone.v1.CohortService/UpdateCohort", new UpdateCohortRequest()));
        Assert.Null(RepeatableCall.TimeoutStatus(timeout, "/homabone.v1.CohortService/CreateCohort", new CreateCohortRequest()));
    }

    [Fact]
    public void OnlyTransientFailuresAreUnavailable_TheOnlyStatusRetried()
    {
        var retried = PublishedRetryPolicy.Load().MethodConfigs.SelectMany(m => m.RetryPolicy!.RetryableStatusCodes).ToHashSet();
        foreach (var row in Failures())
        {
            var (exception, expected) = ((Exception)row[1], (StatusCode)row[2]);
            Assert.Equal(expected == StatusCode.Unavailable, retried.Contains(FailureStatus.Map(exception, callCancelled: false)!.Value.StatusCode));
        }
    }
}
