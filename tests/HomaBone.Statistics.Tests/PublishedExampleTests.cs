namespace HomaBone.Statistics.Tests;

/// <summary>Published worked examples (values and sources as restated in docs/methods.md §3).</summary>
public class PublishedExampleTests
{
    // Altman (1991), the Stata nptrend manual example (webuse sg; nptrend exposure, by(group)).
    private static readonly double[] AltmanLow = [1.4, 1.4, 1.4, 1.6, 2.3, 2.3];
    private static readonly double[] AltmanMid = [0.9, 1.0, 1.1, 1.1, 1.2, 1.2, 1.5, 1.9, 2.2, 2.6, 2.6, 2.6, 2.8, 2.8, 3.2, 3.5, 4.3, 5.1];
    private static readonly double[] AltmanHigh = [0.8, 1.7, 1.7, 1.7, 3.4, 7.1, 8.9, 13.5];

    private static (double[] Y, double[] G) Altman()
    {
        var y = AltmanLow.Concat(AltmanMid).Concat(AltmanHigh).ToArray();
        var g = Enumerable.Repeat(1.0, AltmanLow.Length).Concat(Enumerable.Repeat(2.0, AltmanMid.Length)).Concat(Enumerable.Repeat(3.0, AltmanHigh.Length)).ToArray();
        return (y, g);
    }

    [Fact]
    public void CuzickTest_AltmanStataExample_MatchesStb9()
    {
        // STB-9 snp4: z = 1.519, P = 0.1288; T = 1142, E(T) = 1089, V = 1217.419 (methods.md §3.1).
        var (y, g) = Altman();
        var result = Cuzick.Test(y, g);
        Assert.Equal(1142, result.T);
        Assert.Equal(1089, result.ExpectedT);
        Assert.Equal(1217.419, result.Variance!.Value, 3);
        Assert.Equal(1.519, result.Z!.Value, 3);
        Assert.Equal(0.1288, result.P!.Value, 4);
    }

    [Fact]
    public void CuzickTest_AltmanScores125_MatchesStb9()
    {
        // STB-9 snp4 with scores 1, 2, 5: z = 1.464 (1.4643 reproduced in methods.md).
        var (y, g) = Altman();
        var result = Cuzick.Test(y, g, new Dictionary<double, double> { [1] = 1, [2] = 2, [3] = 5 });
        Assert.Equal(1.4643, result.Z!.Value, 4);
    }

    [Fact]
    public void IncrementalCuzick_AltmanExample_EqualsBatch()
    {
        var (y, g) = Altman();
        var inc = new IncrementalCuzick();
        for (var i = y.Length - 1; i >= 0; i--)
        {
            inc.Insert(y[i], (long)g[i]);
        }

        Assert.Equal(Cuzick.Test(y, g), inc.Result());
    }

    [Fact]
    public void CochranArmitageTest_RPropTrendTestDocExample_Matches()
    {
        // R ?prop.trend.test: smokers <- c(83, 90, 129, 70); patients <- c(86, 93, 136, 82)
        // prop.trend.test(smokers, patients) → X-squared = 8.2249, df = 1, p-value = 0.004132.
        var result = CochranArmitage.Test([83, 90, 129, 70], [86, 93, 136, 82], [1, 2, 3, 4], CochranArmitageVariance.Binomial);
        Assert.Equal(8.2249, result.ChiSquare!.Value, 4);
        Assert.Equal(0.004132, result.P!.Value, 6);
        Assert.Equal(-2.867913, result.Z!.Value, 6);
    }

    [Fact]
    public void CochranArmitageTest_AgrestiAlcoholMalformation_MatchesPublished()
    {
        // Agresti, Categorical Data Analysis, alcohol consumption and infant malformation: scores 0, 0.5, 1.5,
        // 4, 7; published M² = (N − 1)r² = 6.57, P = 0.01. methods.md §3.2 restates z² = 6.57013, P = 0.01037:
        // that is the N-variance value (R prop.trend.test gives 6.570133945); (N − 1)r² itself is 6.569932246
        // (R: (N-1)*cor(x,y)^2 on the expanded rows) — both round to the published 6.57.
        long[] events = [48, 38, 5, 1, 1];
        long[] totals = [17114, 14502, 793, 127, 38];
        double[] scores = [0, 0.5, 1.5, 4, 7];
        var ca = CochranArmitage.Test(events, totals, scores, CochranArmitageVariance.Binomial);
        Assert.Equal(6.570133945, ca.ChiSquare!.Value, 9);
        Assert.Equal(0.01037, ca.P!.Value, 5);
        var mh = CochranArmitage.Test(events, totals, scores, CochranArmitageVariance.Permutation);
        Assert.Equal(6.569932246, mh.ChiSquare!.Value, 9);
        Assert.Equal(6.57, Math.Round(mh.ChiSquare.Value, 2));
        Assert.Equal(0.01, Math.Round(mh.P!.Value, 2));

        // The permutation variant is the linear-by-linear M² of the 5 × 2 table (an algebraic identity).
        var table = events.Select((e, i) => (IReadOnlyList<long>)[totals[i] - e, e]).ToArray();
        var lbl = ContingencyTests.LinearByLinear(table, scores, [0, 1]);
        Assert.Equal(mh.ChiSquare.Value, lbl.ChiSquare!.Value, 10);

        // The binomial (N) variant is larger by exactly N/(N − 1).
        const long n = 17114 + 14502 + 793 + 127 + 38;
        Assert.Equal(mh.ChiSquare.Value * n / (n - 1), ca.ChiSquare.Value, 10);
    }

    [Fact]
    public void CochranArmitageTest_StataNews37MigraineReconstruction_DistinguishesVariants()
    {
        // Stata News 37-3 (nptrend …, carmitage): doses 10/20/30/40, relief 120, 108, 117, (137 inferred) of 200;
        // published trend P = 0.0526 — reproduced only by the N variance (N − 1 gives 0.0527). Inference, §3.2.
        long[] events = [120, 108, 117, 137];
        long[] totals = [200, 200, 200, 200];
        double[] scores = [10, 20, 30, 40];
        var ca = CochranArmitage.Test(events, totals, scores, CochranArmitageVariance.Binomial);
        var mh = CochranArmitage.Test(events, totals, scores, CochranArmitageVariance.Permutation);
        Assert.Equal(0.0526, Math.Round(ca.P!.Value, 4));
        Assert.Equal(0.0527, Math.Round(mh.P!.Value, 4));
    }

    [Fact]
    public void CuzickTest_AllOutcomesTied_NotComputable()
    {
        var result = Cuzick.Test([2, 2, 2, 2], [1, 2, 3, 4]);
        Assert.False(result.IsComputable);
        Assert.Null(result.Z);
        Assert.Null(result.P);
        Assert.Contains("tied", result.NotComputableReason, StringComparison.Ordinal);
    }

    [Fact]
    public void CuzickTest_SingleGroup_NotComputable()
    {
        var result = Cuzick.Test([1, 2, 3, 4], [2, 2, 2, double.NaN]);
        Assert.False(result.IsComputable);
        Assert.Equal(3, result.N);
    }

    [Fact]
    public void CochranArmitageTest_NoEvents_NotComputable()
    {
        var result = CochranArmitage.Test([0, 0, 0], [10, 12, 9], [1, 2, 3], CochranArmitageVariance.Binomial);
        Assert.False(result.IsComputable);
        Assert.Null(result.P);
    }

    [Fact]
    public void PearsonChiSquare_SingleRow_NotComputable()
    {
        var result = ContingencyTests.PearsonChiSquare([[3, 4, 5], [0, 0, 0]]);
        Assert.False(result.IsComputable);
    }

    [Fact]
    public void CuzickTest_BinaryOutcome_EqualsPermutationCochranArmitage()
    {
        // nptrend on a 0/1 variable is the N − 1 (MH) variant of Cochran–Armitage (methods.md §3.2).
        var rng = new Random(5);
        var y = new double[300];
        var g = new double[300];
        for (var i = 0; i < y.Length; i++)
        {
            g[i] = 1 + rng.Next(4);
            y[i] = rng.NextDouble() < 0.2 + (0.05 * g[i]) ? 1 : 0;
        }

        var cuzick = Cuzick.Test(y, g);
        var ca = CochranArmitage.FromObservations(y, g, CochranArmitageVariance.Permutation);
        Assert.Equal(ca.Z!.Value, cuzick.Z!.Value, 12);
    }
}
