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
            // Outermost first: audit (sees denied calls too), the shutdown gate, the policy table, error mapping.
            grpc.Interceptors.Add<AuditInterceptor>();
            grpc.Interceptors.Add<ShutdownGateInterceptor>();
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
        app.MapGet(ServiceConfigPath, () => Results.Text(PublishedServiceConfig.Value, "application/json"));
    }

    /// <summary>Where the gateway serves the published gRPC service config (retry policy) on both ports.</summary>
    public const string ServiceConfigPath = "/grpc-service-config.json";

    /// <summary>protos/homabone/v1/grpc_service_config.json, embedded at build time.</summary>
    internal static readonly Lazy<string> PublishedServiceConfig = new(() =>
    {
        using var stream = typeof(GatewayExtensions).Assembly.GetManifestResourceStream("grpc_service_config.json")
            ?? throw new InvalidOperationException("grpc_service_config.json is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
