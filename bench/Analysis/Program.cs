using System.Diagnostics;
using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Synthetic;

// The full study analysis (flow, quartiles, Table 1, both group comparisons, models 1-3 over every outcome)
// computed by StudyAnalysis over n synthetic participants, timed against R computing the same analysis from
// the same rows (CSV) in the same run. Usage: dotnet run -c Release --project bench/Analysis -- [n ...]
var sizes = args.Length > 0 ? args.Select(a => int.Parse(a, CultureInfo.InvariantCulture)).ToArray() : [1008, 100_000];
var settings = CohortDefaults.Apply(new CohortSettings());
var deriver = new DomainDeriver();
Console.WriteLine("n_eligible,rows,build_rows_s,analysis_median_ms,analysis_runs,r_s,ratio_r_over_ours,bytes_per_row");
foreach (var eligible in sizes)
{
    var build = Stopwatch.StartNew();
    var before = GC.GetTotalMemory(forceFullCollection: true);
    var rows = new List<AnalysisRow>();
    foreach (var p in SyntheticCohort.Generate(2018, new SyntheticCohortOptions { Eligible = eligible }))
    {
        var record = ParticipantMapping.FromDomain(p.Record);
        var d = deriver.Derive(record, settings);
        var participant = new Participant { Record = d.Record, Derived = d.Derived, Eligibility = d.Eligibility, Revision = 1, State = ParticipantState.Active };
        rows.Add(AnalysisRows.ToAnalysis(AnalysisRows.FromParticipant(participant, p.ParticipantId, rows.Count + 1, settings)));
    }

    rows.Sort((a, b) => string.CompareOrdinal(a.ParticipantId, b.ParticipantId));
    var bytesPerRow = (GC.GetTotalMemory(forceFullCollection: true) - before) / (double)rows.Count;
    build.Stop();

    var runs = eligible <= 10_000 ? 21 : 3;
    var times = new List<double>();
    for (var run = 0; run < runs; run++)
    {
        var sw = Stopwatch.StartNew();
        var analysis = new StudyAnalysis(rows, settings, 1, Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch));
        _ = analysis.Flow([.. System.Enum.GetValues<ExclusionReason>().Where(r => r is not ExclusionReason.Unspecified and not ExclusionReason.NotFemale and not ExclusionReason.CriterionUnknown)]);
        _ = analysis.Quartiles();
        _ = analysis.Characteristics();
        _ = analysis.GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []);
        _ = analysis.GroupDifferences(GroupComparison.EachVsLowest, []);
        _ = analysis.Associations([], [], []);
        times.Add(sw.Elapsed.TotalMilliseconds);
    }

    times.Sort();
    var median = times[times.Count / 2];
    var csv = Path.Combine(Path.GetTempPath(), $"homabone-bench-{eligible}.csv");
    await using (var writer = new StreamWriter(csv))
    {
        await writer.WriteLineAsync("eligible," + string.Join(',', Variables.Catalogue.Select(v => v.Name.Replace('.', '_'))));
        foreach (var row in rows.Where(r => r.Active && r.Eligible))
        {
            await writer.WriteLineAsync("1," + string.Join(',', row.Values.Select(v => double.IsNaN(v) ? "NA" : v.ToString("R", CultureInfo.InvariantCulture))));
        }
    }

    var rSeconds = RunR(csv);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{eligible},{rows.Count},{build.Elapsed.TotalSeconds:F2},{median:F2},{runs},{rSeconds:F2},{rSeconds * 1000 / median:F1},{bytesPerRow:F0}"));
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
