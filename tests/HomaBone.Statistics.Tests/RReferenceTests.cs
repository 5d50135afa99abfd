using System.Globalization;
using Xunit.Abstractions;

namespace HomaBone.Statistics.Tests;

/// <summary>
/// R 4.x (Debian r-base-core) as an independent oracle on seeded data (see Scripts/reference.R for the R
/// commands). Estimates within 1e-10 relative (relative to max(|R value|, its SE) for coefficients, so a
/// coefficient that is ~0 is judged on the scale it is estimated to), P-values within 1e-8 relative.
/// </summary>
public class RReferenceTests(RReferenceFixture r, ITestOutputHelper output) : IClassFixture<RReferenceFixture>
{
    private const double EstimateTolerance = 1e-10;
    private const double PTolerance = 1e-8;

    public static TheoryData<string> RegressionSets => new() { "reg_small", "reg_cohort", "reg_large", "reg_collinear", "reg_noint_a" };

    public static TheoryData<string> AncovaSets => new() { "anc_21", "anc_22", "anc_23", "anc_24" };

    public static TheoryData<int> Sizes => new() { 20, 21, 1007, 1008, 5000 };

    [Theory]
    [MemberData(nameof(RegressionSets))]
    public void OlsFit_MatchesRLmSummary_WithinTolerance(string set)
    {
        var table = r.Tables[set];
        var expected = r.Results[set];
        Assert.Equal(0, expected["aliased"]);
        var intercept = !set.StartsWith("reg_noint", StringComparison.Ordinal);
        var names = table.Names.Skip(1).ToArray();
        var fit = Ols.Fit(table["y"], table.Columns.Skip(1).ToArray(), names, new OlsOptions { Intercept = intercept });

        var maxEst = 0.0;
        var maxP = 0.0;
        Assert.Equal(expected["n"], fit.N);
        Assert.Equal(expected["dfres"], fit.DfResidual);
        foreach (var c in fit.Coefficients)
        {
            var se = expected[c.Name + ":se"];
            maxEst = Math.Max(maxEst, Rel(c.Estimate, expected[c.Name + ":est"], se));
            maxEst = Math.Max(maxEst, Rel(c.StandardError, se, 0));
            maxEst = Math.Max(maxEst, Rel(c.T, expected[c.Name + ":t"], 1));
            maxEst = Math.Max(maxEst, Rel(c.Lower, expected[c.Name + ":lo"], se));
            maxEst = Math.Max(maxEst, Rel(c.Upper, expected[c.Name + ":hi"], se));
            if (c.Standardized is { } std)
            {
                maxEst = Math.Max(maxEst, Rel(std, expected[c.Name + ":std"], Math.Abs(expected[c.Name + ":std"] / expected[c.Name + ":t"])));
            }

            maxP = Math.Max(maxP, Rel(c.P, expected[c.Name + ":p"], 0));
        }

        maxEst = Math.Max(maxEst, Rel(fit.RSquared, expected["r2"], 0));
        maxEst = Math.Max(maxEst, Rel(fit.AdjustedRSquared, expected["adjr2"], 0));
        maxEst = Math.Max(maxEst, Rel(fit.ResidualStandardDeviation, expected["sigma"], 0));
        maxEst = Math.Max(maxEst, Rel(fit.FStatistic, expected["F"], 0));
        maxP = Math.Max(maxP, Rel(fit.FPValue, expected["Fp"], 0));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{set}: n={fit.N} max rel err estimates {maxEst:E2}, P {maxP:E2}"));
        Assert.True(maxEst <= EstimateTolerance, $"estimates differ from R by {maxEst:E3}");
        Assert.True(maxP <= PTolerance, $"P-values differ from R by {maxP:E3}");
    }

    [Theory]
    [MemberData(nameof(AncovaSets))]
    public void AncovaFit_MatchesRLmFactor_WithinTolerance(string set)
    {
        var table = r.Tables[set];
        var expected = r.Results[set];
        var result = Ancova.Fit(table["y"], table["g"], 1.0, [table["c1"], table["c2"], table["c3"]], ["c1", "c2", "c3"]);
        var maxEst = 0.0;
        var maxP = 0.0;
        maxEst = Math.Max(maxEst, Rel(result.Comparisons[0].SdRef!.Value, expected["sdref"], 0));
        foreach (var c in result.Comparisons)
        {
            var key = c.Group.ToString(CultureInfo.InvariantCulture);
            var se = expected[key + ":se"];
            Assert.Equal(expected["n"], c.N);
            Assert.Equal(expected["df"], c.Df);
            maxEst = Math.Max(maxEst, Rel(c.Difference, expected[key + ":est"], se));
            maxEst = Math.Max(maxEst, Rel(c.StandardError, se, 0));
            maxEst = Math.Max(maxEst, Rel(c.Lower, expected[key + ":lo"], se));
            maxEst = Math.Max(maxEst, Rel(c.Upper, expected[key + ":hi"], se));
            var seSd = se / expected["sdref"];
            maxEst = Math.Max(maxEst, Rel(c.DifferenceSd!.Value, expected[key + ":est_sd"], seSd));
            maxEst = Math.Max(maxEst, Rel(c.LowerSd!.Value, expected[key + ":lo_sd"], seSd));
            maxEst = Math.Max(maxEst, Rel(c.UpperSd!.Value, expected[key + ":hi_sd"], seSd));
            maxP = Math.Max(maxP, Rel(c.P, expected[key + ":p"], 0));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{set}: max rel err estimates {maxEst:E2}, P {maxP:E2}"));
        Assert.True(maxEst <= EstimateTolerance, $"estimates differ from R by {maxEst:E3}");
        Assert.True(maxP <= PTolerance, $"P-values differ from R by {maxP:E3}");
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void QuantilesCompute_AllNineTypes_EqualRQuantile(int n)
    {
        var name = "q_" + n.ToString(CultureInfo.InvariantCulture);
        var x = r.Tables[name]["x"];
        var expected = r.Results[name];
        double[] probs = [0, 0.1, 0.25, 1.0 / 3.0, 0.5, 2.0 / 3.0, 0.75, 0.9, 0.99, 1];
        for (var type = 1; type <= 9; type++)
        {
            for (var k = 0; k < probs.Length; k++)
            {
                var key = string.Create(CultureInfo.InvariantCulture, $"t{type}:{k + 1}");
                var actual = Quantiles.Compute(x, probs[k], (QuantileDefinition)type);
                Assert.True(Rel(actual, expected[key], 0) <= 1e-15, $"type {type} p={probs[k]}: {actual:R} vs R {expected[key]:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void XtileCutPoints_EqualRQuantileType2_Exactly(int n)
    {
        var name = "q_" + n.ToString(CultureInfo.InvariantCulture);
        var x = r.Tables[name]["x"];
        var expected = r.Results[name];
        var tree = new OrderStatisticTree(0);
        for (var i = 0; i < x.Length; i++)
        {
            if (!double.IsNaN(x[i]))
            {
                tree.Insert(i, x[i], []);
            }
        }

        foreach (var k in new[] { 4, 5, 10 })
        {
            var cuts = Xtile.CutPoints(x, k);
            var treeCuts = tree.CutPoints(k);
            for (var j = 1; j < k; j++)
            {
                var key = string.Create(CultureInfo.InvariantCulture, $"xt{k}:{j}");
                Assert.Equal(expected[key], cuts[j - 1]);
                Assert.Equal(expected[key], treeCuts[j - 1]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void CuzickTest_MatchesRFormulaImplementation_WithinTolerance(int n)
    {
        var name = "cz_" + n.ToString(CultureInfo.InvariantCulture);
        var table = r.Tables[name];
        var expected = r.Results[name];
        var result = Cuzick.Test(table["y"], table["g"]);
        Assert.True(result.IsComputable);
        Assert.Equal(expected["n"], result.N);
        Assert.Equal(expected["T"], result.T);
        Assert.Equal(expected["ET"], result.ExpectedT);
        Assert.True(Rel(result.Variance!.Value, expected["V"], 0) <= EstimateTolerance);
        Assert.True(Rel(result.Z!.Value, expected["z"], 0) <= EstimateTolerance);
        Assert.True(Rel(result.P!.Value, expected["p"], 0) <= PTolerance, $"P {result.P:R} vs R {expected["p"]:R}");

        var incremental = new IncrementalCuzick();
        var y = table["y"];
        var g = table["g"];
        for (var i = 0; i < y.Length; i++)
        {
            if (!double.IsNaN(y[i]) && !double.IsNaN(g[i]))
            {
                incremental.Insert(y[i], (long)g[i]);
            }
        }

        Assert.Equal(result, incremental.Result());
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void CochranArmitageTest_MatchesRPropTrendTest_WithinTolerance(int n)
    {
        var name = "pt_" + n.ToString(CultureInfo.InvariantCulture);
        var table = r.Tables[name];
        var expected = r.Results[name];
        var result = CochranArmitage.Test(
            table["events"].Select(v => (long)v).ToArray(),
            table["totals"].Select(v => (long)v).ToArray(),
            table["scores"],
            CochranArmitageVariance.Binomial);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: X2 {result.ChiSquare:R} vs {expected["chisq"]:R}; P {result.P:R} vs {expected["p"]:R}"));
        Assert.True(Rel(result.ChiSquare!.Value, expected["chisq"], 0) <= EstimateTolerance);
        Assert.True(Rel(result.P!.Value, expected["p"], 0) <= PTolerance);
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void ContingencyTests_MatchRCorAndChisqTest_WithinTolerance(int n)
    {
        var name = "lbl_" + n.ToString(CultureInfo.InvariantCulture);
        var table = r.Tables[name];
        var expected = r.Results[name];
        var lbl = ContingencyTests.LinearByLinear(table["x"], table["y"]);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: M2 {lbl.ChiSquare:R} vs R {expected["m2"]:R}; P {lbl.P:R} vs {expected["m2p"]:R}"));
        // n = 20 has an exactly zero correlation: R gives 0, we give ~1e-32, so floor the scale at 1e-12.
        Assert.True(Rel(lbl.ChiSquare!.Value, expected["m2"], 1e-12) <= EstimateTolerance);
        Assert.True(Rel(lbl.P!.Value, expected["m2p"], 0) <= PTolerance);

        var x = table["x"];
        var y = table["y"];
        var counts = new long[4][];
        for (var i = 0; i < 4; i++)
        {
            counts[i] = new long[3];
        }

        for (var i = 0; i < x.Length; i++)
        {
            if (!double.IsNaN(y[i]))
            {
                counts[(int)x[i] - 1][(int)y[i] - 1]++;
            }
        }

        var pearson = ContingencyTests.PearsonChiSquare(counts);
        Assert.Equal(expected["x2df"], pearson.DegreesOfFreedom);
        Assert.True(Rel(pearson.ChiSquare!.Value, expected["x2"], 0) <= EstimateTolerance);
        Assert.True(Rel(pearson.P!.Value, expected["x2p"], 0) <= PTolerance);
    }

    [Fact]
    public void Tails_TinyAndModerateP_MatchRWithRelativeAccuracy()
    {
        var table = r.Tables["tails_grid"];
        var expected = r.Results["tails_grid"];
        var max = 0.0;
        var smallest = 1.0;
        for (var i = 0; i < table["t"].Length; i++)
        {
            var key = (i + 1).ToString(CultureInfo.InvariantCulture);
            (double Actual, string Name)[] pairs =
            [
                (Tails.StudentTwoSided(table["t"][i], table["df"][i]), ":pt"),
                (Tails.FUpper(table["f"][i], table["df1"][i], table["df2"][i]), ":pf"),
                (Tails.NormalTwoSided(table["z"][i]), ":pz"),
                (Tails.ChiSquareUpper(table["chi"][i], table["chidf"][i]), ":pchi"),
            ];
            foreach (var (actual, suffix) in pairs)
            {
                var e = expected[key + suffix];
                smallest = e > 0 ? Math.Min(smallest, e) : smallest;
                var rel = Rel(actual, e, 0);
                max = Math.Max(max, rel);
                Assert.True(rel <= PTolerance, $"row {key}{suffix}: {actual:R} vs R {e:R} (rel {rel:E2})");
            }

            var q = Tails.StudentQuantile(0.975, table["df"][i]);
            Assert.True(Rel(q, expected[key + ":qt"], 0) <= 1e-12, $"qt row {key}: {q:R} vs {expected[key + ":qt"]:R}");
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tails: max rel err {max:E2}, smallest positive P compared {smallest:E2}"));
    }

    internal static double Rel(double actual, double expected, double scale)
    {
        if (actual == expected)
        {
            return 0;
        }

        var denominator = Math.Max(Math.Abs(expected), Math.Abs(scale));
        return denominator == 0 ? double.PositiveInfinity : Math.Abs(actual - expected) / denominator;
    }
}
