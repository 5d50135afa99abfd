using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using HomaBone.Cluster.Bench;
using HomaBone.Cluster.Tests;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;

// Ingest throughput with 1, 2 and 3 silo processes (Redis membership, PostgreSQL records, one gateway process as an
// Orleans client) and the analysis latency per new version, against the embedded single-process default (co-hosted
// silo, SQLite). PostgreSQL, Redis, the cluster and the import are the cluster tests' fixtures (linked sources).
// Usage: dotnet run -c Release --project bench/Cluster -- [--count 20000] [--streams 4] [--batch 100] [--rounds 11]
//        [--silos 1,2,3] [--no-embedded] [--seed 2018]
const string CohortId = "bench";
var options = BenchOptions.Parse(args);
var output = new ConsoleOutput();
var total = Stopwatch.StartNew();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"HomaBone cluster bench: {options.Count:N0} participants, {options.Streams} streams of {options.BatchSize} records, {options.Rounds} analysis rounds, silos {string.Join(",", options.Silos)}{(options.Embedded ? " + embedded" : string.Empty)}, {Environment.ProcessorCount} cores"));

// The first Count of the permuted synthetic cohort (about 63 % eligible, the rest spread over the exclusions).
var participants = SyntheticCohort.Generate(options.Seed, new SyntheticCohortOptions { Eligible = options.Count }).Take(options.Count).ToList();
var records = participants.Select(p => (p.ParticipantId, ParticipantMapping.FromDomain(p.Record))).ToList();
var results = new List<Result>();

var infrastructure = new Infrastructure();
try
{
    await infrastructure.InitializeAsync();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PostgreSQL on 127.0.0.1:{infrastructure.PostgresPort}, Redis on 127.0.0.1:{infrastructure.RedisPort} ({total.Elapsed.TotalSeconds:F1} s)"));
    foreach (var silos in options.Silos)
    {
        // A new database and cluster id per run; N silo processes and one gateway process.
        var cluster = await TestCluster.StartAsync(infrastructure, output, $"bench{silos}", silos, gateways: 1);
        await using (cluster)
        {
            await cluster.RunAsync(async () => results.Add(await MeasureAsync($"{silos} silo{(silos == 1 ? string.Empty : "s")}", silos, cluster, checkStore: true)));
        }

        DeleteDataDirectories(cluster.Silos.Concat(cluster.Gateways));
    }
}
finally
{
    await infrastructure.DisposeAsync();
}

if (options.Embedded)
{
    // The default: one process (gateway with a co-hosted silo) over SQLite in its data directory.
    var service = new ServiceProcess(project: "Gateway");
    try
    {
        await service.StartAsync();
        using var channel = service.CreateChannel();
        var cluster = ClientOnly(output);
        cluster.Participants.Add(new ParticipantService.ParticipantServiceClient(channel));
        cluster.Cohorts.Add(new CohortService.CohortServiceClient(channel));
        results.Add(await MeasureAsync("embedded (1 process, SQLite)", 0, cluster, checkStore: false));
    }
    catch
    {
        output.WriteLine("--- embedded service ---\n" + (service.Output.Length <= 5000 ? service.Output : service.Output[^5000..]));
        throw;
    }
    finally
    {
        await service.DisposeAsync();
        DeleteDataDirectories([service]);
    }
}

var baseline = results.FirstOrDefault(r => r.Silos == 1);
Console.WriteLine();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{options.Count:N0} participants, {options.Streams} concurrent ImportParticipants streams of {options.BatchSize} records; analysis = the six analysis RPCs asked together, per new version after 5 corrections, median of {options.Rounds} (total run {total.Elapsed.TotalMinutes:F1} min)"));
Console.WriteLine();
Console.WriteLine("| deployment | ingest participants/s | vs 1 silo | analysis per new version, median (p90) | vs 1 silo | first version after import | same version again, median |");
Console.WriteLine("|---|---|---|---|---|---|---|");
foreach (var r in results)
{
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"| {r.Label} | {r.IngestRate:N0} ({r.IngestSeconds:F1} s) | {Ratio(r.IngestRate, baseline?.IngestRate)} | {r.Analysis.Median:F1} ms ({r.Analysis.P90:F1} ms) | {Ratio(r.Analysis.Median, baseline?.Analysis.Median)} | {r.Analysis.FirstMs:F0} ms | {r.Analysis.CachedMedian:F1} ms |"));
}

async Task<Result> MeasureAsync(string label, int silos, TestCluster cluster, bool checkStore)
{
    await cluster.Cohorts[0].CreateCohortAsync(new CreateCohortRequest { CohortId = CohortId, Cohort = new Cohort { DisplayName = "cluster bench" }, RequestId = "create-bench" });
    var load = new ImportLoad(cluster, CohortId, participants, options.BatchSize);
    await load.RunAsync(options.Streams);
    load.AssertAllAcknowledged();
    var seconds = (load.Finished - load.Started).TotalSeconds;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}: import {load.Summary()}"));
    if (checkStore)
    {
        await cluster.AssertStoredExactlyOnceAsync(CohortId, load.Acknowledged.Keys);
    }

    var analysis = await AnalysisTimer.RunAsync(cluster.Participants[0], cluster.Cohorts[0], CohortId, records, options.Rounds, options.Seed);
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{label}: analysis first {analysis.FirstMs:F0} ms (version {analysis.FirstVersion}); per new version median {analysis.Median:F1} ms, p90 {analysis.P90:F1} ms, versions {analysis.FirstVersion + 1}..{analysis.LastVersion}: [{string.Join(", ", analysis.PerVersionMs.Select(ms => ms.ToString("F1", CultureInfo.InvariantCulture)))}]; same version again median {analysis.CachedMedian:F1} ms"));
    return new Result(label, silos, load.Total / seconds, seconds, analysis);
}

static string Ratio(double value, double? baseline) =>
    baseline is > 0 ? (value / baseline.Value).ToString("F2", CultureInfo.InvariantCulture) + "×" : "–";

// ImportLoad runs against a TestCluster's clients; for the single process, a TestCluster with no processes of its own
// (its constructor is private to the linked fixture) holding the service's clients.
static TestCluster ClientOnly(ConsoleOutput output) =>
    (TestCluster)Activator.CreateInstance(typeof(TestCluster), BindingFlags.Instance | BindingFlags.NonPublic, null, [string.Empty, Array.Empty<string>(), output], CultureInfo.InvariantCulture)!;

static void DeleteDataDirectories(IEnumerable<ServiceProcess?> processes)
{
    foreach (var process in processes)
    {
        try
        {
            if (process is not null && Directory.Exists(process.DataDirectory))
            {
                Directory.Delete(process.DataDirectory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}

internal sealed record Result(string Label, int Silos, double IngestRate, double IngestSeconds, AnalysisTimes Analysis);
