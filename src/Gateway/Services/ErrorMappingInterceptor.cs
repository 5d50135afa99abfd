using Grpc.Core;
using Grpc.Core.Interceptors;
using HomaBone.Hosting;

namespace HomaBone.Gateway.Services;

/// <summary>
/// Maps failures that are not already gRPC statuses (<see cref="FailureStatus"/>): an unreachable, stopping or
/// overloaded silo is UNAVAILABLE (the only status clients retry), a timeout is DEADLINE_EXCEEDED (UNAVAILABLE when
/// <see cref="RepeatableCall"/> says the call is safe to send again), a cancelled call CANCELLED. Nothing of the request is logged: exception types only.
/// </summary>
internal sealed partial class ErrorMappingInterceptor(ILogger<ErrorMappingInterceptor> logger, LostGatewayGuard lostGateway) : Interceptor
{
    /// <summary>
    /// A unary call stranded on a silo gateway that was declared dead is given up early (<see cref="LostGatewayGuard"/>).
    /// A timed-out call that is safe to send again is UNAVAILABLE (<see cref="RepeatableCall.TimeoutStatus"/>), any
    /// other DEADLINE_EXCEEDED.
    /// </summary>
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await lostGateway.Watch(continuation(request, context));
        }
        catch (TimeoutException ex) when (RepeatableCall.TimeoutStatus(ex, context.Method, request) is { } unavailable)
        {
            LogMapped(logger, ex.GetType().Name, unavailable.StatusCode);
            throw new RpcException(unavailable);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex) when (Map(ex, context) is { } mapped)
        {
            throw mapped;
        }
    }

    private RpcException? Map(Exception exception, ServerCallContext context)
    {
        if (FailureStatus.Map(exception, context.CancellationToken.IsCancellationRequested) is not { } status)
        {
            return null;
        }

        LogMapped(logger, exception.GetType().Name, status.StatusCode);
        return new RpcException(status);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call failed with {ExceptionType}, answered {StatusCode}")]
    private static partial void LogMapped(ILogger logger, string exceptionType, StatusCode statusCode);
}
