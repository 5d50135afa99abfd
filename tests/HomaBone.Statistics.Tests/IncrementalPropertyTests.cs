using System.Globalization;
using Xunit.Abstractions;

namespace HomaBone.Statistics.Tests;

/// <summary>
/// Every incremental/mergeable structure equals its batch twin after seeded random interleavings of add,
/// remove and merge (1e-12 relative), including adversarial offsets where the safety rebuild must trigger.
/// </summary>
public class IncrementalPropertyTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-12;

    public static TheoryData<int, double> Seeds => new()
    {
        { 1, 0.0 },
        { 2, 100.0 },
        { 3, 1e8 },
        { 4, -3e6 },
    };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void RunningMoments_RandomAddRemoveMerge_EqualsBatch(int seed, double offset)
    {
        var rng = new Random(seed);
        var values = new List<double>();
        var m = default(RunningMoments);
        for (var step = 0; step < 4000; step++)
        {
            var op = rng.NextDouble();
            if (op < 0.5 || values.Count < 2)
            {
                var v = offset + (3 * TestData.Normal(rng));
                values.Add(v);
                m.Add(v);
            }
            else if (op < 0.9)
            {
                var i = rng.Next(values.Count);
                m.Remove(values[i]);
                values.RemoveAt(i);
            }
            else
            {
                var part = default(RunningMoments);
                for (var k = rng.Next(1, 30); k > 0; k--)
                {
                    var v = offset + (3 * TestData.Normal(rng));
                    values.Add(v);
                    part.Add(v);
                }

                m = rng.Next(2) == 0 ? RunningMoments.Combine(m, part) : RunningMoments.Combine(part, m);
            }
        }

        // (Removing most rows is the adversarial case that needs stored rows: see CoMomentsStore below.)
        var batch = RunningMoments.FromValues(values.ToArray());
        Assert.Equal(batch.Count, m.Count);
        var meanRel = RReferenceTests.Rel(m.Mean, batch.Mean, batch.StandardDeviation);
        Assert.True(meanRel <= Tolerance, $"mean rel {meanRel:E2} (relative to max(|mean|, SD))");
        AssertClose(batch.Variance, m.Variance, "variance");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void CoMoments_RandomAddRemoveMerge_EqualsBatch(int seed, double offset)
    {
        var rng = new Random(seed);
        const int k = 4;
        var rows = new List<double[]>();
        var cm = new CoMoments(k);
        double[] Row() => [offset + TestData.Normal(rng), 57 + (7 * TestData.Normal(rng)), rng.Next(2), offset * 0.5 + (20 * TestData.Normal(rng))];
        for (var step = 0; step < 3000; step++)
        {
            var op = rng.NextDouble();
            if (op < 0.5 || rows.Count < 3)
            {
                var r = Row();
                rows.Add(r);
                cm.Add(r);
            }
            else if (op < 0.9)
            {
                var i = rng.Next(rows.Count);
                cm.Remove(rows[i]);
                rows.RemoveAt(i);
            }
            else
            {
                var part = new CoMoments(k);
                for (var c = rng.Next(1, 20); c > 0; c--)
                {
                    var r = Row();
                    rows.Add(r);
                    part.Add(r);
                }

                cm.Merge(part);
            }
        }

        var batch = CoMoments.FromRows(k, rows);
        AssertCoMomentsEqual(batch, cm);
    }

    [Fact]
    public void CoMomentsStore_Offset1e8RemoveMostRows_RebuildsAndEqualsBatch()
    {
        var rng = new Random(42);
        var store = new CoMomentsStore(3);
        var rows = new Dictionary<long, double[]>();
        for (var id = 0; id < 1000; id++)
        {
            // Wide spread first (peak C), then the survivors are a tight cluster: C drops by ~1e4.
            var spread = id < 997 ? 100.0 : 1.0;
            double[] r = [1e8 + (spread * TestData.Normal(rng)), 1e8 + (spread * TestData.Normal(rng)), spread * TestData.Normal(rng)];
            rows[id] = r;
            store.Add(id, r);
        }

        for (var id = 0; id < 997; id++)
        {
            store.Remove(id);
            rows.Remove(id);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rebuilds: {store.RebuildCount}"));
        Assert.True(store.RebuildCount > 0, "the safety rebuild must trigger");
        AssertCoMomentsEqual(CoMoments.FromRows(3, rows.Values), store.Moments);
    }

    [Fact]
    public void CoMoments_WithoutRebuild_AdversarialRemovalLosesDigits()
    {
        // The reason CoMomentsStore exists: the same sequence without rebuild is measurably worse than batch.
        var rng = new Random(42);
        var cm = new CoMoments(1);
        var rows = new List<double[]>();
        for (var id = 0; id < 1000; id++)
        {
            double[] r = [1e8 + ((id < 997 ? 1e4 : 1.0) * TestData.Normal(rng))];
            rows.Add(r);
            cm.Add(r);
        }

        for (var id = 0; id < 997; id++)
        {
            cm.Remove(rows[id]);
        }

        Assert.True(cm.LostDigits > 6);
    }

    [Fact]
    public void CoMomentsRegress_SubModels_EqualOlsOnRows()
    {
        var table = TestData.Regression(8, 1008, 5, 2, 0.0, ties: false, collinear: false);
        var rows = Enumerable.Range(0, 1008).Select(i => table.Columns.Select(c => c[i]).ToArray()).ToArray();
        var cm = CoMoments.FromRows(rows[0].Length, rows);
        foreach (int[] subset in (int[][])[[1, 2, 3, 4], [1, 2, 3, 5, 6], [1, 2, 3, 5, 6, 7]])
        {
            var names = subset.Select(j => table.Names[j]).ToArray();
            var fromMoments = cm.Regress(0, subset, names);
            var fromRows = Ols.Fit(table["y"], subset.Select(j => (IReadOnlyList<double>)table.Columns[j]).ToArray(), names);
            AssertFitsEqual(fromRows, fromMoments, 1e-10);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void UpdatableQr_RandomAddRemove_EqualsRebuildAndOls(int seed)
    {
        var rng = new Random(seed);
        var qr = new UpdatableQr(5, rebuildAfterRemovals: 400);
        var rows = new SortedDictionary<long, (double[] X, double Y)>();
        long nextId = 0;
        for (var step = 0; step < 3000; step++)
        {
            if (rng.NextDouble() < 0.6 || rows.Count < 20)
            {
                var age = 57 + (7 * TestData.Normal(rng));
                var weight = 56 + (8 * TestData.Normal(rng));
                var height = 155 + (5 * TestData.Normal(rng));
                var lhoma = 0.5 + (0.45 * TestData.Normal(rng));
                double[] x = [1, lhoma, age, height, weight];
                var y = 300 - (10 * lhoma) - age + (0.5 * weight) + (10 * TestData.Normal(rng));
                rows[nextId] = (x, y);
                qr.Add(nextId, x, y);
                nextId++;
            }
            else
            {
                var id = rows.Keys.ElementAt(rng.Next(rows.Count));
                rows.Remove(id);
                qr.Remove(id);
            }
        }

        string[] names = ["(Intercept)", "lhoma", "age", "height", "weight"];
        Assert.True(qr.RebuildCount > 0, "the periodic rebuild after K removals must have run");
        var incremental = qr.Fit(null, names);
        var batch = Ols.Fit(
            rows.Values.Select(r => r.Y).ToArray(),
            Enumerable.Range(1, 4).Select(j => (IReadOnlyList<double>)rows.Values.Select(r => r.X[j]).ToArray()).ToArray(),
            names[1..]);
        AssertFitsEqual(batch, incremental, Tolerance);

        // Sub-model from the maintained factor (model 1 from a wider factor): columns {0, 1, 2, 4}.
        var sub = qr.Fit([0, 1, 2, 4], ["(Intercept)", "lhoma", "age", "weight"]);
        var subBatch = Ols.Fit(
            rows.Values.Select(r => r.Y).ToArray(),
            new[] { 1, 2, 4 }.Select(j => (IReadOnlyList<double>)rows.Values.Select(r => r.X[j]).ToArray()).ToArray(),
            ["lhoma", "age", "weight"]);
        AssertFitsEqual(subBatch, sub, Tolerance);
    }

    [Theory]
    [InlineData(1e-8, true)]
    [InlineData(0.0, false)]
    public void UpdatableQr_HighLeverageRemoval_AlphaRebuildKeepsAccuracy(double threshold, bool expectExact)
    {
        // Row 0 sits at x = 1e6 while the rest have x ≈ 50 ± 1: its leverage is 1 − O(1e-10), so α² ≈ 1e-10
        // and downdating it amplifies rounding by ~1/α² (Bojanczyk et al. 1987). With the default α² threshold
        // the factor is rebuilt from rows; with the threshold disabled the error is visible.
        var rng = new Random(9);
        var qr = new UpdatableQr(2, rebuildAfterRemovals: int.MaxValue, alphaSquaredThreshold: threshold);
        var rows = new SortedDictionary<long, (double[] X, double Y)>();
        for (var id = 0; id < 200; id++)
        {
            var x = id == 0 ? 1e6 : 50 + TestData.Normal(rng);
            var y = 3 + (2 * x) + TestData.Normal(rng);
            rows[id] = ([1, x], y);
            qr.Add(id, [1, x], y);
        }

        qr.Remove(0);
        rows.Remove(0);
        for (var id = 1; id < 150; id++)
        {
            qr.Remove(id);
            rows.Remove(id);
        }

        var incremental = qr.Fit(null, ["(Intercept)", "x"]);
        var batch = Ols.Fit(rows.Values.Select(r => r.Y).ToArray(), [rows.Values.Select(r => r.X[1]).ToArray()], ["x"]);
        var err = RReferenceTests.Rel(incremental.Coefficients[1].Estimate, batch.Coefficients[1].Estimate, batch.Coefficients[1].StandardError);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"threshold {threshold}: rebuilds {qr.RebuildCount}, slope rel err {err:E2}"));
        if (expectExact)
        {
            Assert.True(qr.RebuildCount > 0, "α² < 1e-8 must trigger the safety rebuild");
            AssertFitsEqual(batch, incremental, Tolerance);
        }
        else
        {
            Assert.Equal(0, qr.RebuildCount);
            Assert.True(err > 1e-9, "without the rebuild the downdate should visibly lose accuracy");
        }
    }

    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(3, 10)]
    public void OrderStatisticTree_MovingCuts_GroupSummariesEqualBatch(int seed, int groups)
    {
        var rng = new Random(seed);
        var tree = new OrderStatisticTree(2);
        var live = new Dictionary<long, (double Key, double[] Outcomes)>();
        long nextId = 0;
        for (var round = 0; round < 6; round++)
        {
            for (var step = 0; step < 400; step++)
            {
                if (rng.NextDouble() < 0.65 || live.Count < 10)
                {
                    var key = Math.Round(Math.Exp(0.5 + (0.45 * TestData.Normal(rng))), 2); // ties
                    double[] outcomes = [300 + (40 * TestData.Normal(rng)), rng.NextDouble() < 0.05 ? double.NaN : 1e6 + TestData.Normal(rng)];
                    live[nextId] = (key, outcomes);
                    tree.Insert(nextId, key, outcomes);
                    nextId++;
                }
                else
                {
                    var id = live.Keys.ElementAt(rng.Next(live.Count));
                    live.Remove(id);
                    Assert.True(tree.Remove(id));
                }
            }

            var keys = live.Values.Select(v => v.Key).ToArray();
            var cuts = tree.CutPoints(groups);
            Assert.Equal(Xtile.CutPoints(keys, groups), cuts);
            var summaries = tree.Groups(cuts);
            for (var g = 1; g <= groups; g++)
            {
                var members = live.Values.Where(v => Xtile.Assign(v.Key, cuts) == g).ToArray();
                Assert.Equal(members.Length, summaries[g - 1].Count);
                for (var t = 0; t < 2; t++)
                {
                    var batch = RunningMoments.FromValues(members.Select(m => m.Outcomes[t]).ToArray());
                    var inc = summaries[g - 1].Outcomes[t];
                    Assert.Equal(batch.Count, inc.Count);
                    AssertClose(batch.Mean, inc.Mean, "mean");
                    AssertClose(batch.StandardDeviation, inc.StandardDeviation, "sd");
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void IncrementalCuzick_InsertsRemovalsScoreChanges_EqualsBatchExactly(int seed)
    {
        var rng = new Random(seed);
        var inc = new IncrementalCuzick();
        var live = new List<(double Y, long Score)>();
        for (var step = 0; step < 3000; step++)
        {
            var op = rng.NextDouble();
            if (op < 0.55 || live.Count < 5)
            {
                var y = Math.Round(10 + (3 * TestData.Normal(rng)), 1);
                long score = 1 + rng.Next(4);
                live.Add((y, score));
                inc.Insert(y, score);
            }
            else if (op < 0.85)
            {
                var i = rng.Next(live.Count);
                inc.Remove(live[i].Y, live[i].Score);
                live.RemoveAt(i);
            }
            else
            {
                var i = rng.Next(live.Count);
                long score = 1 + rng.Next(4);
                inc.ChangeScore(live[i].Y, live[i].Score, score);
                live[i] = (live[i].Y, score);
            }

            if (step % 500 == 0)
            {
                Assert.Equal(Cuzick.Test(live.Select(l => l.Y).ToArray(), live.Select(l => (double)l.Score).ToArray()), inc.Result());
            }
        }

        Assert.Equal(Cuzick.Test(live.Select(l => l.Y).ToArray(), live.Select(l => (double)l.Score).ToArray()), inc.Result());
    }

    private static void AssertClose(double expected, double actual, string what)
    {
        var rel = RReferenceTests.Rel(actual, expected, 0);
        Assert.True(rel <= Tolerance, $"{what}: {actual:R} vs batch {expected:R} (rel {rel:E2})");
    }

    private static void AssertCoMomentsEqual(CoMoments batch, CoMoments incremental)
    {
        Assert.Equal(batch.Count, incremental.Count);
        for (var i = 0; i < batch.Dimension; i++)
        {
            var meanRel = RReferenceTests.Rel(incremental.Mean(i), batch.Mean(i), Math.Sqrt(batch.Covariance(i, i)));
            Assert.True(meanRel <= Tolerance, $"mean[{i}] rel {meanRel:E2}");
            for (var j = 0; j < batch.Dimension; j++)
            {
                var scale = Math.Sqrt(batch.Comoment(i, i) * batch.Comoment(j, j));
                var rel = RReferenceTests.Rel(incremental.Comoment(i, j), batch.Comoment(i, j), scale);
                Assert.True(rel <= Tolerance, $"C[{i},{j}] rel {rel:E2}");
            }
        }
    }

    private static void AssertFitsEqual(OlsResult expected, OlsResult actual, double tolerance)
    {
        Assert.Equal(expected.N, actual.N);
        for (var j = 0; j < expected.Coefficients.Count; j++)
        {
            var e = expected.Coefficients[j];
            var a = actual.Coefficients[j];
            Assert.True(RReferenceTests.Rel(a.Estimate, e.Estimate, e.StandardError) <= tolerance, $"{e.Name} β {a.Estimate:R} vs {e.Estimate:R}");
            Assert.True(RReferenceTests.Rel(a.StandardError, e.StandardError, 0) <= tolerance, $"{e.Name} SE {a.StandardError:R} vs {e.StandardError:R}");
            Assert.True(RReferenceTests.Rel(a.P, e.P, 0) <= tolerance * 100, $"{e.Name} P {a.P:R} vs {e.P:R}");
            if (e.Standardized is { } s)
            {
                Assert.True(RReferenceTests.Rel(a.Standardized!.Value, s, Math.Abs(s / e.T)) <= tolerance, $"{e.Name} std β");
            }
        }

        Assert.True(RReferenceTests.Rel(actual.ResidualStandardDeviation, expected.ResidualStandardDeviation, 0) <= tolerance, "sigma");
        Assert.True(RReferenceTests.Rel(actual.RSquared, expected.RSquared, 0) <= tolerance, "R2");
        Assert.True(RReferenceTests.Rel(actual.FStatistic, expected.FStatistic, 0) <= tolerance, "F");
    }
}
