namespace HomaBone.Gateway.Security;

/// <summary>Configuration section "HomaBone:Security": authentication, role mapping, limits.</summary>
public sealed class SecurityOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "HomaBone:Security";

    /// <summary>JWT bearer tokens, verified offline against a JWKS file.</summary>
    public JwtSettings Jwt { get; set; } = new();

    /// <summary>Client certificates (mutual TLS) and the roles of each.</summary>
    public List<CertificateRoleMapping> ClientCertificates { get; set; } = [];

    /// <summary>
    /// Per-principal rate limit: requests per <see cref="RateLimitWindow"/>; 0 turns the limit off. Unset: 1000
    /// when authentication is configured, off for the loopback development principal.
    /// </summary>
    public int? RateLimitPermits { get; set; }

    /// <summary>The fixed window of <see cref="RateLimitPermits"/>.</summary>
    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Largest accepted gRPC request message (bytes); larger ones answer RESOURCE_EXHAUSTED.</summary>
    public int MaxRequestMessageBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>True when JWT validation is configured.</summary>
    public bool JwtConfigured => Jwt.JwksPath.Length > 0;
}

/// <summary>JWT bearer settings: issuer, audience and signing keys, all local (no metadata fetch).</summary>
public sealed class JwtSettings
{
    /// <summary>The required "iss".</summary>
    public string Issuer { get; set; } = string.Empty;

    /// <summary>The required "aud".</summary>
    public string Audience { get; set; } = string.Empty;

    /// <summary>A JWKS file (JSON Web Key Set) holding the signing keys.</summary>
    public string JwksPath { get; set; } = string.Empty;

    /// <summary>The claim carrying roles (a string or an array of strings).</summary>
    public string RoleClaim { get; set; } = "roles";

    /// <summary>Tolerated clock difference for exp and nbf.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Roles of a client certificate, matched by thumbprint (SHA-1 hex) or by subject distinguished name.</summary>
public sealed class CertificateRoleMapping
{
    /// <summary>The certificate thumbprint (hex, case-insensitive); empty to match by subject.</summary>
    public string Thumbprint { get; set; } = string.Empty;

    /// <summary>The subject distinguished name, e.g. "CN=ingest-service"; empty to match by thumbprint.</summary>
    public string Subject { get; set; } = string.Empty;

    /// <summary>Comma-separated roles: ingest, analyst, admin, auditor.</summary>
    public string Roles { get; set; } = string.Empty;
}
