using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using System.Threading.RateLimiting;
using Grpc.AspNetCore.Server;
using HomaBone.Hosting;
using HomaBone.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Certificate;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace HomaBone.Gateway.Security;

/// <summary>
/// Authentication (JWT bearer verified offline, client certificates, or the loopback development principal),
/// per-principal rate limits, request size limits and the audit log store.
/// </summary>
public static partial class SecurityExtensions
{
    /// <summary>The scheme that picks JWT or certificate per request.</summary>
    public const string SelectorScheme = "HomaBone";

    /// <summary>The scheme of the loopback development principal.</summary>
    public const string DevelopmentScheme = "Development";

    /// <summary>The subject of the development principal.</summary>
    public const string DevelopmentSubject = "development";

    /// <summary>Registers authentication, rate limiting, message size limits and the audit log.</summary>
    public static void AddHomaBoneSecurity(this WebApplicationBuilder builder, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var security = new SecurityOptions();
        builder.Configuration.GetSection(SecurityOptions.Section).Bind(security);
        builder.Services.AddSingleton(security);
        builder.Services.Configure<GrpcServiceOptions>(grpc => grpc.MaxReceiveMessageSize = security.MaxRequestMessageBytes);

        var certificates = !string.Equals(options.ClientCertificateMode, "None", StringComparison.OrdinalIgnoreCase) && options.ClientCertificateMode.Length > 0;
        var development = !security.JwtConfigured && !certificates;
        var permits = security.RateLimitPermits ?? (development ? 0 : 1000);
        if (development)
        {
            if (!IPAddress.IsLoopback(IPAddress.Parse(options.BindAddress)))
            {
                throw new InvalidOperationException($"No authentication is configured and the service binds {options.BindAddress}: configure HomaBone:Security:Jwt (Issuer, Audience, JwksPath) or client certificates (HomaBone:ClientCertificateMode, HomaBone:ClientCaPath, HomaBone:Security:ClientCertificates). The all-roles development principal is only used on loopback.");
            }

            builder.Services.AddAuthentication(DevelopmentScheme)
                .AddScheme<AuthenticationSchemeOptions, DevelopmentAuthenticationHandler>(DevelopmentScheme, null);
            builder.Services.AddHostedService<DevelopmentModeWarning>();
        }
        else
        {
            var authentication = builder.Services.AddAuthentication(SelectorScheme);
            authentication.AddPolicyScheme(SelectorScheme, null, o => o.ForwardDefaultSelector = context =>
                security.JwtConfigured && (context.Request.Headers.Authorization.Count > 0 || !certificates)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : CertificateAuthenticationDefaults.AuthenticationScheme);
            if (security.JwtConfigured)
            {
                AddJwt(authentication, security.Jwt);
            }

            if (certificates)
            {
                AddCertificates(authentication, options, security);
            }
        }

        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                if (permits <= 0 || IsProbe(context.Request.Path))
                {
                    return RateLimitPartition.GetNoLimiter(string.Empty);
                }

                var subject = Principals.SubjectOf(context.User);
                var key = subject == Principals.Anonymous ? "ip:" + context.Connection.RemoteIpAddress : "sub:" + subject;
                return RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = permits,
                    Window = security.RateLimitWindow,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            limiter.OnRejected = (rejected, _) =>
            {
                var response = rejected.HttpContext.Response;
                if (rejected.HttpContext.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true)
                {
                    // A trailers-only gRPC response: RESOURCE_EXHAUSTED (8), which clients see as a status.
                    response.StatusCode = StatusCodes.Status200OK;
                    response.ContentType = "application/grpc";
                    response.Headers["grpc-status"] = "8";
                    response.Headers["grpc-message"] = "rate limit exceeded; retry later";
                }
                else
                {
                    response.StatusCode = StatusCodes.Status429TooManyRequests;
                }

                return ValueTask.CompletedTask;
            };
        });

        // The audit log lives in the record store; a gateway without a co-hosted silo opens the store file itself.
        builder.Services.AddSingleton<IAuditLog>(sp => sp.GetService<SqliteRecordStore>() ?? sp.GetRequiredService<GatewayAuditStore>().Store);
        builder.Services.AddSingleton<GatewayAuditStore>(_ => new GatewayAuditStore(new SqliteRecordStore(options.DatabasePath)));
    }

    /// <summary>Authentication then rate limiting (partitioned by the authenticated principal).</summary>
    public static void UseHomaBoneSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAuthentication();
        app.UseRateLimiter();
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.Ordinal)
        || path.StartsWithSegments("/metrics", StringComparison.Ordinal)
        || path.StartsWithSegments("/grpc.health.v1.Health", StringComparison.Ordinal);

    private static void AddJwt(AuthenticationBuilder authentication, JwtSettings jwt)
    {
        if (jwt.Issuer.Length == 0 || jwt.Audience.Length == 0)
        {
            throw new InvalidOperationException("HomaBone:Security:Jwt needs Issuer and Audience as well as JwksPath.");
        }

        var keys = new JsonWebKeySet(File.ReadAllText(jwt.JwksPath)).GetSigningKeys();
        if (keys.Count == 0)
        {
            throw new InvalidOperationException("HomaBone:Security:Jwt:JwksPath holds no signing key.");
        }

        authentication.AddJwtBearer(o =>
        {
            // No Authority and no MetadataAddress: nothing is fetched; the keys come from the JWKS file.
            o.MapInboundClaims = false;
            o.RequireHttpsMetadata = false;
            o.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = jwt.Issuer,
                ValidAudience = jwt.Audience,
                IssuerSigningKeys = keys,
                ValidateIssuer = true,
                ValidateAudience = true,
                ValidateLifetime = true,
                ValidateIssuerSigningKey = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = jwt.ClockSkew,
                NameClaimType = "sub",
                RoleClaimType = jwt.RoleClaim,
            };
        });
    }

    private static void AddCertificates(AuthenticationBuilder authentication, HomaBoneOptions options, SecurityOptions security)
    {
        if (options.ClientCaPath.Length == 0)
        {
            throw new InvalidOperationException("Client certificates need HomaBone:ClientCaPath.");
        }

        var authorities = new X509Certificate2Collection();
        authorities.ImportFromPemFile(options.ClientCaPath);
        authentication.AddCertificate(o =>
        {
            o.AllowedCertificateTypes = CertificateTypes.Chained;
            o.ChainTrustValidationMode = X509ChainTrustMode.CustomRootTrust;
            o.CustomTrustStore = authorities;
            o.RevocationMode = X509RevocationMode.NoCheck;
            o.ValidateCertificateUse = true;
            o.ValidateValidityPeriod = true;
            o.Events = new CertificateAuthenticationEvents
            {
                OnCertificateValidated = context =>
                {
                    var certificate = context.ClientCertificate;
                    var claims = new List<Claim> { new("sub", "cert:" + certificate.Thumbprint) };
                    foreach (var mapping in security.ClientCertificates)
                    {
                        var matches = (mapping.Thumbprint.Length > 0 && string.Equals(mapping.Thumbprint.Replace(":", string.Empty, StringComparison.Ordinal), certificate.Thumbprint, StringComparison.OrdinalIgnoreCase))
                            || (mapping.Subject.Length > 0 && string.Equals(mapping.Subject, certificate.Subject, StringComparison.Ordinal));
                        if (matches)
                        {
                            claims.AddRange(mapping.Roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(role => new Claim(ClaimTypes.Role, role)));
                        }
                    }

                    context.Principal = new ClaimsPrincipal(new ClaimsIdentity(claims, CertificateAuthenticationDefaults.AuthenticationScheme, "sub", ClaimTypes.Role));
                    context.Success();
                    return Task.CompletedTask;
                },
            };
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No authentication is configured: every call on this loopback address runs as the development principal with all roles. Configure HomaBone:Security:Jwt or client certificates before exposing the service.")]
    private static partial void LogDevelopmentMode(ILogger logger);

    /// <summary>Owns the audit store of a gateway that has no co-hosted record store.</summary>
    internal sealed class GatewayAuditStore(SqliteRecordStore store) : IAsyncDisposable
    {
        public SqliteRecordStore Store { get; } = store;

        public ValueTask DisposeAsync() => Store.DisposeAsync();
    }

    /// <summary>The all-roles principal of loopback development mode.</summary>
    private sealed class DevelopmentAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var claims = new List<Claim> { new("sub", DevelopmentSubject) };
            claims.AddRange(Roles.All.Select(role => new Claim(ClaimTypes.Role, role)));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, DevelopmentScheme, "sub", ClaimTypes.Role));
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, DevelopmentScheme)));
        }
    }

    /// <summary>Says once, at start-up, that the development principal is in use.</summary>
    private sealed class DevelopmentModeWarning(ILogger<DevelopmentModeWarning> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogDevelopmentMode(logger);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
