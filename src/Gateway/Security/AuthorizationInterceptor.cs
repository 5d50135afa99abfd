using Grpc.Core;
using Grpc.Core.Interceptors;

namespace HomaBone.Gateway.Security;

/// <summary>
/// Applies <see cref="RpcPolicy"/> to every call (JSON-transcoded ones too): UNAUTHENTICATED without a valid
/// identity (no, expired, forged or wrong-audience token; no accepted certificate), PERMISSION_DENIED for an
/// identity without a permitted role or for a method missing from the table.
/// </summary>
internal sealed class AuthorizationInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authorize(context);
        return continuation(requestStream, responseStream, context);
    }

    /// <summary>Throws the right status unless the caller may call this method.</summary>
    internal static void Authorize(ServerCallContext context)
    {
        var rule = RpcPolicy.Find(context.Method);
        if (rule is { Anonymous: true })
        {
            return;
        }

        var user = context.GetHttpContext().User;
        if (user.Identity is not { IsAuthenticated: true })
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, "a valid bearer token or client certificate is required"));
        }

        if (rule is null)
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, "this method is not open to any role"));
        }

        if (!rule.AnyAuthenticated && !rule.Roles.Any(user.IsInRole))
        {
            throw new RpcException(new Status(StatusCode.PermissionDenied, $"this method needs the role {string.Join(" or ", rule.Roles)}"));
        }
    }
}
