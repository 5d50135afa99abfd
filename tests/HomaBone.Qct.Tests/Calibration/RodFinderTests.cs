using HomaBone.Qct.Calibration;
using HomaBone.Qct.Series;

namespace HomaBone.Qct.Tests.Calibration;

/// <summary>The fast paths of <see cref="RodFinder"/> against plain loops that state the method, bit for bit.</summary>
public sealed class RodFinderTests
{
    [Fact]
    public void MeasureMeanHu_MatchesTheWholePlaneScan_Bitwise()
    {
        // Anisotropic pixels, non-integer HU with NaN voxels; rods inside, across the edges and outside the plane.
        var g = new VolumeGeometry(53, 41, 5, new Vec3(-20, -15, 3), new Vec3(1, 0, 0), new Vec3(0, 1, 0), 0.75, 0.8, 1.25);
        var random = new Random(7);
        var hu = new float[g.Count];
        for (var p = 0; p < hu.Length; p++)
        {
            hu[p] = random.Next(20) == 0 ? float.NaN : (float)((random.NextDouble() * 2000) - 1000);
        }

        var volume = new CtVolume(g, hu);
        var checkedRods = 0;
        for (var t = 0; t < 400; t++)
        {
            var center = new Vec3(-30 + (random.NextDouble() * 60), -25 + (random.NextDouble() * 50), random.NextDouble() * 10);
            var rod = new RodLocation(center, random.NextDouble() * 12);
            var erosion = random.NextDouble() * 3;
            var expected = Capture(() => WholePlane(volume, rod, erosion));
            var actual = Capture(() => RodFinder.MeasureMeanHu(volume, rod, erosion));
            Assert.Equal(expected.Error, actual.Error);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Value.MeanHu), BitConverter.DoubleToInt64Bits(actual.Value.MeanHu));
            Assert.Equal(expected.Value.VoxelCount, actual.Value.VoxelCount);
            checkedRods += expected.Error is null ? 1 : 0;
        }

        Assert.InRange(checkedRods, 100, 400);
    }

    [Fact]
    public void MeasureMeanHu_NonFiniteCenter_BehavesAsTheWholePlaneScan()
    {
        var g = new VolumeGeometry(9, 7, 3, new Vec3(0, 0, 0), new Vec3(1, 0, 0), new Vec3(0, 1, 0), 1, 1, 1);
        var hu = Enumerable.Range(0, g.Count).Select(p => (float)(p % 17)).ToArray();
        var volume = new CtVolume(g, hu);
        foreach (var rod in new[] { new RodLocation(new Vec3(double.NaN, 3, 0), 5), new RodLocation(new Vec3(double.PositiveInfinity, 3, 0), 5), new RodLocation(new Vec3(4, 3, 0), double.PositiveInfinity) })
        {
            var expected = Capture(() => WholePlane(volume, rod, 2));
            var actual = Capture(() => RodFinder.MeasureMeanHu(volume, rod, 2));
            Assert.Equal(expected.Error, actual.Error);
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected.Value.MeanHu), BitConverter.DoubleToInt64Bits(actual.Value.MeanHu));
            Assert.Equal(expected.Value.VoxelCount, actual.Value.VoxelCount);
        }
    }

    /// <summary>The method as first written: every pixel of the plane tested against the eroded radius.</summary>
    private static (double MeanHu, int VoxelCount) WholePlane(CtVolume hu, RodLocation rod, double erosionMm)
    {
        var g = hu.Geometry;
        var inner = rod.RadiusMm - Math.Max(erosionMm, 2);
        var d = rod.Center - g.Origin;
        var ci = d.Dot(g.RowDirection) / g.SpacingX;
        var cj = d.Dot(g.ColumnDirection) / g.SpacingY;
        double sum = 0;
        var n = 0;
        for (var j = 0; j < g.SizeY; j++)
        {
            for (var i = 0; i < g.SizeX; i++)
            {
                if (Sq((i - ci) * g.SpacingX) + Sq((j - cj) * g.SpacingY) > inner * inner)
                {
                    continue;
                }

                for (var k = 0; k < g.SizeZ; k++)
                {
                    var v = hu.Values[g.Index(i, j, k)];
                    if (!float.IsNaN(v))
                    {
                        sum += v;
                        n++;
                    }
                }
            }
        }

        if (inner <= 0 || n == 0)
        {
            throw new QctInputException("rod-too-small") { Code = "rod-too-small" };
        }

        return (sum / n, n);
    }

    private static ((double MeanHu, int VoxelCount) Value, string? Error) Capture(Func<(double MeanHu, int VoxelCount)> measure)
    {
        try
        {
            return (measure(), null);
        }
        catch (QctInputException e)
        {
            return ((double.NaN, -1), e.Code);
        }
    }

    private static double Sq(double x) => x * x;
}
