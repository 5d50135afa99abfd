using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.TestingHost;

namespace HomaBone.Grains.Tests;

/// <summary>
/// An in-process Orleans cluster whose silos share one SQLite record store file, shared by the tests of
/// <see cref="SharedCluster"/>. Tests use fresh cohort and participant ids, so they never see each other.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("homabone-grains-");

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public string DatabasePath => Path.Combine(_directory.FullName, "homabone.db");

    public async Task InitializeAsync() => Cluster = await StartClusterAsync(DatabasePath, "homabone-grains-tests", silos: 2);

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _directory.Delete(recursive: true);
    }

    /// <summary>
    /// Starts a cluster over the SQLite file at <paramref name="databasePath"/>. The service id is fixed by the
    /// caller (in-process test clusters randomise it otherwise), so a second cluster on the same file is the
    /// same service restarted.
    /// </summary>
    public static async Task<TestCluster> StartClusterAsync(string databasePath, string serviceId, int silos)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.ServiceId = serviceId;
        builder.Properties[SiloConfigurator.DatabasePathKey] = databasePath;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static string NewId(string prefix) => prefix + "-" + Guid.NewGuid().ToString("n")[..12];

    /// <summary>Creates a cohort with default settings through its grain; returns its id.</summary>
    public async Task<string> CreateCohortAsync()
    {
        var id = NewId("c");
        var reply = await Grains.GetGrain<ICohortGrain>(id).CreateAsync(new Cohort().ToByteArray());
        Assert.Equal(ReplyStatus.Ok, reply.Status);
        return id;
    }

    /// <summary>Registers the store, the domain deriver and the system clock in every silo.</summary>
    private sealed class SiloConfigurator : IHostConfigurator
    {
        public const string DatabasePathKey = "HomaBoneTests:DatabasePath";

        public void Configure(IHostBuilder hostBuilder)
        {
            var path = hostBuilder.GetConfigurationValue(DatabasePathKey) ?? throw new InvalidOperationException(DatabasePathKey + " is not set");
            hostBuilder.ConfigureServices(services =>
            {
                services.AddSingleton(TimeProvider.System);
                services.AddSingleton<IParticipantDeriver, DomainDeriver>();
                services.AddSingleton(_ => new SqliteRecordStore(path));
                services.AddSingleton<IRecordStore>(sp => sp.GetRequiredService<SqliteRecordStore>());
                services.AddHostedService<StoreInitializer>();
            });
        }
    }

    /// <summary>Creates the schema before the silo takes calls (as the real host does).</summary>
    private sealed class StoreInitializer(IRecordStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>The tests that share one <see cref="ClusterFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class SharedCluster : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
