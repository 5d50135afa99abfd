using System.Globalization;
using Google.Protobuf;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.TestSupport;
using Xunit.Abstractions;

namespace HomaBone.EndToEnd.Tests;

/// <summary>
/// Issue 5, "Show" — live test: the synthetic cohort is ingested through gRPC into a new cohort in random order,
/// with ~10 % corrections and ~5 % withdrawals interleaved. After every 100 changes every analysis RPC must equal
/// a fresh batch recomputation over the current records (ListParticipants → the same row mapping →
/// the service's estimator rebuilt afresh, and the Householder <see cref="StudyAnalysis"/> batch, in this process):
/// counts, cut points and groups exactly, estimates within 1e-12 (1e-10 against Householder QR). About 30 % of the records arrive with SI laboratory units. At the end, every
/// earlier version is asked again — in the same process and after a kill -9 and restart — and must return the
/// bytes it returned then; the final state is compared with the independent R computation; and the next version
/// appears only after min_changes_per_version more changes.
/// </summary>
public sealed class CohortAnalysisLiveTests(ITestOutputHelper output)
{
    private const string Live = "cohorts/live";

    private static IReadOnlyList<ExclusionReason> FlowOrder => CohortGrain.FlowOrder;

    private enum ChangeKind
    {
        Insert,
        Correct,
        Withdraw,
    }

    [Fact]
    public async Task LiveIngest_RandomOrderWithCorrectionsAndWithdrawals_EveryCheckpointEqualsBatchRecomputation()
    {
        await using var service = new ServiceProcess();
        await service.StartAsync("--HomaBone:Demo=true");
        var channel = service.CreateChannel();
        var cohorts = new CohortService.CohortServiceClient(channel);
        var participants = new ParticipantService.ParticipantServiceClient(channel);
        var source = await WaitForDemoAsync(cohorts, participants);
        var settings = (await cohorts.CreateCohortAsync(new CreateCohortRequest { CohortId = "live", Cohort = new Cohort { DisplayName = "live test" } })).Cohort.Settings;

        var script = Script(source, new Random(20180619));
        output.WriteLine($"{script.Count} changes: {script.Count(c => c.Kind == ChangeKind.Insert)} inserts, {script.Count(c => c.Kind == ChangeKind.Correct)} corrections, {script.Count(c => c.Kind == ChangeKind.Withdraw)} withdrawals");
        var checkpoints = new List<CohortAnswers>();
        var started = DateTime.UtcNow;
        for (var i = 0; i < script.Count; i++)
        {
            var (kind, id, record, requestId) = script[i];
            var resource = $"{Live}/participants/{id}";
            if (kind == ChangeKind.Withdraw)
            {
                await participants.WithdrawParticipantAsync(new WithdrawParticipantRequest { Name = resource, RequestId = requestId });
            }
            else
            {
                await participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = resource, Record = record }, RequestId = requestId });
            }

            if ((i + 1) % 100 == 0 || i == script.Count - 1)
            {
                checkpoints.Add(await CheckpointAsync(cohorts, participants, settings, i + 1, checkpoints.Count > 0 ? checkpoints[^1].Version : 0));
            }
        }

        output.WriteLine($"{checkpoints.Count} checkpoints, each equal to the batch recomputation, in {(DateTime.UtcNow - started).TotalSeconds:F1} s");

        // As-of: every earlier version still answers with the bytes it gave then.
        foreach (var then in checkpoints)
        {
            var again = await CohortReference.AskAllAsync(cohorts, Live, then.Version);
            AssertSameBytes(then, again, $"version {then.Version} asked again at the end");
        }

        // The same after a crash (kill -9) and restart on the same data: answers at earlier versions are recomputed
        // from the stored records as of each version (no cache, shards rebuilt from the store) — still the same bytes.
        service.Kill();
        await using var restarted = new ServiceProcess(service.DataDirectory);
        await restarted.StartAsync("--HomaBone:Demo=true");
        cohorts = new CohortService.CohortServiceClient(restarted.CreateChannel());
        participants = new ParticipantService.ParticipantServiceClient(restarted.CreateChannel());
        foreach (var then in checkpoints)
        {
            var again = await CohortReference.AskAllAsync(cohorts, Live, then.Version);
            AssertSameBytes(then, again, $"version {then.Version} asked again after a restart");
        }

        Assert.Equal(checkpoints[^1].Version, (await CohortReference.AskAllAsync(cohorts, Live, 0)).Version);

        // The final state (with corrections and withdrawals) against the independent R computation.
        var records = await CohortReference.ListAllAsync(participants, Live);
        var final = checkpoints[^1];
        var directory = Directory.CreateTempSubdirectory("homabone-cohort-live-");
        try
        {
            var csv = Path.Combine(directory.FullName, "records.csv");
            CohortReference.WriteCsv(records, csv, settings.InsulinPmolPerUiu);
            var reference = CohortReference.RunR(csv);
            var (values, suppressed) = CohortReference.Flatten(final.Flow, final.Quartiles, final.Characteristics, final.Half, final.Each, final.Associations);
            var (mismatches, errors) = CohortReference.Compare(reference, values, [.. suppressed.Select(s => s.Key)]);
            Assert.True(mismatches.Count == 0, $"{mismatches.Count} numbers differ from R:\n" + string.Join('\n', mismatches.Take(40)));
            var worst = errors.Values.MaxBy(e => e.MaxRelative);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"final version {final.Version}: {values.Count} numbers equal to R (max relative error {worst.MaxRelative:G3} at {worst.Worst}: {reference[worst.Worst].Value:G6}, scale {reference[worst.Worst].Scale:G3}); n used {final.Quartiles.Metadata.NUsed}, withdrawn {final.Flow.Withdrawn}"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        // The differencing guard: a new version is published only after min_changes_per_version (5) changes.
        var minChanges = settings.Disclosure.MinChangesPerVersion;
        var corrected = records.Where(p => p.State != ParticipantState.Withdrawn).Take(minChanges).ToList();
        for (var k = 0; k < corrected.Count; k++)
        {
            var record = Correct(corrected[k].Record, 2);
            await participants.UpsertParticipantAsync(new UpsertParticipantRequest { Participant = new Participant { Name = corrected[k].Name, Record = record }, RequestId = $"guard-{k}" });
            var version = (await cohorts.GetQuartilesAsync(new GetQuartilesRequest { Name = Live })).Metadata.CohortVersion;
            Assert.Equal(k < minChanges - 1 ? final.Version : final.Version + 1, version);
        }
    }

    private static async Task<CohortAnswers> CheckpointAsync(
        CohortService.CohortServiceClient cohorts, ParticipantService.ParticipantServiceClient participants, CohortSettings settings, int changes, long previousVersion)
    {
        var answers = await CohortReference.AskAllAsync(cohorts, Live, 0);
        var version = answers.Version;
        Assert.True(version > previousVersion, $"after {changes} changes the version is {version} (previous {previousVersion})");
        var records = await CohortReference.ListAllAsync(participants, Live);
        var rows = records
            .Select(p => AnalysisRows.ToAnalysis(AnalysisRows.FromParticipant(p, Id(p), 0, settings)))
            .OrderBy(r => r.ParticipantId, StringComparer.Ordinal)
            .ToList();
        var dataTime = answers.Flow.Metadata.DataTime;
        Assert.Equal(records.Max(p => p.UpdateTime), dataTime);
        // The batch twin of the service's estimator: the incremental state built afresh from the current records
        // (1e-12); and the Householder batch, another algorithm (1e-10, as against R). Counts, cut points and
        // groups must be equal exactly in both.
        var rowBatch = new StudyAnalysis(rows, settings, version, dataTime);
        var twin = Answers(new StudyAnalysis(LiveStudy.Build(settings, rows.Select(r => (r, 0L))), version, dataTime), rowBatch);
        AssertClose(twin, answers, $"after {changes} changes (version {version}, {records.Count} participants), against the fresh rebuild", AnswerComparer.Tolerance.Twin);
        var batch = Answers(rowBatch, rowBatch);
        AssertClose(batch, answers, $"after {changes} changes (version {version}), against the Householder batch", AnswerComparer.Tolerance.Qr);
        return answers;
    }

    /// <summary>The answers the checkpoint asks for; the user-specified model always comes from the rows (as in the service).</summary>
    private static CohortAnswers Answers(StudyAnalysis analysis, StudyAnalysis rows)
    {
        var associations = analysis.Associations([], [], []);
        associations.Fits.AddRange(rows.CustomFits([CohortReference.CustomModel]));
        return new CohortAnswers(
            analysis.Flow(FlowOrder),
            analysis.Quartiles(),
            analysis.Characteristics(),
            analysis.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []),
            analysis.GroupDifferences(GroupComparison.EachVsLowest, []),
            associations);
    }

    private static void AssertClose(CohortAnswers expected, CohortAnswers actual, string when, AnswerComparer.Tolerance tolerance)
    {
        IMessage[] e = [expected.Flow, expected.Quartiles, expected.Characteristics, expected.Half, expected.Each, expected.Associations];
        IMessage[] a = [actual.Flow, actual.Quartiles, actual.Characteristics, actual.Half, actual.Each, actual.Associations];
        for (var i = 0; i < e.Length; i++)
        {
            AnswerComparer.Same(e[i], a[i], $"{when}: {e[i].Descriptor.Name}", tolerance);
        }
    }

    private static void AssertSameBytes(CohortAnswers expected, CohortAnswers actual, string when)
    {
        IMessage[] e = [expected.Flow, expected.Quartiles, expected.Characteristics, expected.Half, expected.Each, expected.Associations];
        IMessage[] a = [actual.Flow, actual.Quartiles, actual.Characteristics, actual.Half, actual.Each, actual.Associations];
        for (var i = 0; i < e.Length; i++)
        {
            if (e[i].ToByteArray().AsSpan().SequenceEqual(a[i].ToByteArray()))
            {
                continue;
            }

            var ej = JsonFormatter.Default.Format(e[i]);
            var aj = JsonFormatter.Default.Format(a[i]);
            var at = Enumerable.Range(0, Math.Min(ej.Length, aj.Length)).FirstOrDefault(k => ej[k] != aj[k]);
            var from = Math.Max(0, at - 200);
            Assert.Fail($"{e[i].Descriptor.Name} {when} differs from the batch recomputation at character {at}:\nexpected …{ej[from..Math.Min(ej.Length, at + 200)]}\nactual   …{aj[from..Math.Min(aj.Length, at + 200)]}");
        }
    }

    /// <summary>
    /// Every participant inserted once in random order; after each insert, with probability 0.10 a correction of an
    /// active participant already in (weight, insulin — which moves HOMA-IR and the cut points —, smoking, or a
    /// new exclusion), and with probability 0.05 a withdrawal.
    /// </summary>
    private static List<(ChangeKind Kind, string Id, ParticipantRecord? Record, string RequestId)> Script(List<Participant> source, Random rng)
    {
        var order = source.ToArray();
        rng.Shuffle(order);
        var script = new List<(ChangeKind, string, ParticipantRecord?, string)>();
        var active = new List<(string Id, ParticipantRecord Record)>();
        foreach (var p in order)
        {
            var id = Id(p);
            var record = rng.NextDouble() < 0.3 ? InSiUnits(p.Record) : p.Record;
            script.Add((ChangeKind.Insert, id, record, "insert-" + id));
            active.Add((id, record));
            if (rng.NextDouble() < 0.10)
            {
                var k = rng.Next(active.Count);
                var corrected = Correct(active[k].Record, rng.Next(4));
                active[k] = (active[k].Id, corrected);
                script.Add((ChangeKind.Correct, active[k].Id, corrected, $"correct-{script.Count}"));
            }

            if (rng.NextDouble() < 0.05 && active.Count > 1)
            {
                var k = rng.Next(active.Count);
                script.Add((ChangeKind.Withdraw, active[k].Id, null, $"withdraw-{script.Count}"));
                active.RemoveAt(k);
            }
        }

        return script;
    }

    /// <summary>The record with its laboratory values as an SI laboratory reports them (the service converts back).</summary>
    private static ParticipantRecord InSiUnits(ParticipantRecord record)
    {
        var r = record.Clone();
        static void Convert(Quantity? q, string unit, Func<double, double> f)
        {
            if (q is not null)
            {
                q.Value = f(q.Value);
                q.Unit = unit;
            }
        }

        Convert(r.Labs.Glucose, "mmol/L", x => x / 18.0);
        Convert(r.Labs.Insulin, "pmol/L", x => x * 6.0);
        Convert(r.Labs.Triglycerides, "mmol/L", x => x / 88.57);
        Convert(r.Labs.HdlCholesterol, "mmol/L", x => x / 38.67);
        Convert(r.Labs.TotalCholesterol, "mmol/L", x => x / 38.67);
        Convert(r.Labs.LdlCholesterol, "mmol/L", x => x / 38.67);
        Convert(r.Labs.VitaminD, "nmol/L", x => x * 2.496);
        Convert(r.Labs.HsCrp, "mg/dL", x => x / 10.0);
        Convert(r.Labs.Creatinine, "umol/L", x => x * 88.4);
        return r;
    }

    private static ParticipantRecord Correct(ParticipantRecord record, int kind)
    {
        var r = record.Clone();
        switch (kind)
        {
            case 0 when r.Anthropometry.HasWeightKg:
                r.Anthropometry.WeightKg = Math.Round(r.Anthropometry.WeightKg + 1.5, 1);
                break;
            case 1 when r.Labs.Insulin is not null:
                r.Labs.Insulin.Value = Math.Round(r.Labs.Insulin.Value * 1.25, 1);
                break;
            case 2:
                r.Demographics.CurrentSmoking = !(r.Demographics.HasCurrentSmoking && r.Demographics.CurrentSmoking);
                break;
            default:
                r.Demographics.EstrogenReplacementTherapy = true;
                break;
        }

        return r;
    }

    private static string Id(Participant p) => p.Name[(p.Name.LastIndexOf('/') + 1)..];

    private static async Task<List<Participant>> WaitForDemoAsync(CohortService.CohortServiceClient cohorts, ParticipantService.ParticipantServiceClient participants)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await cohorts.GetCohortAsync(new GetCohortRequest { Name = "cohorts/demo" })).Cohort.ParticipantCount == 2178)
                {
                    var all = await CohortReference.ListAllAsync(participants, "cohorts/demo");
                    Assert.Equal(2178, all.Count);
                    return all;
                }
            }
            catch (Grpc.Core.RpcException ex) when (ex.StatusCode == Grpc.Core.StatusCode.NotFound)
            {
            }

            await Task.Delay(250);
        }

        Assert.Fail("demo mode did not store 2,178 participants within 2 minutes");
        return [];
    }
}
