using HomaBone.Analysis;
using HomaBone.Contracts.V1;

namespace HomaBone.Grains.Tests;

/// <summary>
/// The compact form of the rows a cohort holds: every double comes back bit for bit (short decimals, full
/// doubles, signed zeros, infinities, subnormals, NaN as missing), and the synthetic cohort's rows shrink.
/// </summary>
public sealed class PackedValuesTests
{
    [Fact]
    public void EveryKindOfDouble_RoundTripsBitForBit()
    {
        double[] special =
        [
            0.0, -0.0, 1.0, -1.0, 57, 155.3, 5.62, 0.83, -12.375, 0.1, 0.2, 0.3, 1e-8, 123456.78901234, 9.87654321,
            1e15, -1e15, 999999999999999.9, 1e300, -1e-300, double.Epsilon, -double.Epsilon, double.MaxValue,
            double.MinValue, double.PositiveInfinity, double.NegativeInfinity, Math.PI, Math.E, 1.0 / 3, 22.5, 1e-7,
            0.123456789, 4503599627370496.0, 9007199254740993.0,
        ];
        AssertRoundTrip(special);

        var rng = new Random(20261126);
        for (var trial = 0; trial < 2_000; trial++)
        {
            var values = new double[rng.Next(0, 80)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = rng.Next(6) switch
                {
                    0 => double.NaN,
                    1 => Math.Round((rng.NextDouble() - 0.5) * 1e4, rng.Next(0, 9)),
                    2 => BitConverter.Int64BitsToDouble(rng.NextInt64()),
                    3 => (rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-20, 20)),
                    4 => rng.Next(-1000, 1000),
                    _ => Math.Round(rng.NextDouble() * 300, 1),
                };
            }

            AssertRoundTrip(values);
        }
    }

    [Fact]
    public void SyntheticCohortRows_PackToLessThanHalf()
    {
        var settings = CohortDefaults.Apply(new CohortSettings());
        var rows = LiveStudyTests.Rows(settings, 500);
        long raw = 0;
        long packed = 0;
        foreach (var row in rows)
        {
            AssertRoundTrip(row.Values);
            var bytes = PackedValues.Pack(row.Values);
            raw += row.Values.Length * sizeof(double);
            packed += bytes.Length;
        }

        Assert.True(packed < raw / 2, $"packed {packed} bytes vs {raw} raw");
    }

    private static void AssertRoundTrip(double[] values)
    {
        var packed = PackedValues.Pack(values);
        Assert.Equal(values.Length, PackedValues.Count(packed));
        var back = PackedValues.Unpack(packed);
        Assert.Equal(values.Length, back.Length);
        for (var i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i]))
            {
                Assert.True(double.IsNaN(back[i]));
            }
            else
            {
                Assert.Equal(BitConverter.DoubleToInt64Bits(values[i]), BitConverter.DoubleToInt64Bits(back[i]));
            }
        }

        Assert.True(packed.Length <= 2 + ((values.Length + 1) / 2) + (8 * values.Length));
    }
}
