using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Grpc.Net.Client;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;
using Npgsql;
using Xunit.Abstractions;

namespace HomaBone.Cluster.Tests;

/// <summary>
/// The cluster the fault tests run: silo processes (Redis membership, PostgreSQL records, one new database and
/// cluster id per test) and gateway processes (Orleans clients that find the silos through Redis), with channels
/// under the published retry policy, and the checks every test makes afterwards.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private static readonly ExclusionReason[] FlowOrder =
    [
        ExclusionReason.MenstrualFlowWithin12Months, ExclusionReason.AgeUnder50, ExclusionReason.Diabetes,
        ExclusionReason.GlucoseOrInsulinMissing, ExclusionReason.QctMissing, ExclusionReason.OsteoporosisTreatment,
        ExclusionReason.Glucocorticoid, ExclusionReason.LiverCirrhosis, ExclusionReason.EstrogenReplacement,
    ];

    private readonly ITestOutputHelper _output;
    private readonly List<ServiceProcess> _retired = [];
    private readonly List<GrpcChannel> _channels = [];

    private TestCluster(string database, string[] common, ITestOutputHelper output)
    {
        Database = database;
        Common = common;
        _output = output;
    }

    /// <summary>Npgsql connection string of this test's database.</summary>
    public string Database { get; }

    /// <summary>Arguments every silo and gateway gets (Redis, PostgreSQL, cluster id).</summary>
    public string[] Common { get; }

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public List<ServiceProcess> Silos { get; } = [];

    public List<ServiceProcess> Gateways { get; } = [];

    /// <summary>Per gateway, current (replaced when the gateway is restarted).</summary>
    public List<ParticipantService.ParticipantServiceClient> Participants { get; } = [];

    public List<CohortService.CohortServiceClient> Cohorts { get; } = [];

    public static async Task<TestCluster> StartAsync(Infrastructure infrastructure, ITestOutputHelper output, string name, int silos = 3, int gateways = 2)
    {
        var database = await infrastructure.CreateDatabaseAsync();
        var cluster = new TestCluster(
            database,
            [
                $"--HomaBone:RedisConnectionString={infrastructure.RedisConnectionString}",
                $"--HomaBone:PostgresConnectionString={database}",
                $"--HomaBone:ClusterId={name}-{Guid.NewGuid():N}",
            ],
            output);
        try
        {
            await Task.WhenAll(Enumerable.Range(0, silos).Select(_ => cluster.AddSiloAsync()));
            for (var i = 0; i < gateways; i++)
            {
                cluster.Gateways.Add(null!);
                cluster.Participants.Add(null!);
                cluster.Cohorts.Add(null!);
            }

            await Task.WhenAll(Enumerable.Range(0, gateways).Select(cluster.StartGatewayAsync));
            output.WriteLine($"cluster up: {silos} silos, {gateways} gateways in {cluster.Clock.Elapsed.TotalSeconds:F1} s");
            return cluster;
        }
        catch
        {
            cluster.WriteLogs();
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts one more silo and waits until it is ready (joined the cluster).</summary>
    public async Task<ServiceProcess> AddSiloAsync()
    {
        var silo = new ServiceProcess(project: "Silo");
        lock (Silos)
        {
            Silos.Add(silo);
        }

        await silo.StartAsync(Common);
        return silo;
    }

    /// <summary>Graceful stop (SIGTERM) of gateway <paramref name="index"/> and a new gateway process in its place.</summary>
    public async Task RestartGatewayAsync(int index)
    {
        await Gateways[index].StopAsync();
        _retired.Add(Gateways[index]);
        await StartGatewayAsync(index);
    }

    /// <summary>Fails the test with every process's log tail when <paramref name="body"/> fails.</summary>
    public async Task RunAsync(Func<Task> body)
    {
        try
        {
            await body();
        }
        catch
        {
            WriteLogs();
            throw;
        }
    }

    /// <summary>One head, one revision and one request-log row per acknowledged participant, and nothing else.</summary>
    public async Task AssertStoredExactlyOnceAsync(string cohortId, ICollection<string> acknowledged)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        foreach (var table in new[] { "participants", "participant_revisions", "request_log" })
        {
            // Participant rows only (a cohort write's request key is logged under participant id "").
            await using var count = new NpgsqlCommand($"SELECT count(*), count(DISTINCT participant_id) FROM {table} WHERE cohort_id = $1 AND participant_id <> '';", connection) { Parameters = { new() { Value = cohortId } } };
            await using var reader = await count.ExecuteReaderAsync();
            await reader.ReadAsync();
            Assert.Equal((acknowledged.Count, acknowledged.Count), ((int)reader.GetInt64(0), (int)reader.GetInt64(1)));
        }

        await using var ids = new NpgsqlCommand("SELECT participant_id FROM participants WHERE cohort_id = $1;", connection) { Parameters = { new() { Value = cohortId } } };
        var stored = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await ids.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored.Add(reader.GetString(0));
            }
        }

        Assert.True(stored.SetEquals(acknowledged), "the stored participants differ from the acknowledged ones");
    }

    /// <summary>
    /// Waits until the analysis has caught up with <paramref name="expected"/> participants, then checks that every
    /// gateway answers GetFlow and GetQuartiles the same at that version and that the answers equal a batch
    /// recomputation (the service's row mapping and <see cref="StudyAnalysis"/> over the listed records, in this
    /// process): counts, steps, cut points and groups exactly.
    /// </summary>
    /// <summary>
    /// A cohort that publishes a version after every change: with the default differencing guard (5 changes) the last
    /// changes of a load that was read while it ran may never make a version, and the final answers would never
    /// reach every acknowledged participant.
    /// </summary>
    public static Cohort EveryChangeVersioned => new() { Settings = new CohortSettings { Disclosure = new DisclosureSettings { MinChangesPerVersion = 1 } } };

    public async Task<(GetFlowResponse Flow, GetQuartilesResponse Quartiles)> AssertAnswersEqualBatchAsync(string cohortId, int expected)
    {
        var name = "cohorts/" + cohortId;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        GetFlowResponse flow;
        while (true)
        {
            flow = await Cohorts[0].GetFlowAsync(new GetFlowRequest { Name = name });
            if (flow.Enrolled == expected || DateTime.UtcNow > deadline)
            {
                Assert.Equal(expected, flow.Enrolled);
                break;
            }

            await Task.Delay(500);
        }

        var version = flow.Metadata.CohortVersion;
        var quartiles = await Cohorts[0].GetQuartilesAsync(new GetQuartilesRequest { Name = name, Version = version });
        for (var g = 1; g < Cohorts.Count; g++)
        {
            Assert.Equal(flow, await Cohorts[g].GetFlowAsync(new GetFlowRequest { Name = name, Version = version }));
            Assert.Equal(quartiles, await Cohorts[g].GetQuartilesAsync(new GetQuartilesRequest { Name = name, Version = version }));
        }

        // The batch recomputation over the records as stored (the version is the latest: no write since).
        var settings = (await Cohorts[0].GetCohortAsync(new GetCohortRequest { Name = name })).Cohort.Settings;
        var records = new List<Participant>();
        var token = string.Empty;
        do
        {
            var page = await Participants[0].ListParticipantsAsync(new ListParticipantsRequest { Parent = name, PageSize = 1000, PageToken = token, ShowWithdrawn = true });
            records.AddRange(page.Participants);
            token = page.NextPageToken;
        }
        while (token.Length > 0);
        Assert.Equal(expected, records.Count);
        var rows = records
            .Select(p => AnalysisRows.ToAnalysis(AnalysisRows.FromParticipant(p, p.Name[(p.Name.LastIndexOf('/') + 1)..], 0, settings)))
            .OrderBy(r => r.ParticipantId, StringComparer.Ordinal)
            .ToList();
        var batch = new StudyAnalysis(rows, settings, version, flow.Metadata.DataTime);
        var batchFlow = batch.Flow(FlowOrder);
        var batchQuartiles = batch.Quartiles();
        batchFlow.Metadata = flow.Metadata;
        batchQuartiles.Metadata = quartiles.Metadata;
        Assert.Equal(batchFlow, flow);
        Assert.Equal(batchQuartiles, quartiles);
        _output.WriteLine($"answers at version {version} equal on {Cohorts.Count} gateway(s) and equal to the batch recomputation: enrolled {flow.Enrolled}, analysed {flow.Analysed}, quartile n {string.Join("/", quartiles.Groups.Select(q => q.N))}");
        return (flow, quartiles);
    }

    public void WriteLogs()
    {
        foreach (var (process, i) in Silos.Select((s, i) => (s, i)))
        {
            _output.WriteLine($"--- silo {i} (exit {process.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}) ---\n{Tail(process.Output)}");
        }

        foreach (var (process, i) in Gateways.Select((g, i) => (g, i)))
        {
            _output.WriteLine($"--- gateway {i} ---\n{Tail(process?.Output ?? string.Empty)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Dispose();
        }

        foreach (var process in Silos)
        {
            process.Signal("CONT");
        }

        foreach (var process in Gateways.Concat(Silos).Concat(_retired).Where(p => p is not null))
        {
            await process.DisposeAsync();
        }
    }

    private async Task StartGatewayAsync(int index)
    {
        var gateway = new ServiceProcess(project: "Gateway");
        Gateways[index] = gateway;
        await gateway.StartAsync([.. Common, "--HomaBone:Mode=Gateway"]);
        var channel = gateway.CreateChannel();
        lock (_channels)
        {
            _channels.Add(channel);
        }

        Participants[index] = new ParticipantService.ParticipantServiceClient(channel);
        Cohorts[index] = new CohortService.CohortServiceClient(channel);
    }

    private static string Tail(string text) => text.Length <= 5000 ? text : text[^5000..];
}

/// <summary>
/// A bulk import through the gateways in concurrent streams of <c>BatchSize</c> records, each record with its
/// request id. A record answered UNAVAILABLE, or a whole stream that failed with UNAVAILABLE or DEADLINE_EXCEEDED
/// (its outcome unknown), is queued again unchanged, the stream moving to the next gateway: a retry is safe because
/// a stored record answers its first result. Every failure is recorded with its time, and so is every call that took
/// longer than <see cref="SlowCall"/> (held up by a fault: a frozen silo, a lock).
/// </summary>
internal sealed class ImportLoad(TestCluster cluster, string cohortId, IReadOnlyList<SyntheticParticipant> participants, int batchSize = 100)
{
    private readonly ConcurrentQueue<ImportEntry[]> _queue = new(participants
        .Select(p => new ImportEntry { ParticipantId = p.ParticipantId, Record = ParticipantMapping.FromDomain(p.Record), RequestId = "import-" + p.ParticipantId })
        .Chunk(batchSize));

    private int _retried;

    /// <summary>A failed (or held-up) call: when it returned, through which gateway, what, and when it was sent.</summary>
    public readonly record struct Failure(TimeSpan At, int Gateway, string What, TimeSpan Started);

    /// <summary>A call that takes longer than this counts as held up by a fault (a failure at the time it returns).</summary>
    public static TimeSpan SlowCall { get; } = TimeSpan.FromSeconds(5);

    public int Total => participants.Count;

    public ConcurrentDictionary<string, long> Acknowledged { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<string> Unexpected { get; } = new();

    public ConcurrentQueue<Failure> Failures { get; } = new();

    public int Retried => Volatile.Read(ref _retried);

    public TimeSpan Started { get; private set; }

    public TimeSpan Finished { get; private set; }

    /// <summary>Imports everything with <paramref name="workers"/> concurrent streams; returns when every record is acknowledged.</summary>
    public async Task RunAsync(int workers = 4)
    {
        Started = cluster.Clock.Elapsed;
        while (true)
        {
            await Task.WhenAll(Enumerable.Range(0, workers).Select(i => Task.Run(() => WorkAsync(i))));

            // A worker may finish while another one queues a batch again.
            if (_queue.IsEmpty)
            {
                break;
            }
        }

        Finished = cluster.Clock.Elapsed;
    }

    /// <summary>How long after <paramref name="from"/> calls kept failing (the last failure in [from, until)).</summary>
    public TimeSpan RecoveryAfter(TimeSpan from, TimeSpan? until = null, int? gateway = null)
    {
        var failures = Failures.Where(f => f.At >= from && f.At < (until ?? TimeSpan.MaxValue) && (gateway is null || f.Gateway == gateway)).ToList();
        return failures.Count > 0 ? failures.Max(f => f.At) - from : TimeSpan.Zero;
    }

    public string Summary() =>
        $"{Total} records in {(Finished - Started).TotalSeconds:F1} s ({Total / Math.Max(0.001, (Finished - Started).TotalSeconds):F0}/s), {Retried} record retries, {Failures.Count} failed calls ({string.Join(", ", Failures.GroupBy(f => f.What).Select(g => $"{g.Key} x{g.Count()}"))})";

    /// <summary>Every record acknowledged once at revision 1, none refused for another reason.</summary>
    public void AssertAllAcknowledged()
    {
        Assert.Empty(Unexpected);
        Assert.Equal(Total, Acknowledged.Count);
        Assert.All(Acknowledged.Values, revision => Assert.Equal(1, revision));
    }

    private async Task WorkAsync(int worker)
    {
        var attempt = worker;
        while (_queue.TryDequeue(out var batch))
        {
            var gateway = attempt % cluster.Participants.Count;
            var started = cluster.Clock.Elapsed;
            try
            {
                using var call = cluster.Participants[gateway].ImportParticipants(deadline: DateTime.UtcNow.AddSeconds(30));
                await call.RequestStream.WriteAsync(new ImportParticipantsRequest { Parent = "cohorts/" + cohortId, Entries = { batch } });
                await call.RequestStream.CompleteAsync();
                var again = new List<ImportEntry>();
                await foreach (var response in call.ResponseStream.ReadAllAsync())
                {
                    foreach (var result in response.Results)
                    {
                        var entry = batch[result.Index];
                        switch ((StatusCode)result.Status.Code)
                        {
                            case StatusCode.OK:
                                Acknowledged[entry.ParticipantId] = result.Revision;
                                break;
                            case StatusCode.Unavailable:
                                Failures.Enqueue(new(cluster.Clock.Elapsed, gateway, "record UNAVAILABLE", started));
                                again.Add(entry);
                                break;
                            default:
                                Unexpected.Enqueue($"{entry.ParticipantId}: {(StatusCode)result.Status.Code} {result.Status.Message}");
                                break;
                        }
                    }
                }

                if (cluster.Clock.Elapsed - started > SlowCall)
                {
                    // It succeeded, but a fault held it up: until it returned, not every call succeeded.
                    Failures.Enqueue(new(cluster.Clock.Elapsed, gateway, $"stream slower than {SlowCall.TotalSeconds:F0} s", started));
                }

                if (again.Count > 0)
                {
                    Interlocked.Add(ref _retried, again.Count);
                    _queue.Enqueue([.. again]);
                    await Task.Delay(200);
                }
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded)
            {
                // The whole stream failed: its records' outcome is unknown; the same request ids on the next gateway.
                Failures.Enqueue(new(cluster.Clock.Elapsed, gateway, "stream " + ex.StatusCode, started));
                Interlocked.Add(ref _retried, batch.Length);
                _queue.Enqueue(batch);
                attempt++;
                await Task.Delay(200);
            }
        }
    }
}
