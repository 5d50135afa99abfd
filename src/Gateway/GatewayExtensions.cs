using HomaBone.Gateway.Security;
using HomaBone.Gateway.Services;
using HomaBone.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HomaBone.Gateway;

/// <summary>Wiring of the public gRPC API.</summary>
public static class GatewayExtensions
{
    /// <summary>gRPC with the error-mapping interceptor, JSON transcoding, reflection and gRPC health.</summary>
    public static void AddHomaBoneGateway(this WebApplicationBuilder builder, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        builder.Services.AddGrpc(grpc =>
        {
            // Outermost first: audit (sees denied calls too), then the policy table, then error mapping.
            grpc.Interceptors.Add<AuditInterceptor>();
            grpc.Interceptors.Add<AuthorizationInterceptor>();
            grpc.Interceptors.Add<ErrorMappingInterceptor>();
            grpc.MaxReceiveMessageSize = 16 * 1024 * 1024;
            grpc.EnableDetailedErrors = false;
        }).AddJsonTranscoding();
        builder.Services.AddGrpcReflection();
        builder.Services.AddSingleton(options);
        builder.AddHomaBoneSecurity(options);
        builder.Services.AddHostedService<DemoLoader>();
        builder.Services.AddGrpcHealthChecks(o => o.Services.Map(string.Empty, r => r.Tags.Contains("ready")))
            .AddCheck<ReadinessHealthCheck>("grpc-ready", tags: ["ready"]);
        builder.Services.Configure<Grpc.AspNetCore.HealthChecks.GrpcHealthChecksOptions>(o => o.UseHealthChecksCache = false);
    }

    /// <summary>Maps the gRPC services, reflection and the grpc.health.v1 service.</summary>
    public static void MapHomaBoneGateway(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseHomaBoneSecurity();
        app.MapGrpcService<ParticipantApi>();
        app.MapGrpcService<CohortApi>();
        app.MapGrpcService<QctApi>();
        app.MapGrpcService<AuditApi>();
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
    }
}
