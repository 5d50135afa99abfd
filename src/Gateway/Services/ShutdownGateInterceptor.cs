using Grpc.Core;
using Grpc.Core.Interceptors;
using HomaBone.Hosting;

namespace HomaBone.Gateway.Services;

/// <summary>
/// Once shutdown has begun (readiness false), new calls are answered UNAVAILABLE at once, so that clients retry them on
/// another gateway under the published retry policy; calls already running finish. The gRPC health service still
/// answers (NOT_SERVING).
/// </summary>
internal sealed class ShutdownGateInterceptor(ReadinessState readiness) : Interceptor
{
    private static readonly Status ShuttingDown = new(StatusCode.Unavailable, "the gateway is shutting down; retry");

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Gate(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Gate(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Gate(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Gate(context);
        return continuation(requestStream, responseStream, context);
    }

    private void Gate(ServerCallContext context)
    {
        if (readiness.IsStopping && !context.Method.StartsWith("/grpc.health.v1.", StringComparison.Ordinal))
        {
            throw new RpcException(ShuttingDown);
        }
    }
}
