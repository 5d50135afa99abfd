using System.Net;
using System.Security.Cryptography.X509Certificates;
using HomaBone.Grains;
using HomaBone.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans;

namespace HomaBone.Hosting;

/// <summary>Wiring shared by the co-hosted service, the silo and the gateway processes.</summary>
public static class HostingExtensions
{
    /// <summary>The activity source and meter name of HomaBone's own telemetry.</summary>
    public const string TelemetryName = "HomaBone";

    /// <summary>Reads <see cref="HomaBoneOptions"/> from configuration, with ORLEANS_* overrides.</summary>
    public static HomaBoneOptions ReadHomaBoneOptions(this IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new HomaBoneOptions();
        configuration.GetSection(HomaBoneOptions.Section).Bind(options);
        options.ClusterId = configuration["ORLEANS_CLUSTER_ID"] is { Length: > 0 } cluster ? cluster : options.ClusterId;
        options.ServiceId = configuration["ORLEANS_SERVICE_ID"] is { Length: > 0 } service ? service : options.ServiceId;
        return options;
    }

    /// <summary>
    /// Kestrel endpoints: gRPC on an HTTP/2-only endpoint (plaintext h2c needs it, or clients get
    /// HTTP_1_1_REQUIRED), and an HTTP/1.1+2 endpoint for health, metrics and JSON transcoding. TLS on both
    /// when a certificate is configured; plaintext off loopback only when explicitly allowed.
    /// </summary>
    public static void ConfigureHomaBoneEndpoints(this WebApplicationBuilder builder, HomaBoneOptions options, bool includeGrpc)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var address = IPAddress.Parse(options.BindAddress);
        X509Certificate2? certificate = null;
        if (options.TlsCertificatePath.Length > 0)
        {
            certificate = X509Certificate2.CreateFromPemFile(options.TlsCertificatePath, options.TlsKeyPath.Length > 0 ? options.TlsKeyPath : null);
        }
        else if (options.RequireTls)
        {
            throw new InvalidOperationException("HomaBone:RequireTls is set but no TLS certificate is configured: set HomaBone:TlsCertificatePath and HomaBone:TlsKeyPath.");
        }
        else if (!(options.AllowPlaintext ?? IPAddress.IsLoopback(address)))
        {
            throw new InvalidOperationException($"No TLS certificate is configured and plaintext is not allowed on {address}: set HomaBone:TlsCertificatePath or, for development only, HomaBone:AllowPlaintext=true.");
        }

        var clientCertificates = TlsEndpoints.ReadClientCertificateSettings(options, certificate);

        if (options.TransportBlockKiB is < 0 or (> 0 and < 4) or > 1024)
        {
            throw new InvalidOperationException($"HomaBone:TransportBlockKiB is {options.TransportBlockKiB}: it must be 0 (Kestrel's own pool) or 4 to 1024.");
        }

        if (options.TransportBlockKiB > 0)
        {
            // Kestrel's transport and pipes in larger blocks: far fewer receive calls for large uploads (LargeBlockMemoryPool).
            var blockBytes = options.TransportBlockKiB * 1024;
            builder.Services.Replace(ServiceDescriptor.Singleton<IMemoryPoolFactory<byte>>(_ => new LargeBlockMemoryPoolFactory(blockBytes)));
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            if (includeGrpc)
            {
                kestrel.Listen(address, options.GrpcPort, listen =>
                {
                    listen.Protocols = HttpProtocols.Http2;
                    if (certificate is not null)
                    {
                        listen.UseHttps(TlsEndpoints.HttpsOptions(certificate, clientCertificates, grpcEndpoint: true));
                    }
                });
            }

            kestrel.Listen(address, options.HttpPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                if (certificate is not null)
                {
                    listen.UseHttps(TlsEndpoints.HttpsOptions(certificate, clientCertificates, grpcEndpoint: false));
                }
            });
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownTimeout);
        builder.Services.TryAddSingleton(options);
        builder.Services.AddHostedService<ShutdownDrain>();
    }

    /// <summary>OpenTelemetry traces and metrics (Orleans, ASP.NET Core, gRPC, runtime), health checks.</summary>
    public static void AddHomaBoneServiceDefaults(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ReadinessState>();
        builder.Services.AddHealthChecks()
            .AddCheck<StartupHealthCheck>("startup", tags: ["startup"])
            .AddCheck<ReadinessHealthCheck>("ready", tags: ["ready"]);
        builder.Services.Configure<HealthCheckPublisherOptions>(o =>
        {
            o.Delay = TimeSpan.Zero;
            o.Period = TimeSpan.FromSeconds(1);
        });

        // Spans are recorded only when something exports them (an OTLP endpoint, or console traces): with no trace
        // listener the runtime creates no Activity per grain call, which cost about 15% of bulk-ingest throughput
        // (each span was built and then pseudonymised by TelemetryHygiene's processor, only to be dropped).
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "homabone"));
        if (TelemetryHygiene.TracesExported(builder.Configuration))
        {
            otel.WithTracing(tracing => tracing
                    .AddSource(TelemetryName, "Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application")
                    .AddAspNetCoreInstrumentation(o =>
                    {
                        // Never record URLs or query strings that might carry identifiers.
                        o.RecordException = false;
                        o.EnrichWithHttpRequest = (activity, request) =>
                        {
                            activity.SetTag("url.query", null);

                            // JSON-transcoded paths carry resource names (participant ids): keep only the route.
                            if (request.Path.StartsWithSegments("/v1", StringComparison.Ordinal))
                            {
                                activity.SetTag("url.path", "/v1/{resource}");
                                activity.DisplayName = request.Method + " /v1/{resource}";
                            }
                        };
                    }));
        }

        otel.WithMetrics(metrics => metrics
            .AddMeter(TelemetryName, "Microsoft.Orleans")
            .AddAspNetCoreInstrumentation()
            .AddRuntimeInstrumentation()
            .AddPrometheusExporter());

        // Before any exporter: the redaction processor must see every span first.
        builder.AddHomaBoneTelemetryHygiene(otel);
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            otel.UseOtlpExporter();
        }
    }

    /// <summary>Hosts an Orleans silo: embedded store and localhost clustering, or PostgreSQL and Redis when configured.</summary>
    public static void AddHomaBoneSilo(this WebApplicationBuilder builder, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IParticipantDeriver, DomainDeriver>();
        builder.Services.Configure<ParticipantGrainOptions>(builder.Configuration.GetSection(ParticipantGrainOptions.Section));
        builder.Services.AddHomaBoneRecordStore(options);
        builder.Services.AddHostedService<StoreInitializer>();
        builder.UseOrleans(silo =>
        {
            silo.UseHomaBoneClustering(builder.Configuration, options);
            silo.AddActivityPropagation();
            silo.AddIncomingGrainCallFilter<StoreFailureFilter>();
        });
    }

    /// <summary>Connects to separate silos as an Orleans client (localhost clustering, or Redis gateway discovery).</summary>
    public static void AddHomaBoneOrleansClient(this WebApplicationBuilder builder, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        // Calls stranded on a silo gateway that was declared dead are given up early (LostGatewayGuard): the observing
        // guard replaces the pass-through one the gateway registers, whichever is registered first.
        builder.Services.Replace(ServiceDescriptor.Singleton(_ => new LostGatewayGuard(options.Membership)));
        builder.Services.AddSingleton<IClusterConnectionStatusObserver>(sp => sp.GetRequiredService<LostGatewayGuard>());
        builder.UseOrleansClient(client =>
        {
            client.UseHomaBoneClustering(options);
            client.AddActivityPropagation();
        });
    }

    /// <summary>/health/startup, /health/ready, /health/live (purely local) and /metrics.</summary>
    public static void MapHomaBoneHealth(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHealthChecks("/health/startup", new HealthCheckOptions { Predicate = c => c.Tags.Contains("startup") });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapPrometheusScrapingEndpoint("/metrics");
    }

    /// <summary>Creates the schema before the silo accepts calls.</summary>
    private sealed class StoreInitializer(IRecordStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
