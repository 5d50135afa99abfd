namespace HomaBone.Qct.Tests.Measures;

/// <summary>
/// Selection gives exactly what indexing the sorted array gives (Array.Sort is the reference), on random data with
/// many ties, on the orders that defeat naive pivots, and with NaN; the input is left as it was.
/// </summary>
public sealed class OrderStatisticsTests
{
    public static TheoryData<string> Shapes => ["random", "ties", "sorted", "reversed", "equal", "organ-pipe", "sawtooth", "nan"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SelectPercentileAndMedian_EqualTheSortedArraysValues(string shape)
    {
        var random = new Random(20261127);
        foreach (var n in new[] { 1, 2, 3, 4, 5, 31, 32, 33, 64, 65, 100, 257, 1000, 4099, 20000 })
        {
            var values = Make(shape, n, random);
            var before = (double[])values.Clone();
            var sorted = (double[])values.Clone();
            Array.Sort(sorted);
            foreach (var k in new[] { 0, n / 4, (n - 1) / 2, n / 2, n - 1 }.Distinct())
            {
                Assert.Equal(sorted[k], OrderStatistics.Select(values, k));
            }

            foreach (var p in new[] { 0.0, 0.05, 0.25, 0.5, 0.9, 0.95, 1.0 })
            {
                var h = (n - 1) * p;
                var lo = (int)Math.Floor(h);
                var hi = Math.Min(lo + 1, n - 1);
                var expected = sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
                Assert.Equal(expected, OrderStatistics.Percentile(values, p));
            }

            var median = n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[(n / 2) - 1] + sorted[n / 2]);
            Assert.Equal(median, OrderStatistics.Median(values, empty: -1));
            Assert.Equal(before, values);
        }
    }

    [Fact]
    public void NoValues_GiveTheDocumentedEmptyAnswers()
    {
        Assert.True(double.IsNaN(OrderStatistics.Percentile([], 0.5)));
        Assert.Equal(7, OrderStatistics.Median([], empty: 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => OrderStatistics.Select([1.0], 1));
    }

    private static double[] Make(string shape, int n, Random random) => shape switch
    {
        "random" => [.. Enumerable.Range(0, n).Select(_ => (random.NextDouble() * 2000) - 500)],
        "ties" => [.. Enumerable.Range(0, n).Select(_ => (double)random.Next(0, 7))],
        "sorted" => [.. Enumerable.Range(0, n).Select(i => (double)i)],
        "reversed" => [.. Enumerable.Range(0, n).Select(i => (double)(n - i))],
        "equal" => [.. Enumerable.Repeat(3.25, n)],
        "organ-pipe" => [.. Enumerable.Range(0, n).Select(i => (double)Math.Min(i, n - i))],
        "sawtooth" => [.. Enumerable.Range(0, n).Select(i => (double)(i % 17))],
        "nan" => [.. Enumerable.Range(0, n).Select(i => i % 5 == 0 ? double.NaN : random.NextDouble())],
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };
}
