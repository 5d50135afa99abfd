using System.Globalization;
using Xunit.Abstractions;

namespace HomaBone.Statistics.Tests;

public class TreeBalanceTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1_000)]
    [InlineData(100_000)]
    public void AverageDepth_SequentialIds_IsLogarithmic(int n)
    {
        var rng = new Random(1);
        var tree = new OrderStatisticTree(0);
        for (var i = 0; i < n; i++)
        {
            tree.Insert(i, rng.NextDouble(), []);
        }

        var depth = tree.AverageDepth();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"n={n}: mean depth {depth:F1} (2 ln n = {2 * Math.Log(n):F1})"));
        Assert.True(depth < 3 * Math.Log(n), "treap priorities must balance the tree");
    }
}
