using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace HomaBone.Statistics.Tests;

/// <summary>
/// NIST StRD linear least squares (certified values from the .dat headers, restated in certified.json).
/// LRE = −log10(|est − cert|/|cert|), LAE = −log10|est − cert| when cert = 0, capped at 15.
/// </summary>
public class NistStrdTests(ITestOutputHelper output)
{
    private static readonly string DataDirectory = Path.Combine(AppContext.BaseDirectory, "ReferenceData", "nist-strd");

    public static TheoryData<string, int, double> Datasets => new()
    {
        { "Norris", 1, 9 },
        { "Pontius", 2, 9 },
        { "NoInt1", 1, 9 },
        { "NoInt2", 1, 9 },
        { "Longley", 0, 9 },
        { "Wampler1", 5, 6 },
        { "Wampler2", 5, 6 },
        { "Wampler3", 5, 6 },
        { "Wampler4", 5, 6 },
        { "Wampler5", 5, 6 },
        { "Filip", 10, 7 },
    };

    [Theory]
    [MemberData(nameof(Datasets))]
    public void Fit_MatchesNistCertified_MinimumLre(string name, int degree, double minimumLre)
    {
        var lre = Evaluate(name, degree);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-9} b {lre.Beta,5:F1}  se {lre.Se,5:F1}  s {lre.Sd,5:F1}  R2 {lre.R2,5:F1}  (min |Rjj| ratio {lre.MinRatio:E2})"));
        Assert.True(lre.Beta >= minimumLre, $"{name}: coefficient LRE {lre.Beta:F2} < {minimumLre}");
        Assert.True(lre.Se >= minimumLre, $"{name}: SE LRE {lre.Se:F2} < {minimumLre}");
        Assert.True(lre.Sd >= minimumLre, $"{name}: residual SD LRE {lre.Sd:F2} < {minimumLre}");
        Assert.True(lre.R2 >= minimumLre, $"{name}: R² LRE {lre.R2:F2} < {minimumLre}");
    }

    [Fact]
    public void Fit_AllDatasets_PrintsLreTable()
    {
        output.WriteLine("dataset    min LRE  coef    SE   resid SD   R2");
        foreach (var row in Datasets)
        {
            var name = (string)row[0];
            var lre = Evaluate(name, (int)row[1]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-9} {lre.Beta,10:F1} {lre.Se,5:F1} {lre.Sd,9:F1} {lre.R2,6:F1}"));
        }
    }

    [Fact]
    public void Fit_FilipWithRTolerance_ThrowsRankDeficientInsteadOfDroppingColumn()
    {
        // R's lm (dqrdc2, tol 1e-7) drops a Filip column; at that tolerance we refuse loudly and name it.
        var (y, x) = ReadDat(Path.Combine(DataDirectory, "Filip.dat"));
        var columns = Enumerable.Range(1, 10).Select(d => x[0].Select(v => Math.Pow(v, d)).ToArray()).ToArray();
        var names = Enumerable.Range(1, 10).Select(d => "x^" + d.ToString(CultureInfo.InvariantCulture)).ToArray();
        var ex = Assert.Throws<RankDeficientException>(() => Ols.Fit(y, columns, names, new OlsOptions { RankTolerance = 1e-7 }));
        Assert.StartsWith("x^", ex.ColumnName, StringComparison.Ordinal);
        output.WriteLine($"Filip at tolerance 1e-7: {ex.Message}");
    }

    internal static double Lre(double estimate, double certified)
    {
        var err = Math.Abs(estimate - certified);
        if (err == 0)
        {
            return 15;
        }

        var lre = certified == 0 ? -Math.Log10(err) : -Math.Log10(err / Math.Abs(certified));
        return double.IsNaN(lre) ? 0 : Math.Min(15, Math.Max(0, lre));
    }

    private static (double Beta, double Se, double Sd, double R2, double MinRatio) Evaluate(string name, int degree)
    {
        var (y, x) = ReadDat(Path.Combine(DataDirectory, name + ".dat"));
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(DataDirectory, "certified.json")));
        var cert = json.RootElement.GetProperty(name);
        var certParams = cert.GetProperty("params").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var certSe = cert.GetProperty("se").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var certSd = cert.GetProperty("residual_sd").GetDouble();
        var certR2 = cert.GetProperty("r_squared").GetDouble();
        var noIntercept = name.StartsWith("NoInt", StringComparison.Ordinal);

        List<double[]> columns;
        if (degree == 0)
        {
            columns = x;
        }
        else
        {
            columns = [];
            for (var d = 1; d <= degree; d++)
            {
                columns.Add(x[0].Select(v => Math.Pow(v, d)).ToArray());
            }
        }

        var names = columns.Select((_, i) => "x" + (i + 1).ToString(CultureInfo.InvariantCulture)).ToArray();
        var fit = Ols.Fit(y, columns, names, new OlsOptions { Intercept = !noIntercept });
        Assert.Equal(certParams.Length, fit.Coefficients.Count);
        var beta = double.PositiveInfinity;
        var se = double.PositiveInfinity;
        for (var j = 0; j < certParams.Length; j++)
        {
            beta = Math.Min(beta, Lre(fit.Coefficients[j].Estimate, certParams[j]));
            se = Math.Min(se, Lre(fit.Coefficients[j].StandardError, certSe[j]));
        }

        return (beta, se, Lre(fit.ResidualStandardDeviation, certSd), Lre(fit.RSquared, certR2), fit.MinRelativeDiagonal);
    }

    private static (double[] Y, List<double[]> X) ReadDat(string path)
    {
        var lines = File.ReadAllLines(path);
        var dataLine = Array.FindIndex(lines, l => l.TrimStart().StartsWith("Data:", StringComparison.Ordinal) && l.Contains('y', StringComparison.Ordinal) && !l.Contains("Response", StringComparison.Ordinal));
        var header = lines[dataLine].Trim().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Skip(1).ToArray();
        var yIndex = Array.IndexOf(header, "y");
        var rows = new List<double[]>();
        for (var i = dataLine + 1; i < lines.Length; i++)
        {
            var parts = lines[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != header.Length)
            {
                continue;
            }

            rows.Add(parts.Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray());
        }

        var y = rows.Select(r => r[yIndex]).ToArray();
        var x = new List<double[]>();
        for (var c = 0; c < header.Length; c++)
        {
            if (c != yIndex)
            {
                var col = c;
                x.Add(rows.Select(r => r[col]).ToArray());
            }
        }

        return (y, x);
    }
}
