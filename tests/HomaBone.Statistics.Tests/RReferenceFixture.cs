using System.Diagnostics;
using System.Globalization;

namespace HomaBone.Statistics.Tests;

/// <summary>
/// Generates every seeded data set once, writes them as CSV to a temp directory, and runs one Rscript
/// process (Scripts/reference.R) over all of them. Fails — never skips — when Rscript is missing.
/// </summary>
public sealed class RReferenceFixture : IDisposable
{
    public RReferenceFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "homabone-r-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        Build();
        foreach (var (name, table) in Tables)
        {
            table.WriteCsv(Path.Combine(Directory, name + ".csv"));
        }

        var rscript = Environment.GetEnvironmentVariable("HOMABONE_RSCRIPT") ?? "/usr/bin/Rscript";
        if (!File.Exists(rscript))
        {
            throw new InvalidOperationException($"Rscript not found at {rscript}: the R reference tests require r-base-core.");
        }

        var script = Path.Combine(AppContext.BaseDirectory, "Scripts", "reference.R");
        var psi = new ProcessStartInfo(rscript)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--vanilla");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(Directory);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill();
            throw new TimeoutException("Rscript did not finish within 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"Rscript failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
        }

        foreach (var name in Tables.Keys)
        {
            var path = Path.Combine(Directory, "out_" + name + ".csv");
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var line in File.ReadAllLines(path))
            {
                var cut = line.LastIndexOf(',');
                var text = line[(cut + 1)..];
                values[line[..cut]] = text == "NA" ? double.NaN : double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
            }

            Results[name] = values;
        }
    }

    public string Directory { get; }

    public Dictionary<string, TestData.Table> Tables { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, Dictionary<string, double>> Results { get; } = new(StringComparer.Ordinal);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort cleanup of a temp directory.
        }
    }

    private void Build()
    {
        // Regression shapes: small, cohort-like with dummies and missing cells, large with ties, nearly
        // collinear (x_last = x1 + small noise), and no intercept.
        Tables["reg_small"] = TestData.Regression(11, 20, 2, 0, 0.0, ties: false, collinear: false);
        Tables["reg_cohort"] = TestData.Regression(12, 1008, 5, 3, 0.02, ties: false, collinear: false);
        Tables["reg_large"] = TestData.Regression(13, 5000, 6, 2, 0.01, ties: true, collinear: false);
        Tables["reg_collinear"] = TestData.Regression(14, 300, 3, 1, 0.0, ties: false, collinear: true);
        Tables["reg_noint_a"] = TestData.Regression(15, 100, 2, 1, 0.05, ties: false, collinear: false);

        for (var (seed, n) = (21, 0); seed <= 24; seed++)
        {
            n = seed switch { 21 => 60, 22 => 400, 23 => 1008, _ => 5000 };
            var rng = new Random(seed);
            var anc = new TestData.Table();
            var y = new double[n];
            var g = new double[n];
            var c1 = new double[n];
            var c2 = new double[n];
            var c3 = new double[n];
            for (var i = 0; i < n; i++)
            {
                g[i] = 1 + (i % 4);
                c1[i] = 57 + (7 * TestData.Normal(rng));
                c2[i] = 56 + (8 * TestData.Normal(rng));
                c3[i] = 155 + (5 * TestData.Normal(rng));
                y[i] = 300 - (4 * g[i]) - (1.5 * c1[i]) + (0.8 * c2[i]) + (0.3 * c3[i]) + (20 * TestData.Normal(rng));
            }

            TestData.Punch(rng, y, 0.02);
            TestData.Punch(rng, c2, 0.02);
            anc.Add("y", y);
            anc.Add("g", g);
            anc.Add("c1", c1);
            anc.Add("c2", c2);
            anc.Add("c3", c3);
            Tables["anc_" + seed.ToString(CultureInfo.InvariantCulture)] = anc;
        }

        // Tail probabilities across the range, down to ~1e-250 (relative accuracy of tiny P).
        var tails = new TestData.Table();
        double[] t = [0.01, 0.7, 1.96, 3.1, 8.5, 25, 60, 0.3, 4.4, 12, 40, 2.2];
        double[] df = [3, 10, 71, 1000, 5, 2000, 980, 1, 2, 50, 300, 15];
        tails.Add("t", t);
        tails.Add("df", df);
        tails.Add("f", [0.2, 1.1, 3.7, 12, 250, 2162.44, 40, 0.9, 7.5, 90, 330.3, 5.5]);
        tails.Add("df1", [1, 3, 10, 4, 6, 10, 11, 2, 1, 5, 6, 8]);
        tails.Add("df2", [10, 100, 71, 1003, 9, 71, 969, 5, 20, 1000, 9, 40]);
        tails.Add("z", [0.001, 0.5, 1.5190, 2.867913, 5, 9, 15, 25, 30, 33, 1.96, 3.3]);
        tails.Add("chi", [0.01, 1, 3.84, 6.57, 20, 70, 150, 400, 800, 12.6, 2.31, 45]);
        tails.Add("chidf", [1, 1, 1, 6, 2, 3, 6, 10, 1, 6, 1, 4]);
        Tables["tails_grid"] = tails;

        foreach (var n in new[] { 20, 21, 1007, 1008, 5000 })
        {
            var rng = new Random(100 + n);
            var x = new double[n];
            for (var i = 0; i < n; i++)
            {
                // Log-normal like HOMA-IR, rounded to 2 decimals → many ties.
                x[i] = Math.Round(Math.Exp(0.5 + (0.45 * TestData.Normal(rng))), 2);
            }

            TestData.Punch(rng, x, 0.01);
            var q = new TestData.Table();
            q.Add("x", x);
            Tables["q_" + n.ToString(CultureInfo.InvariantCulture)] = q;

            // Cuzick on the same sizes: outcome with ties, quartile groups 1..4 with some missing.
            var cz = new TestData.Table();
            var yc = new double[n];
            var gc = new double[n];
            for (var i = 0; i < n; i++)
            {
                gc[i] = 1 + rng.Next(4);
                yc[i] = Math.Round(10 + (0.3 * gc[i]) + (3 * TestData.Normal(rng)), n > 100 ? 1 : 3);
            }

            TestData.Punch(rng, yc, 0.02);
            TestData.Punch(rng, gc, 0.02);
            cz.Add("y", yc);
            cz.Add("g", gc);
            Tables["cz_" + n.ToString(CultureInfo.InvariantCulture)] = cz;

            // Cochran–Armitage table: 4 (or 6) groups.
            var groups = n > 1000 ? 6 : 4;
            var pt = new TestData.Table();
            var events = new double[groups];
            var totals = new double[groups];
            var scores = new double[groups];
            for (var k = 0; k < groups; k++)
            {
                totals[k] = 5 + rng.Next(Math.Max(n / groups, 10));
                events[k] = Math.Round(totals[k] * (0.2 + (0.05 * k) + (0.1 * rng.NextDouble())));
                scores[k] = k == groups - 1 ? k + 2.5 : k + 1;
            }

            pt.Add("events", events);
            pt.Add("totals", totals);
            pt.Add("scores", scores);
            Tables["pt_" + n.ToString(CultureInfo.InvariantCulture)] = pt;

            // Quartile × 3-level activity category.
            var lbl = new TestData.Table();
            var lx = new double[n];
            var ly = new double[n];
            for (var i = 0; i < n; i++)
            {
                lx[i] = 1 + rng.Next(4);
                var u = rng.NextDouble() + (0.05 * lx[i]);
                ly[i] = u < 0.4 ? 1 : u < 0.8 ? 2 : 3;
            }

            TestData.Punch(rng, ly, 0.02);
            lbl.Add("x", lx);
            lbl.Add("y", ly);
            Tables["lbl_" + n.ToString(CultureInfo.InvariantCulture)] = lbl;
        }
    }
}
