using System.Globalization;
using Xunit.Abstractions;

namespace HomaBone.Statistics.Tests;

/// <summary>
/// The blocked order-statistic tree against a naive model (a sorted list): structure invariants after every
/// phase, exact ranks, counts and cut points, and range summaries equal to the batch twin within 1e-12 —
/// under random, sequential, all-tied and adversarial (huge offset / outlier / boundary thrash) histories.
/// </summary>
public class OrderStatisticTreeTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-12;

    [Theory]
    [InlineData(1_000)]
    [InlineData(100_000)]
    [InlineData(1_000_000)]
    public void Height_RandomKeys_IsShallow(int n)
    {
        var rng = new Random(1);
        var tree = new OrderStatisticTree(0);
        for (var i = 0; i < n; i++)
        {
            tree.Insert(i, rng.NextDouble(), []);
        }

        tree.Validate();
        var height = tree.Height;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"n={n}: height {height} (leaf ≤ {OrderStatisticTree.LeafCapacity}, fanout ≤ {OrderStatisticTree.Fanout})"));
        Assert.True(height <= WorstCaseHeight(n), $"height {height} exceeds the B-tree bound {WorstCaseHeight(n)}");
        Assert.True(height <= HalfFullHeight(n), $"height {height} at n = {n} exceeds that of a half-full tree ({HalfFullHeight(n)})");
        tree.Rebuild();
        tree.Validate();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"n={n}: rebuilt height {tree.Height}"));
        Assert.True(tree.Height <= HalfFullHeight(n), $"rebuilt height {tree.Height} at n = {n}");
    }

    [Fact]
    public void EmptyTree_AnswersEmpty()
    {
        var tree = new OrderStatisticTree(2);
        tree.Validate();
        Assert.Equal(0, tree.Count);
        Assert.Equal(1, tree.Height);
        Assert.False(tree.Remove(42));
        Assert.Equal(0, tree.CountAtMost(double.PositiveInfinity));
        Assert.Equal(0, tree.CountAtMost(double.NaN));
        Assert.All(tree.CutPoints(4), c => Assert.True(double.IsNaN(c)));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Select(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => tree.Select(0));
        var range = tree.Range(0, 10);
        Assert.Equal(0, range.Count);
        Assert.All(range.Outcomes, m => Assert.Equal(0, m.Count));
        var groups = tree.Groups(tree.CutPoints(4));
        Assert.Equal(4, groups.Count);
        Assert.All(groups, g => Assert.Equal(0, g.Count));
        tree.Rebuild();
        tree.Validate();
        Assert.Equal(0, tree.Count);

        // Grow and shrink back to empty: the root collapses to an empty leaf.
        for (var i = 0; i < 5_000; i++)
        {
            tree.Insert(i, i % 7, [i, -i]);
        }

        for (var i = 0; i < 5_000; i++)
        {
            Assert.True(tree.Remove(i));
        }

        tree.Validate();
        Assert.Equal(0, tree.Count);
        Assert.Equal(1, tree.Height);
    }

    [Fact]
    public void InvalidArguments_Throw_AndLeaveTreeUnchanged()
    {
        var tree = new OrderStatisticTree(1);
        tree.Insert(1, 2.0, [3.0]);
        Assert.Throws<ArgumentException>(() => tree.Insert(1, 5.0, [1.0]));
        Assert.Throws<ArgumentException>(() => tree.Insert(2, double.NaN, [1.0]));
        Assert.Throws<ArgumentException>(() => tree.Insert(2, 1.0, [1.0, 2.0]));
        Assert.False(tree.Remove(2));
        tree.Validate();
        Assert.Equal(1, tree.Count);
        Assert.Equal(2.0, tree.Select(1));
    }

    [Theory]
    [InlineData(1, "random")]
    [InlineData(2, "ascending")]
    [InlineData(3, "descending")]
    [InlineData(4, "ties")]
    [InlineData(5, "fewdistinct")]
    public void RandomInterleaving_EqualsNaiveModel(int seed, string pattern)
    {
        var rng = new Random(seed);
        var tree = new OrderStatisticTree(2);
        var model = new Model();
        long nextId = 0;
        var counter = 0.0;
        double Key() => pattern switch
        {
            "ascending" => counter++,
            "descending" => -counter++,
            "ties" => 1.5,
            "fewdistinct" => rng.Next(5) - 2.0,
            _ => Math.Round(Math.Exp(0.5 + (0.45 * TestData.Normal(rng))), 2),
        };

        // Phases: grow to ~3,000, churn, shrink to ~50, grow again (exercises splits, merges, borrows, collapse).
        int[] targets = [3_000, 3_000, 50, 2_000, 0];
        foreach (var target in targets)
        {
            for (var step = 0; step < 4_000; step++)
            {
                var grow = model.Count < target ? 0.8 : model.Count > target ? 0.2 : 0.5;
                if (rng.NextDouble() < grow || model.Count == 0)
                {
                    double[] outcomes = [300 + (40 * TestData.Normal(rng)), rng.NextDouble() < 0.05 ? double.NaN : 1e6 + TestData.Normal(rng)];
                    var key = Key();
                    model.Add(nextId, key, outcomes);
                    tree.Insert(nextId, key, outcomes);
                    nextId++;
                }
                else if (rng.NextDouble() < 0.1)
                {
                    Assert.False(tree.Remove(-1 - rng.Next(1000))); // absent ids
                    Assert.False(tree.Remove(nextId + rng.Next(1000)));
                }
                else
                {
                    var id = model.RandomId(rng);
                    model.Remove(id);
                    Assert.True(tree.Remove(id));
                    Assert.False(tree.Remove(id));
                }
            }

            if (target == 0)
            {
                while (model.Count > 0)
                {
                    var id = model.RandomId(rng);
                    model.Remove(id);
                    Assert.True(tree.Remove(id));
                }
            }

            AssertMatches(tree, model, rng);
        }
    }

    [Theory]
    [InlineData(1e8)]
    [InlineData(-3e12)]
    public void AdversarialOffsetsAndOutliers_SummariesStayExact(double offset)
    {
        var rng = new Random(11);
        var tree = new OrderStatisticTree(2);
        var model = new Model();
        for (var i = 0; i < 5_000; i++)
        {
            var key = rng.NextDouble();
            double[] outcomes = [offset + TestData.Normal(rng), 1e-3 * TestData.Normal(rng)];
            model.Add(i, key, outcomes);
            tree.Insert(i, key, outcomes);
        }

        // Outliers 1e15 away enter and leave every leaf: a delta (add/remove) update would lose all digits of
        // the spread; recomputation from the node contents loses none.
        for (var rep = 0; rep < 20_000; rep++)
        {
            var id = 1_000_000 + rep;
            var key = rng.NextDouble();
            tree.Insert(id, key, [offset + 1e15, 1e15]);
            Assert.True(tree.Remove(id));
        }

        // Remove 98 % of the rows.
        foreach (var id in Enumerable.Range(0, 5_000).Where(i => i % 50 != 0))
        {
            model.Remove(id);
            Assert.True(tree.Remove(id));
        }

        AssertMatches(tree, model, rng);
    }

    [Fact]
    public void BoundaryThrash_InsertRemoveAtSplitPoint_StaysConsistent()
    {
        var tree = new OrderStatisticTree(1);
        var model = new Model();
        var leaf = OrderStatisticTree.LeafCapacity;
        for (var i = 0; i < leaf * 40; i++)
        {
            model.Add(i, i, [i]);
            tree.Insert(i, i, [i]);
        }

        // Repeatedly fill a leaf to overflow and drain it below the minimum at the same place.
        var rng = new Random(5);
        for (var rep = 0; rep < 200; rep++)
        {
            var at = (leaf * 20) + 0.5;
            for (var j = 0; j < leaf; j++)
            {
                tree.Insert(-1 - j, at, [j]);
            }

            for (var j = 0; j < leaf; j++)
            {
                Assert.True(tree.Remove(-1 - j));
            }

            tree.Insert(-1, at, [1]);
            tree.Remove(-1);
        }

        AssertMatches(tree, model, rng);
    }

    [Fact]
    public void Rebuild_SameSetDifferentHistories_BitIdentical()
    {
        var rng = new Random(21);
        var rows = Enumerable.Range(0, 20_000)
            .Select(i => (Id: (long)i, Key: Math.Round(rng.NextDouble() * 50, 1), Outcomes: new[] { 1e6 + TestData.Normal(rng), rng.NextDouble() < 0.1 ? double.NaN : TestData.Normal(rng) }))
            .ToArray();
        var a = new OrderStatisticTree(2);
        foreach (var r in rows)
        {
            a.Insert(r.Id, r.Key, r.Outcomes);
        }

        var b = new OrderStatisticTree(2);
        foreach (var r in rows.OrderByDescending(r => r.Key).ThenBy(r => r.Id % 7))
        {
            b.Insert(r.Id, r.Key, r.Outcomes);
        }

        // Extra churn in b that leaves the same set.
        for (var i = 0; i < 5_000; i++)
        {
            var r = rows[rng.Next(rows.Length)];
            Assert.True(b.Remove(r.Id));
            b.Insert(r.Id, r.Key, r.Outcomes);
        }

        var cuts = a.CutPoints(5);
        Assert.Equal(cuts, b.CutPoints(5));
        var before = (a.Groups(cuts), b.Groups(cuts));
        for (var g = 0; g < 5; g++)
        {
            for (var t = 0; t < 2; t++)
            {
                var x = before.Item1[g].Outcomes[t];
                var y = before.Item2[g].Outcomes[t];
                Assert.Equal(x.Count, y.Count);
                AssertClose(x.Mean, y.Mean, "mean before rebuild");
                AssertClose(x.StandardDeviation, y.StandardDeviation, "sd before rebuild");
            }
        }

        a.Rebuild();
        b.Rebuild();
        a.Validate();
        b.Validate();
        var ga = a.Groups(cuts);
        var gb = b.Groups(cuts);
        for (var g = 0; g < 5; g++)
        {
            Assert.Equal(ga[g].Count, gb[g].Count);
            Assert.Equal(ga[g].Outcomes, gb[g].Outcomes); // bitwise RunningMoments equality
        }
    }

    private static int WorstCaseHeight(int n)
    {
        // A non-root leaf holds ≥ L/4 entries, a non-root internal node ≥ F/4 children, the root ≥ 2 children:
        // n ≥ 2 · (F/4)^(h−2) · L/4.
        var minLeaf = OrderStatisticTree.LeafCapacity / 4;
        var minFanout = OrderStatisticTree.Fanout / 4;
        var h = 1;
        for (double capacity = 2.0 * minLeaf; capacity <= n; capacity *= minFanout)
        {
            h++;
        }

        return h;
    }

    private static int HalfFullHeight(int n) =>
        1 + (int)Math.Ceiling(Math.Log((double)n / (OrderStatisticTree.LeafCapacity / 2)) / Math.Log(OrderStatisticTree.Fanout / 2));

    private static void AssertClose(double expected, double actual, string what)
    {
        if (double.IsNaN(expected))
        {
            Assert.True(double.IsNaN(actual), $"{what}: {actual:R} vs NaN");
            return;
        }

        var rel = RReferenceTests.Rel(actual, expected, 0);
        Assert.True(rel <= Tolerance, $"{what}: {actual:R} vs batch {expected:R} (rel {rel:E2})");
    }

    private static void AssertMatches(OrderStatisticTree tree, Model model, Random rng)
    {
        tree.Validate();
        var sorted = model.Sorted();
        Assert.Equal(sorted.Length, tree.Count);
        for (var k = 1; k <= sorted.Length; k++)
        {
            Assert.Equal(sorted[k - 1].Key, tree.Select(k));
        }

        var keys = sorted.Select(s => s.Key).ToArray();
        double[] probes = [double.NegativeInfinity, double.PositiveInfinity, double.NaN, .. keys.Take(50), .. Enumerable.Range(0, 50).Select(_ => keys.Length == 0 ? 0 : keys[rng.Next(keys.Length)] + ((rng.NextDouble() - 0.5) * 0.01))];
        foreach (var x in probes)
        {
            Assert.Equal(keys.Count(k => k <= x), tree.CountAtMost(x));
        }

        foreach (var groups in new[] { 2, 4, 5, 10 })
        {
            var cuts = tree.CutPoints(groups);
            Assert.Equal(Xtile.CutPoints(keys, groups), cuts);
            if (keys.Length == 0)
            {
                continue;
            }

            var summaries = tree.Groups(cuts);
            for (var g = 1; g <= groups; g++)
            {
                var members = sorted.Where(s => Xtile.Assign(s.Key, cuts) == g).ToArray();
                AssertSummary(members, summaries[g - 1]);
            }
        }

        for (var rep = 0; rep < 200; rep++)
        {
            var from = rng.Next(-5, sorted.Length + 5);
            var to = rng.Next(-5, sorted.Length + 5);
            var lo = Math.Clamp(from, 0, sorted.Length);
            var hi = Math.Clamp(to, 0, sorted.Length);
            AssertSummary(hi > lo ? sorted[lo..hi] : [], tree.Range(from, to));
        }
    }

    private static void AssertSummary((double Key, long Id, double[] Outcomes)[] members, RangeSummary summary)
    {
        Assert.Equal(members.Length, summary.Count);
        for (var t = 0; t < summary.Outcomes.Count; t++)
        {
            var batch = RunningMoments.FromValues(members.Select(m => m.Outcomes[t]).ToArray());
            var inc = summary.Outcomes[t];
            Assert.Equal(batch.Count, inc.Count);
            AssertClose(batch.Mean, inc.Mean, "mean");
            AssertClose(batch.StandardDeviation, inc.StandardDeviation, "sd");
        }
    }

    /// <summary>The naive twin: a dictionary of rows, sorted by (key, id) on demand.</summary>
    [Fact]
    public void WithoutIdIndex_SameHistory_SameTreeAndAnswersAsIndexed()
    {
        // The caller that knows each key (the live analysis) keeps no id index: same inserts and removals, same
        // order statistics, cut points and range summaries, bit for bit.
        var rng = new Random(20261126);
        var indexed = new OrderStatisticTree(1);
        var bare = new OrderStatisticTree(1, indexIds: false);
        var held = new Dictionary<long, double>();
        long next = 0;
        for (var step = 0; step < 20_000; step++)
        {
            if (held.Count > 0 && rng.NextDouble() < 0.45)
            {
                var id = held.Keys.ElementAt(rng.Next(held.Count));
                Assert.True(indexed.Remove(id));
                Assert.True(bare.Remove(id, held[id]));
                held.Remove(id);
            }
            else
            {
                var key = Math.Round(rng.NextDouble() * 50, 1); // many ties
                indexed.Insert(next, key, [key * 2]);
                bare.Insert(next, key, [key * 2]);
                held[next++] = key;
            }
        }

        indexed.Validate();
        bare.Validate();
        Assert.Equal(indexed.Count, bare.Count);
        Assert.Equal(indexed.CutPoints(4), bare.CutPoints(4));
        for (var k = 1; k <= bare.Count; k += 97)
        {
            Assert.Equal(indexed.Select(k), bare.Select(k));
        }

        var some = held.First();
        Assert.False(bare.Remove(some.Key, some.Value + 1), "a removal with another key finds nothing");
        Assert.False(indexed.Remove(some.Key, some.Value + 1));
        Assert.Throws<ArgumentException>(() => bare.Insert(some.Key, some.Value, [0.0]));
        Assert.Throws<InvalidOperationException>(() => bare.Remove(some.Key));
        Assert.True(bare.Remove(some.Key, some.Value));
        Assert.False(bare.Remove(some.Key, some.Value), "already removed");
        bare.Validate();
    }

    private sealed class Model
    {
        private readonly Dictionary<long, (double Key, double[] Outcomes)> _rows = [];
        private readonly List<long> _ids = [];

        public int Count => _rows.Count;

        public void Add(long id, double key, double[] outcomes)
        {
            _rows.Add(id, (key, outcomes));
            _ids.Add(id);
        }

        public void Remove(long id)
        {
            Assert.True(_rows.Remove(id));
            var i = _ids.IndexOf(id);
            _ids[i] = _ids[^1];
            _ids.RemoveAt(_ids.Count - 1);
        }

        public long RandomId(Random rng) => _ids[rng.Next(_ids.Count)];

        public (double Key, long Id, double[] Outcomes)[] Sorted() => _rows
            .Select(r => (r.Value.Key, r.Key, r.Value.Outcomes))
            .OrderBy(r => r.Item1)
            .ThenBy(r => r.Item2)
            .ToArray();
    }
}
