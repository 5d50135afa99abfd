namespace HomaBone.Hosting;

/// <summary>How a process takes part in the service.</summary>
public enum HostMode
{
    /// <summary>Silo and gateway in one process (the single-machine default).</summary>
    CoHosted,

    /// <summary>A silo only (health and metrics endpoints, no public gRPC API).</summary>
    Silo,

    /// <summary>A gateway only: an Orleans client of a separate silo.</summary>
    Gateway,
}

/// <summary>Configuration section "HomaBone" (environment variables HomaBone__*).</summary>
public sealed class HomaBoneOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "HomaBone";

    /// <summary>Where the embedded store keeps its file (homabone.db). Default: ./data.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Address the public endpoints bind to. Default loopback.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>gRPC endpoint port (HTTP/2 only). Default 5080.</summary>
    public int GrpcPort { get; set; } = 5080;

    /// <summary>HTTP/1.1 endpoint port: health, metrics, JSON transcoding. Default 5081.</summary>
    public int HttpPort { get; set; } = 5081;

    /// <summary>Orleans silo-to-silo port. Default 11111.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Orleans client gateway port. Default 30000.</summary>
    public int OrleansGatewayPort { get; set; } = 30000;

    /// <summary>Orleans cluster id (ORLEANS_CLUSTER_ID overrides).</summary>
    public string ClusterId { get; set; } = "homabone-dev";

    /// <summary>Orleans service id (ORLEANS_SERVICE_ID overrides). Stable across deployments.</summary>
    public string ServiceId { get; set; } = "homabone";

    /// <summary>PEM certificate for TLS on the public endpoints; empty means plaintext.</summary>
    public string TlsCertificatePath { get; set; } = string.Empty;

    /// <summary>PEM private key of <see cref="TlsCertificatePath"/>.</summary>
    public string TlsKeyPath { get; set; } = string.Empty;

    /// <summary>
    /// Allow plaintext HTTP/2 when no certificate is configured. Allowed by default only on loopback;
    /// binding a non-loopback address without TLS requires setting this explicitly.
    /// </summary>
    public bool? AllowPlaintext { get; set; }

    /// <summary>Refuse to start without TLS (no plaintext endpoint at all, even on loopback).</summary>
    public bool RequireTls { get; set; }

    /// <summary>
    /// Client certificates on the gRPC endpoint: <c>None</c> (default), <c>Allow</c> (requested, optional) or
    /// <c>Require</c> (mutual TLS: a connection without a certificate issued by <see cref="ClientCaPath"/> is refused).
    /// </summary>
    public string ClientCertificateMode { get; set; } = "None";

    /// <summary>PEM file of the CA(s) that issue client certificates (required when client certificates are used).</summary>
    public string ClientCaPath { get; set; } = string.Empty;

    /// <summary>
    /// Size of the buffers Kestrel receives into and pipes requests through, KiB (4–1024; default 64; 0 keeps Kestrel's
    /// own pool of 4-KiB blocks). Larger blocks mean fewer socket reads for large uploads and more memory per small
    /// request in flight (docs/deployment.md, "Transport buffers").
    /// </summary>
    public int TransportBlockKiB { get; set; } = 64;

    /// <summary>Load the synthetic demo cohort "demo" at start-up.</summary>
    public bool Demo { get; set; }

    /// <summary>
    /// Bound of the whole graceful shutdown (drain delay, in-flight calls, grain deactivation, leaving the cluster).
    /// Keep it below the pod's terminationGracePeriodSeconds minus the preStop sleep.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// At shutdown, how long readiness is false (and new gRPC calls are refused with UNAVAILABLE) before the endpoints
    /// close; part of <see cref="ShutdownTimeout"/>. Default 0: on Kubernetes the preStop sleep does this.
    /// </summary>
    public TimeSpan ShutdownDrainDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Npgsql connection string of the PostgreSQL record store (cluster mode); empty means the embedded SQLite file.</summary>
    public string PostgresConnectionString { get; set; } = string.Empty;

    /// <summary>StackExchange.Redis connection string of the Orleans membership (cluster mode); empty means localhost clustering.</summary>
    public string RedisConnectionString { get; set; } = string.Empty;

    /// <summary>Failure detection of the Redis membership (section HomaBone:Membership).</summary>
    public MembershipSettings Membership { get; set; } = new();

    /// <summary>The SQLite file path.</summary>
    public string DatabasePath => Path.Combine(DataDirectory, "homabone.db");
}
