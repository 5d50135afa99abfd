using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Running;
using HomaBone.Statistics;
using HomaBone.Statistics.Bench;

if (args.Contains("--quick"))
{
    QuickBench.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(UpdateBenchmarks).Assembly).Run(args);

/// <summary>
/// Stopwatch-only smoke benchmark that runs in seconds: cost per incremental update at n = 1k, 100k, 1M and
/// the ratio update@1M / update@1k (target: within 2×), plus the time to answer all 42 study models.
/// </summary>
internal static class QuickBench
{
    private const int Updates = 20_000;

    private static readonly string[] UpdateNames =
    [
        "co-moments add+remove",
        "updatable QR add+remove",
        "order-statistic insert+remove",
        "incremental Cuzick insert+remove",
    ];

    public static void Run()
    {
        int[] sizes = [1_000, 100_000, 1_000_000];
        Warmup();
        var results = new Dictionary<string, double[]>(StringComparer.Ordinal);
        for (var s = 0; s < sizes.Length; s++)
        {
            var n = sizes[s];
            var rng = new Random(1);
            var moments = new CoMoments(Cohort.Width);
            var qr = new UpdatableQr(12, rebuildAfterRemovals: int.MaxValue);
            var tree = new OrderStatisticTree(2);
            var cuzick = new IncrementalCuzick();
            var build = Stopwatch.StartNew();
            for (var i = 0; i < n; i++)
            {
                var row = Cohort.Row(rng);
                moments.Add(row);
                qr.Add(i, UpdateBenchmarks.QrRow(row), row[0]);
                tree.Insert(i, Math.Exp(row[14]), [row[0], row[1]]);
                cuzick.Insert(Math.Round(row[0], 1), 1 + (i % 4));
            }

            build.Stop();
            var fresh = Enumerable.Range(0, 64).Select(_ => Cohort.Row(rng)).ToArray();
            var freshOutcomes = fresh.Select(r => new[] { r[0], r[1] }).ToArray();
            var freshDesign = fresh.Select(UpdateBenchmarks.QrRow).ToArray();
            Record(results, "co-moments add+remove", s, Time(i =>
            {
                var r = fresh[i & 63];
                moments.Add(r);
                moments.Remove(r);
            }));
            Record(results, "updatable QR add+remove", s, Time(i =>
            {
                var r = fresh[i & 63];
                qr.Add(-1, freshDesign[i & 63], r[0]);
                qr.Remove(-1);
            }));
            Record(results, "order-statistic insert+remove", s, Time(i =>
            {
                var r = fresh[i & 63];
                tree.Insert(-1, Math.Exp(r[14]), freshOutcomes[i & 63]);
                tree.Remove(-1);
            }));
            Record(results, "incremental Cuzick insert+remove", s, Time(i =>
            {
                var y = Math.Round(fresh[i & 63][0], 1);
                cuzick.Insert(y, 1 + (i & 3));
                cuzick.Remove(y, 1 + (i & 3));
            }));
            var checksum = 0.0;
            Record(results, "all 42 study models (co-moments)", s, Time(_ => checksum += Cohort.AllModels(moments), 20));
            Record(results, "quartile cuts + group summaries", s, Time(_ => tree.Groups(tree.CutPoints(4)), 2_000));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"n = {n,9:N0}: built in {build.Elapsed.TotalSeconds:F1} s (checksum {checksum:G6})"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"operation",-36} {"1k",12} {"100k",12} {"1M",12} {"1M/1k",7}"));
        foreach (var (name, t) in results)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-36} {Format(t[0]),12} {Format(t[1]),12} {Format(t[2]),12} {t[2] / t[0],7:F2}"));
        }

        Console.WriteLine();
        foreach (var name in UpdateNames)
        {
            var t = results[name];
            var ratio = t[2] / t[0];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"update ratio 1M/1k {name,-34} {ratio,5:F2}  {(ratio <= 2 ? "meets" : "MISSES")} the ≤ 2× target"));
        }
    }

    private static void Warmup()
    {
        // Let tiered JIT reach optimized code before the 1k measurements.
        var rng = new Random(7);
        var moments = new CoMoments(Cohort.Width);
        var tree = new OrderStatisticTree(2);
        for (var i = 0; i < 5_000; i++)
        {
            var row = Cohort.Row(rng);
            moments.Add(row);
            tree.Insert(i, row[14], [row[0], row[1]]);
        }

        for (var rep = 0; rep < 50; rep++)
        {
            Cohort.AllModels(moments);
            tree.Groups(tree.CutPoints(4));
        }
    }

    private static string Format(double ns) => ns < 1e4
        ? string.Create(CultureInfo.InvariantCulture, $"{ns:F0} ns")
        : string.Create(CultureInfo.InvariantCulture, $"{ns / 1e3:F1} µs");

    private static void Record(Dictionary<string, double[]> results, string name, int index, double nanoseconds)
    {
        if (!results.TryGetValue(name, out var row))
        {
            row = new double[3];
            results[name] = row;
        }

        row[index] = nanoseconds;
    }

    private static double Time(Action<int> update, int updates = Updates)
    {
        // Warm up for ≥ 0.5 s so tiered JIT (with dynamic PGO) has promoted the update path.
        var warm = Stopwatch.StartNew();
        for (var i = 0; i < Math.Min(updates, 2_000) || warm.ElapsedMilliseconds < 500; i++)
        {
            update(i);
        }

        var best = double.MaxValue;
        for (var rep = 0; rep < 3; rep++)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < updates; i++)
            {
                update(i);
            }

            sw.Stop();
            best = Math.Min(best, sw.Elapsed.TotalNanoseconds / updates);
        }

        return best;
    }
}
