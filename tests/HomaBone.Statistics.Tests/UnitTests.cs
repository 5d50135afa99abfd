namespace HomaBone.Statistics.Tests;

public class QuantileTests
{
    [Fact]
    public void Compute_Type2IntegerPosition_AveragesNeighbours()
    {
        double[] x = [8, 1, 7, 2, 6, 3, 5, 4];
        Assert.Equal(2.5, Quantiles.Compute(x, 0.25, QuantileDefinition.AveragedInverseCdf));
        Assert.Equal(4.5, Quantiles.Compute(x, 0.5, QuantileDefinition.AveragedInverseCdf));
        Assert.Equal(3, Quantiles.Compute(x, 0.3, QuantileDefinition.AveragedInverseCdf));
        Assert.Equal(1, Quantiles.Compute(x, 0.0, QuantileDefinition.AveragedInverseCdf));
        Assert.Equal(8, Quantiles.Compute(x, 1.0, QuantileDefinition.AveragedInverseCdf));
    }

    [Fact]
    public void Compute_RationalType2_UsesExactIntegerTest()
    {
        // n = 77, p = 9/11: n·p = 63 exactly, but 77 * (9.0/11) = 63.00000000000001 in double.
        var x = Enumerable.Range(1, 77).Select(i => (double)i).ToArray();
        Assert.Equal(63.5, Quantiles.Compute(x, 9, 11, QuantileDefinition.AveragedInverseCdf));
        Assert.Equal(64, Quantiles.Compute(x, 9.0 / 11, QuantileDefinition.AveragedInverseCdf));
        Assert.Equal(63.5, Xtile.CutPoints(x, 11)[8]);
    }

    [Fact]
    public void Compute_MissingValues_AreExcluded()
    {
        Assert.Equal(2, Quantiles.Compute([double.NaN, 1, 2, 3, double.NaN], 0.5, QuantileDefinition.AveragedInverseCdf));
        Assert.True(double.IsNaN(Quantiles.Compute([double.NaN], 0.5, QuantileDefinition.Linear)));
    }

    [Fact]
    public void XtileAssign_TieAtCut_GoesToLowerGroup()
    {
        double[] x = [1, 2, 2, 2, 3, 4, 5, 6];
        var cuts = Xtile.CutPoints(x, 4); // positions 2, 4, 6 → (2+2)/2, (2+3)/2, (4+5)/2
        Assert.Equal([2.0, 2.5, 4.5], cuts);
        Assert.Equal(1, Xtile.Assign(2.0, cuts));
        Assert.Equal(2, Xtile.Assign(2.5, cuts));
        Assert.Equal(3, Xtile.Assign(2.6, cuts));
        Assert.Equal(4, Xtile.Assign(6, cuts));
        Assert.Equal(0, Xtile.Assign(double.NaN, cuts));
        Assert.Equal([1, 1, 1, 1, 3, 3, 4, 4], Xtile.Categorize(x, 4));
    }

    [Fact]
    public void FromSorted_OutOfRangeP_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Quantiles.Compute([1.0, 2.0], 1.5, QuantileDefinition.AveragedInverseCdf));
    }
}

public class DescriptiveTests
{
    [Fact]
    public void Summarize_KnownSample_MatchesHandComputation()
    {
        var s = Descriptive.Summarize([2, 4, 4, 4, 5, 5, 7, 9, double.NaN]);
        Assert.Equal(8, s.N);
        Assert.Equal(1, s.MissingN);
        Assert.Equal(5, s.Mean);
        Assert.Equal(Math.Sqrt(32.0 / 7.0), s.StandardDeviation, 14);
        Assert.Equal(4.5, s.Median);
        Assert.Equal(4, s.P25);
        Assert.Equal(6, s.P75);
        Assert.Equal(2, s.InterquartileRange);
    }

    [Fact]
    public void RunningMoments_LargeOffset_KeepsDigits()
    {
        // Σx² − n·x̄² would return garbage here; the shifted Welford update keeps full precision.
        var m = default(RunningMoments);
        foreach (var v in new[] { 1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16 })
        {
            m.Add(v);
        }

        Assert.Equal(30.0, m.Variance, 12);
        Assert.Equal(1e9 + 10, m.Mean);
    }

    [Fact]
    public void StandardizedMeanDifference_PooledAndAverage_MatchFormula()
    {
        double[] a = [5, 6, 7, 8];
        double[] b = [1, 2, 3];
        // s_a² = 5/3, s_b² = 1; pooled² = (5 + 2)/5 = 1.4; average² = (5/3 + 1)/2 = 4/3.
        Assert.Equal(4.5 / Math.Sqrt(1.4), Descriptive.StandardizedMeanDifference(a, b, SmdDenominator.Pooled), 14);
        Assert.Equal(4.5 / Math.Sqrt(4.0 / 3.0), Descriptive.StandardizedMeanDifference(a, b, SmdDenominator.AverageVariance), 14);
        Assert.Equal(4.5, Descriptive.StandardizedMeanDifference(a, b, SmdDenominator.Reference), 14);
    }

    [Fact]
    public void Count_CategoricalLevel_PercentOverNonMissing()
    {
        var c = Descriptive.Count([1, 0, 1, double.NaN, 1], 1);
        Assert.Equal(3, c.Count);
        Assert.Equal(4, c.Denominator);
        Assert.Equal(75, c.Percent);
    }
}

public class OlsTests
{
    [Fact]
    public void Fit_ExactlyCollinearColumn_ThrowsNamingColumn()
    {
        var rng = new Random(3);
        var x1 = Enumerable.Range(0, 50).Select(_ => rng.NextDouble()).ToArray();
        var x2 = Enumerable.Range(0, 50).Select(_ => rng.NextDouble()).ToArray();
        var x3 = x1.Zip(x2, (a, b) => (2 * a) - b).ToArray();
        var y = x1.Select((v, i) => v + x2[i] + rng.NextDouble()).ToArray();
        var ex = Assert.Throws<RankDeficientException>(() => Ols.Fit(y, [x1, x2, x3], ["age", "weight", "combo"]));
        Assert.Equal("combo", ex.ColumnName);
        Assert.Equal(3, ex.ColumnIndex);
    }

    [Fact]
    public void Fit_DummyEmptyAfterDeletion_ThrowsRankDeficient()
    {
        double[] y = [1, 2, 3, 4, 5, 6];
        double[] x = [1, 3, 2, 5, 4, 6];
        double[] dummy = [0, 0, 0, 0, 0, 1];
        double[] other = [1, 2, 1, 2, 1, double.NaN];
        var ex = Assert.Throws<RankDeficientException>(() => Ols.Fit(y, [x, dummy, other], ["x", "q4", "z"]));
        Assert.Equal("q4", ex.ColumnName);
    }

    [Fact]
    public void Fit_ListwiseDeletion_ReportsN()
    {
        double[] y = [1, 2, 3, double.NaN, 5, 6, 8];
        double[] x = [1, 2, 4, 4, double.NaN, 6, 7];
        var fit = Ols.Fit(y, [x], ["x"]);
        Assert.Equal(5, fit.N);
        Assert.Equal(2, fit.DroppedN);
        Assert.Equal(3, fit.DfResidual);
    }

    [Fact]
    public void Fit_StandardizedBeta_EqualsSlopeOfZScoredModel()
    {
        var table = TestData.Regression(7, 200, 3, 1, 0.0, ties: false, collinear: false);
        var columns = table.Columns.Skip(1).ToArray();
        var names = table.Names.Skip(1).ToArray();
        var fit = Ols.Fit(table["y"], columns, names);
        static double[] Z(double[] v)
        {
            var m = RunningMoments.FromValues(v);
            return v.Select(x => (x - m.Mean) / m.StandardDeviation).ToArray();
        }

        var zfit = Ols.Fit(Z(table["y"]), columns.Select(Z).ToArray(), names);
        for (var j = 1; j < fit.Coefficients.Count; j++)
        {
            Assert.Equal(zfit.Coefficients[j].Estimate, fit.Coefficients[j].Standardized!.Value, 12);
            Assert.Equal(zfit.Coefficients[j].P, fit.Coefficients[j].P, 10);
        }
    }
}

public class AncovaTests
{
    [Fact]
    public void Fit_ScaleOptions_UseDocumentedSd()
    {
        var rng = new Random(4);
        var n = 240;
        var y = new double[n];
        var g = new double[n];
        var age = new double[n];
        for (var i = 0; i < n; i++)
        {
            g[i] = i % 2;
            age[i] = 57 + (7 * TestData.Normal(rng));
            y[i] = 100 + (5 * g[i]) - (0.5 * age[i]) + (8 * TestData.Normal(rng));
        }

        var byRef = Ancova.Fit(y, g, 0, [age], ["age"]);
        var byResidual = Ancova.Fit(y, g, 0, [age], ["age"], new AncovaOptions { Scale = SdUnitScale.ResidualSd });
        var byPooled = Ancova.Fit(y, g, 0, [age], ["age"], new AncovaOptions { Scale = SdUnitScale.PooledSd });

        var ref0 = RunningMoments.FromValues(y.Where((_, i) => g[i] == 0).ToArray());
        var ref1 = RunningMoments.FromValues(y.Where((_, i) => g[i] == 1).ToArray());
        Assert.Equal(ref0.StandardDeviation, byRef.Comparisons[0].SdRef!.Value, 12);
        Assert.Equal(byRef.Model.ResidualStandardDeviation, byResidual.Comparisons[0].SdRef!.Value, 12);
        var pooled = Math.Sqrt((ref0.SumSquaredDeviations + ref1.SumSquaredDeviations) / (n - 2));
        Assert.Equal(pooled, byPooled.Comparisons[0].SdRef!.Value, 12);

        var c = byRef.Comparisons[0];
        Assert.Equal(c.Difference / c.SdRef!.Value, c.DifferenceSd!.Value, 14);
        Assert.Equal(c.P, byPooled.Comparisons[0].P);
    }

    [Fact]
    public void Fit_MissingReferenceGroup_Throws()
    {
        Assert.Throws<ArgumentException>(() => Ancova.Fit([1, 2, 3, 4], [2, 2, 3, 3], 1, [], []));
    }
}

public class ExactnessTests
{
    [Theory]
    [InlineData(QuantileDefinition.InverseCdf)]
    [InlineData(QuantileDefinition.AveragedInverseCdf)]
    [InlineData(QuantileDefinition.ClosestObservation)]
    public void ComputeRational_DyadicP_EqualsDoublePath(QuantileDefinition definition)
    {
        // For p = num/2^k the double product n·p is exact, so the two paths must agree.
        var rng = new Random(17);
        foreach (var n in new[] { 1, 2, 3, 7, 8, 16, 33, 1008 })
        {
            var x = Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble() * 10, 1)).ToArray();
            for (var num = 0; num <= 16; num++)
            {
                Assert.Equal(Quantiles.Compute(x, num / 16.0, definition), Quantiles.Compute(x, num, 16, definition));
            }
        }
    }

    [Fact]
    public void CuzickTest_LinearlyRescaledScores_SameZ()
    {
        // Non-integer scores take the centred floating-point path; z is invariant to a·l + b (a > 0).
        var rng = new Random(23);
        var y = Enumerable.Range(0, 200).Select(_ => Math.Round(TestData.Normal(rng), 1)).ToArray();
        var g = Enumerable.Range(0, 200).Select(_ => (double)(1 + rng.Next(4))).ToArray();
        var integer = Cuzick.Test(y, g);
        var rescaled = Cuzick.Test(y, g, new Dictionary<double, double> { [1] = 0.25, [2] = 0.75, [3] = 1.25, [4] = 1.75 });
        Assert.Equal(integer.Z!.Value, rescaled.Z!.Value, 12);
    }
}
