using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Ingest.Bench;
using HomaBone.Synthetic;

// The full study analysis (flow, quartiles, Table 1, both group comparisons, models 1-3 over every outcome) through
// gRPC from the real service, per new cohort version, against R recomputing the same analysis from the same rows
// in the same run. Usage: dotnet run -c Release --project bench/Analysis -- [n ...] [--rounds N] [--no-batch] [--no-r] [--pause SECONDS]
var sizes = args.Where((a, i) => (i == 0 || (args[i - 1] != "--rounds" && args[i - 1] != "--pause")) && int.TryParse(a, CultureInfo.InvariantCulture, out _))
    .Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray();
sizes = sizes.Length > 0 ? sizes : [1008, 100_000];
var roundsOption = Array.IndexOf(args, "--rounds") is var r and >= 0 ? int.Parse(args[r + 1], CultureInfo.InvariantCulture) : 0;
var skipBatch = args.Contains("--no-batch");
var skipR = args.Contains("--no-r");
var pauseSeconds = Array.IndexOf(args, "--pause") is var ps and >= 0 ? int.Parse(args[ps + 1], CultureInfo.InvariantCulture) : 0;
var settings = CohortDefaults.Apply(new CohortSettings());
var deriver = new DomainDeriver();
Console.WriteLine("n_eligible,participants,import_s,first_version_ms,per_version_median_ms,per_version_p90_ms,cached_median_ms,rounds,batch_in_process_ms,r_s,ratio_r_over_per_version,service_rss_mb,rss_bytes_per_participant");
foreach (var eligible in sizes)
{
    var records = new List<(string Id, ParticipantRecord Record)>();
    var rows = new List<AnalysisRow>();
    foreach (var p in SyntheticCohort.Generate(2018, new SyntheticCohortOptions { Eligible = eligible }))
    {
        var record = ParticipantMapping.FromDomain(p.Record);
        records.Add((p.ParticipantId, record));
        var d = deriver.Derive(record, settings);
        var participant = new Participant { Record = d.Record, Derived = d.Derived, Eligibility = d.Eligibility, Revision = 1, State = ParticipantState.Active };
        rows.Add(AnalysisRows.ToAnalysis(AnalysisRows.FromParticipant(participant, p.ParticipantId, rows.Count + 1, settings)));
    }

    rows.Sort((a, b) => string.CompareOrdinal(a.ParticipantId, b.ParticipantId));
    var data = Directory.CreateTempSubdirectory("homabone-bench-analysis-");
    await using var service = await GatewayProcess.StartAsync(null, data.FullName);
    using var channel = GrpcChannel.ForAddress(service.GrpcAddress, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
    var cohorts = new CohortService.CohortServiceClient(channel);
    var participants = new ParticipantService.ParticipantServiceClient(channel);
    await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = "bench", Cohort = new Cohort { DisplayName = "analysis bench" } });
    var import = Stopwatch.StartNew();
    await ImportAsync(participants, records);
    import.Stop();

    // The first version builds the incremental state from the shards' rows.
    // (At 1M this outlasts one call's deadline; the publication goes on in the cohort grain, so ask again.)
    var first = Stopwatch.StartNew();
    while (true)
    {
        try
        {
            await AskAllAsync(cohorts);
            break;
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.DeadlineExceeded && first.Elapsed < TimeSpan.FromMinutes(10))
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first version still being built after {first.Elapsed.TotalSeconds:F0} s; asking again"));
        }
    }

    first.Stop();

    // Each round: min_changes_per_version (5) corrections make a new version; then every analysis RPC is asked.
    var rounds = roundsOption > 0 ? roundsOption : (eligible <= 10_000 ? 201 : 11);
    var random = new Random(2018);
    var perVersion = new List<double>();
    double freshCpu = 0, cachedCpu = 0;
    var cached = new List<double>();
    // The first rounds warm the service and are not timed: a long-running service's code is fully tiered up, and
    // at small n 10 rounds (~0.1 s) end before the JIT's tier-1 compilations (queued after 30 calls and 100 ms
    // without new tier-0 work) have replaced much of the tier-0 code, so small cohorts warm up for 200 rounds.
    var warmups = eligible <= 10_000 ? 200 : 10;
    for (var round = 0; round < rounds + warmups; round++)
    {
        for (var c = 0; c < 5; c++)
        {
            var (id, record) = records[random.Next(records.Count)];
            var corrected = record.Clone();
            if (corrected.Anthropometry.HasWeightKg)
            {
                corrected.Anthropometry.WeightKg = Math.Round(corrected.Anthropometry.WeightKg + (random.NextDouble() - 0.5), 1);
            }

            await participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = $"cohorts/bench/participants/{id}", Record = corrected }, RequestId = $"bench-{round}-{c}" });
        }

        var cpu0 = ServiceCpuMs(service.ProcessId);
        var sw = Stopwatch.StartNew();
        await AskAllAsync(cohorts);
        var fresh = sw.Elapsed.TotalMilliseconds;
        var cpu1 = ServiceCpuMs(service.ProcessId);
        sw.Restart();
        await AskAllAsync(cohorts);
        if (round >= warmups)
        {
            perVersion.Add(fresh);
            cached.Add(sw.Elapsed.TotalMilliseconds);
            freshCpu += cpu1 - cpu0;
            cachedCpu += ServiceCpuMs(service.ProcessId) - cpu1;
        }
    }

    // CPU time is what a loaded machine cannot inflate: the service's own cost of a round (10-ms clock ticks, summed).
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"service CPU per round: new version {freshCpu / rounds:F2} ms, cached {cachedCpu / rounds:F2} ms (all threads, user + system)"));

    var single = new List<double>();
    var health = new List<double>();
    var healthClient = new Grpc.Health.V1.Health.HealthClient(channel);
    for (var i = 0; i < 50; i++)
    {
        var sw = Stopwatch.StartNew();
        await cohorts.GetFlowAsync(new GetFlowRequest { Name = "cohorts/bench" });
        single.Add(sw.Elapsed.TotalMilliseconds);
        sw.Restart();
        await healthClient.CheckAsync(new Grpc.Health.V1.HealthCheckRequest());
        health.Add(sw.Elapsed.TotalMilliseconds);
    }

    single.Sort();
    health.Sort();
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"one cached GetFlow {single[25]:F3} ms, one health check {health[25]:F3} ms (medians)"));
    var rssBytes = ServiceRss(service.ProcessId);
    await PrintServiceMemoryAsync(service.HttpAddress, rssBytes, records.Count);
    if (pauseSeconds > 0)
    {
        // Time to inspect the service (e.g. dotnet-gcdump collect -p PID) before it stops.
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"service pid {service.ProcessId}: pausing {pauseSeconds} s"));
        await Task.Delay(TimeSpan.FromSeconds(pauseSeconds));
    }
    await service.StopAsync();

    // In process, for reference: the batch recomputation of one version (the previous design), skipped at 1M.
    var batchMs = double.NaN;
    if (!skipBatch && eligible <= 100_000)
    {
        var sw = Stopwatch.StartNew();
        var analysis = new StudyAnalysis(rows, settings, 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));
        _ = analysis.Flow([ExclusionReason.AgeUnder50]);
        _ = analysis.Quartiles();
        _ = analysis.Characteristics();
        _ = analysis.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []);
        _ = analysis.GroupDifferences(GroupComparison.EachVsLowest, []);
        _ = analysis.Associations([], [], []);
        batchMs = sw.Elapsed.TotalMilliseconds;
    }

    // In process: the incremental state's cost per version (5 corrections applied, then the six answers).
    var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
    var liveBuild = Stopwatch.StartNew();
    var live = LiveStudy.Build(settings, rows.Select(row => (row, 0L)));
    liveBuild.Stop();
    var liveBytes = GC.GetTotalMemory(forceFullCollection: true) - heapBefore;
    var liveTimes = new List<double>();
    var answerTimes = new List<double>();
    for (var round = 0; round < rounds; round++)
    {
        var sw = Stopwatch.StartNew();
        for (var c = 0; c < 5; c++)
        {
            var row = rows[random.Next(rows.Count)];
            var values = (double[])row.Values.Clone();
            values[Variables.Weight.Index] += random.NextDouble() - 0.5;
            live.Apply(row with { Revision = row.Revision + round + 1, Values = values }, 0);
        }

        live.Complete();
        var applied = sw.Elapsed.TotalMilliseconds;
        var analysis = new StudyAnalysis(live, round + 2, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));
        var parts = Stopwatch.StartNew();
        _ = analysis.Flow([ExclusionReason.AgeUnder50]);
        _ = analysis.Quartiles();
        var t1 = parts.Elapsed.TotalMilliseconds;
        _ = analysis.Characteristics();
        var t2 = parts.Elapsed.TotalMilliseconds;
        _ = analysis.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []);
        _ = analysis.GroupDifferences(GroupComparison.EachVsLowest, []);
        var t3 = parts.Elapsed.TotalMilliseconds;
        _ = analysis.Associations([], [], []);
        var t4 = parts.Elapsed.TotalMilliseconds;
        if (round == rounds - 1)
        {
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"parts: flow+quartiles {t1:F3}, table1 {t2 - t1:F3}, group differences {t3 - t2:F3}, associations {t4 - t3:F3} ms"));
        }
        liveTimes.Add(applied);
        answerTimes.Add(sw.Elapsed.TotalMilliseconds - applied);
    }

    liveTimes.Sort();
    answerTimes.Sort();
    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"in process: LiveStudy build {liveBuild.Elapsed.TotalMilliseconds:F0} ms, {liveBytes / (double)rows.Count:F0} managed bytes per participant beyond the rows; per version: apply 5 changes + regroup {liveTimes[liveTimes.Count / 2]:F3} ms, six answers {answerTimes[answerTimes.Count / 2]:F3} ms (medians)"));

    var csv = Path.Combine(Path.GetTempPath(), $"homabone-bench-{eligible}.csv");
    await using (var writer = new StreamWriter(csv))
    {
        await writer.WriteLineAsync("eligible," + string.Join(',', Variables.Catalogue.Select(v => v.Name.Replace('.', '_'))));
        foreach (var row in rows.Where(r => r.Active && r.Eligible))
        {
            await writer.WriteLineAsync("1," + string.Join(',', row.Values.Select(v => double.IsNaN(v) ? "NA" : v.ToString("R", CultureInfo.InvariantCulture))));
        }
    }

    var rSeconds = skipR ? double.NaN : RunR(csv);
    File.Delete(csv);
    data.Delete(recursive: true);
    perVersion.Sort();
    cached.Sort();
    var median = perVersion[perVersion.Count / 2];
    Console.WriteLine(string.Create(
        CultureInfo.InvariantCulture,
        $"{eligible},{records.Count},{import.Elapsed.TotalSeconds:F1},{first.Elapsed.TotalMilliseconds:F1},{median:F2},{perVersion[(int)(perVersion.Count * 0.9)]:F2},{cached[cached.Count / 2]:F2},{rounds},{batchMs:F1},{rSeconds:F2},{rSeconds * 1000 / median:F0},{rssBytes / 1048576.0:F0},{rssBytes / (double)records.Count:F0}"));
}

// Every analysis RPC, issued together as a client assembling the whole study would (each answer is audited
// durably before it is released; concurrent calls share the store's group commit).
static async Task AskAllAsync(CohortService.CohortServiceClient cohorts)
{
    const string name = "cohorts/bench";
    await Task.WhenAll(
        cohorts.GetFlowAsync(new GetFlowRequest { Name = name }).ResponseAsync,
        cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = name }).ResponseAsync,
        cohorts.GetCharacteristicsAsync(new GetCharacteristicsRequest { Name = name }).ResponseAsync,
        cohorts.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = name, Comparison = GroupComparison.TopHalfVsBottomHalf }).ResponseAsync,
        cohorts.GetGroupDifferencesAsync(new GetGroupDifferencesRequest { Name = name, Comparison = GroupComparison.EachVsLowest }).ResponseAsync,
        cohorts.GetAssociationsAsync(new GetAssociationsRequest { Name = name }).ResponseAsync);
}

static async Task ImportAsync(ParticipantService.ParticipantServiceClient participants, List<(string Id, ParticipantRecord Record)> records)
{
    const int batchSize = 500;
    var batches = records.Chunk(batchSize).ToList();
    var next = -1;
    await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
    {
        using var call = participants.ImportParticipants();
        var reader = Task.Run(async () =>
        {
            await foreach (var response in call.ResponseStream.ReadAllAsync())
            {
                foreach (var result in response.Results)
                {
                    if (result.Status is { Code: not 0 } status)
                    {
                        throw new InvalidOperationException($"import failed: {status.Message}");
                    }
                }
            }
        });
        int index;
        while ((index = Interlocked.Increment(ref next)) < batches.Count)
        {
            var request = new ImportParticipantsRequest { Parent = "cohorts/bench" };
            foreach (var (id, record) in batches[index])
            {
                request.Entries.Add(new ImportEntry { ParticipantId = id, Record = record, RequestId = "import-" + id });
            }

            await call.RequestStream.WriteAsync(request);
        }

        await call.RequestStream.CompleteAsync();
        await reader;
    }));
}

static double ServiceCpuMs(int processId)
{
    // /proc/PID/stat: utime and stime (fields 14 and 15) in clock ticks (USER_HZ = 100), after the ')' of the name.
    var stat = File.ReadAllText($"/proc/{processId}/stat");
    var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10.0;
}

static long ServiceRss(int processId)
{
    var line = File.ReadLines($"/proc/{processId}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
}

// The service's own account of its managed heap (runtime metrics on /metrics), beside its RSS, on stderr.
static async Task PrintServiceMemoryAsync(string httpAddress, long rssBytes, int participants)
{
    using var http = new HttpClient();
    var metrics = await http.GetStringAsync(new Uri(new Uri(httpAddress), "/metrics"));
    foreach (var line in metrics.Split('\n').Where(l => !l.StartsWith('#') && (l.Contains("gc_heap_size", StringComparison.Ordinal) || (l.Contains("publication_duration", StringComparison.Ordinal) && !l.Contains("_bucket", StringComparison.Ordinal)) || l.Contains("gc_last_collection", StringComparison.Ordinal) || l.Contains("committed", StringComparison.Ordinal))))
    {
        Console.Error.WriteLine("service metric: " + line);
    }

    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"service RSS {rssBytes / 1048576.0:F0} MB = {rssBytes / (double)participants:F0} bytes per participant"));
}

static double RunR(string csv)
{
    var script = Path.Combine(AppContext.BaseDirectory, "study.R");
    var start = new ProcessStartInfo("/usr/bin/Rscript", [script, csv]) { RedirectStandardOutput = true, RedirectStandardError = true };
    using var process = Process.Start(start)!;
    var output = process.StandardOutput.ReadToEnd();
    process.WaitForExit();
    var line = output.Split('\n').LastOrDefault(l => l.StartsWith("analysis_seconds=", StringComparison.Ordinal));
    return line is null ? double.NaN : double.Parse(line["analysis_seconds=".Length..], CultureInfo.InvariantCulture);
}
