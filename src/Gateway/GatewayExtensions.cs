using HomaBone.Gateway.Security;
using HomaBone.Gateway.Services;
using HomaBone.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
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
        // HTTP/2 receive windows (Kestrel's defaults: 1 MiB per connection, 768 KiB per stream). Client-streaming
        // uploads (QctService.AnalyzeSeries, ~100 MB) stall on WINDOW_UPDATE round trips with the defaults; these let a
        // client send one message of the largest accepted size (16 MiB) per connection without waiting. Bounds
        // what one connection can buffer; request size limits are unchanged (docs/qct-implementation.md, "Speed").
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.Http2.InitialConnectionWindowSize = 16 * 1024 * 1024;
            kestrel.Limits.Http2.InitialStreamWindowSize = 8 * 1024 * 1024;
        });
        builder.Services.AddSingleton(options);
        // Co-hosted there are no gateway connections to lose and calls pass through unwatched; a gateway process (an
        // Orleans client) has the observing guard instead (HostingExtensions.AddHomaBoneOrleansClient replaces it).
        builder.Services.TryAddSingleton(_ => new LostGatewayGuard(options.Membership, observesGateways: false));
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
