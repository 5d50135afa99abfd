using System.Net;
using HomaBone.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;

namespace HomaBone.Hosting;

/// <summary>
/// Failure detection of the Orleans membership in cluster mode (configuration section
/// <c>HomaBone:Membership</c>). The defaults declare a crashed or frozen silo dead after about
/// <see cref="ProbeTimeout"/> × <see cref="NumMissedProbesLimit"/> (6–9 s with the adaptive probe timeout) plus the
/// vote; gateway processes learn of it within <see cref="GatewayListRefreshPeriod"/> and give up calls stranded on
/// it after <see cref="LostGatewayGrace"/> (<see cref="LostGatewayGuard"/>), so every call succeeds again within
/// 15 s; see docs/deployment.md for the trade-off.
/// </summary>
public sealed class MembershipSettings
{
    /// <summary>Time between probes of a monitored silo and the timeout of each probe (Orleans default 5 s).</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Upper bound of the adaptive probe timeout (Orleans default 4 × <see cref="ProbeTimeout"/>). Orleans stretches
    /// each probe's timeout from the observed response times and again while the probing silo rates its own health as
    /// degraded (thread-pool delays on a busy node); on the 2-core test machine that stretched the three missed probes
    /// to about 8 s each and a frozen silo was declared dead only after 25 s. The cap keeps detection near
    /// <see cref="NumMissedProbesLimit"/> × this value.
    /// </summary>
    public TimeSpan MaxProbeTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Missed probes after which a silo votes its target dead (Orleans default 3).</summary>
    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>Silos each silo monitors (Orleans default 3).</summary>
    public int NumProbedSilos { get; set; } = 3;

    /// <summary>Votes that declare a silo dead (Orleans default 2; capped by Orleans to the live silos).</summary>
    public int NumVotesForDeathDeclaration { get; set; } = 2;

    /// <summary>How long a suspicion vote counts (Orleans default 120 s).</summary>
    public TimeSpan DeathVoteExpirationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often each silo re-reads the membership table besides gossip (Orleans default 60 s).</summary>
    public TimeSpan TableRefreshTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often a silo writes its I-am-alive time (Orleans default 5 min; diagnostics and defunct cleanup).</summary>
    public TimeSpan IAmAliveTablePublishTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Dead silo entries older than this are removed from the table (Orleans default 7 days).</summary>
    public TimeSpan DefunctSiloExpiration { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often defunct entries are removed (Orleans default 1 h).</summary>
    public TimeSpan DefunctSiloCleanupPeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How often a gateway client refreshes the list of silo gateways (Orleans default 1 min): how soon after a silo
    /// is declared dead the gateway stops sending calls to it and closes its connection. One read of the Redis
    /// membership hash per gateway process per period.
    /// </summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// When a gateway client's connection to a silo gateway closes, how long the calls then in flight may still take
    /// before <see cref="LostGatewayGuard"/> gives them up (calls through the surviving gateways finish well within it).
    /// </summary>
    public TimeSpan LostGatewayGrace { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a grain call waits for its response, in silos and gateways (Orleans default 30 s). Calls in flight to
    /// a silo that crashed fail after this long and are answered UNAVAILABLE, so it bounds the recovery time.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    internal void ApplyTo(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = ProbeTimeout;
        o.MaxProbeTimeout = MaxProbeTimeout < ProbeTimeout ? ProbeTimeout : MaxProbeTimeout;
        o.NumMissedProbesLimit = NumMissedProbesLimit;
        o.NumProbedSilos = NumProbedSilos;
        o.NumVotesForDeathDeclaration = NumVotesForDeathDeclaration;
        o.DeathVoteExpirationTimeout = DeathVoteExpirationTimeout;
        o.TableRefreshTimeout = TableRefreshTimeout;
        o.IAmAliveTablePublishTimeout = IAmAliveTablePublishTimeout;
        o.DefunctSiloExpiration = DefunctSiloExpiration;
        o.DefunctSiloCleanupPeriod = DefunctSiloCleanupPeriod;
    }
}

/// <summary>
/// The cluster-mode code paths, chosen by configuration: Redis membership when
/// <see cref="HomaBoneOptions.RedisConnectionString"/> is set, the PostgreSQL record store when
/// <see cref="HomaBoneOptions.PostgresConnectionString"/> is set; otherwise the embedded defaults.
/// </summary>
public static class ClusterHosting
{
    /// <summary>Registers the record store: PostgreSQL when configured, else the embedded SQLite file.</summary>
    public static void AddHomaBoneRecordStore(this IServiceCollection services, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.PostgresConnectionString.Length > 0)
        {
            services.AddSingleton(_ => new PostgresRecordStore(options.PostgresConnectionString));
            services.AddSingleton<IRecordStore>(sp => sp.GetRequiredService<PostgresRecordStore>());
        }
        else
        {
            // The single-machine host is the file's only writer of participant revisions (one silo; a separate
            // gateway process writes audit entries only).
            services.AddSingleton(_ => new SqliteRecordStore(options.DatabasePath, soleWriter: true));
            services.AddSingleton<IRecordStore>(sp => sp.GetRequiredService<SqliteRecordStore>());
        }
    }

    /// <summary>
    /// Silo clustering: Redis membership advertising POD_IP (or loopback) on the silo and gateway ports, with
    /// the configured failure detection; localhost clustering when no Redis is configured.
    /// </summary>
    public static void UseHomaBoneClustering(this ISiloBuilder silo, IConfiguration configuration, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        if (options.RedisConnectionString.Length == 0)
        {
            silo.UseLocalhostClustering(options.SiloPort, options.OrleansGatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
            return;
        }

        silo.UseRedisClustering(options.RedisConnectionString);
        silo.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        var podIp = configuration["POD_IP"];
        var advertised = podIp is { Length: > 0 } ? IPAddress.Parse(podIp) : IPAddress.Loopback;
        silo.ConfigureEndpoints(advertised, options.SiloPort, options.OrleansGatewayPort, listenOnAnyHostAddress: podIp is { Length: > 0 });
        if (configuration["POD_NAME"] is { Length: > 0 } podName)
        {
            silo.Configure<SiloOptions>(o => o.SiloName = podName);
        }

        silo.Configure<ClusterMembershipOptions>(options.Membership.ApplyTo);
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = options.Membership.ResponseTimeout);
    }

    /// <summary>Gateway-client clustering: silo gateways discovered through Redis, or localhost clustering.</summary>
    public static void UseHomaBoneClustering(this IClientBuilder client, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (options.RedisConnectionString.Length == 0)
        {
            client.UseLocalhostClustering(options.OrleansGatewayPort, serviceId: options.ServiceId, clusterId: options.ClusterId);
            return;
        }

        client.UseRedisClustering(options.RedisConnectionString);
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = options.ClusterId;
            o.ServiceId = options.ServiceId;
        });
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = options.Membership.GatewayListRefreshPeriod);
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = options.Membership.ResponseTimeout);
    }
}
