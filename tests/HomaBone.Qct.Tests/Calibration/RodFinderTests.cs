using HomaBone.Qct.Calibration;
using HomaBone.Qct.Series;

namespace HomaBone.Qct.Tests.Calibration;

/// <summary>The fast paths of <see cref="RodFinder"/> against plain loops that state the method, bit for bit.</summary>
public sealed class RodFinderTests
{
    public static TheoryData<string> Volumes => ["integers", "integers-nan", "fractions-in-one-block", "large-in-one-block", "edges", "limit-300-slices", "tiny"];

    [Theory]
    [MemberData(nameof(Volumes))]
    public void MeanAndStd_MatchesSliceBySliceDoubleSums_Bitwise(string name)
    {
        var volume = Volume(name);
        var (mean, std) = RodFinder.MeanAndStd(volume);
        var (expectedMean, expectedStd) = SliceBySlice(volume);
        for (var p = 0; p < mean.Length; p++)
        {
            Assert.True(BitConverter.DoubleToInt64Bits(expectedMean[p]) == BitConverter.DoubleToInt64Bits(mean[p]), $"{name}: M[{p}] = {mean[p]:R}, expected {expectedMean[p]:R}");
            Assert.True(BitConverter.DoubleToInt64Bits(expectedStd[p]) == BitConverter.DoubleToInt64Bits(std[p]), $"{name}: S[{p}] = {std[p]:R}, expected {expectedStd[p]:R}");
        }
    }

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

    /// <summary>
    /// Test volumes: several 4096-pixel blocks with a ragged last one and a plane not a multiple of the vector width,
    /// slice counts not multiples of four; integer HU with and without NaN padding (whole pixels and single voxels),
    /// fractional or too large values confined to one block, and edge values.
    /// </summary>
    private static CtVolume Volume(string name)
    {
        var random = new Random(name.Length * 7919);
        var (sizeX, sizeY, sizeZ) = name switch
        {
            "limit-300-slices" => (80, 60, 300),
            "tiny" => (3, 2, 5),
            _ => (131, 67, 7),
        };
        var g = new VolumeGeometry(sizeX, sizeY, sizeZ, new Vec3(0, 0, 0), new Vec3(1, 0, 0), new Vec3(0, 1, 0), 0.7, 0.7, 1);
        var plane = sizeX * sizeY;
        var hu = new float[g.Count];
        for (var p = 0; p < hu.Length; p++)
        {
            var pixel = p % plane;
            hu[p] = name switch
            {
                "integers" => random.Next(-1024, 3072),
                "integers-nan" => pixel % 97 < 9 || random.Next(50) == 0 ? float.NaN : random.Next(-1024, 3072),
                "fractions-in-one-block" => pixel is >= 4096 and < 8192 && random.Next(3) == 0 ? random.Next(-1024, 3072) + 0.5f : random.Next(-1024, 3072),
                "large-in-one-block" => pixel is >= 4096 and < 8192 && random.Next(3) == 0 ? random.Next(-40000, 40000) : random.Next(-1024, 3072),
                "edges" => (pixel % 13) switch
                {
                    0 => -2147483648f,
                    1 => 2147483648f,
                    2 => -0f,
                    3 => float.PositiveInfinity,
                    4 => 1e30f,
                    5 => pixel % 2 == 0 ? float.NaN : 5,
                    6 => p / plane == 3 ? 100 : float.NaN,
                    _ => random.Next(-6500, 6500),
                },
                // √(2³²/300) = 3783.8: up to ±3783 the integer sums stay exact (Σv² above 2³¹ in the first block), 3784
                // in the second block is past the limit.
                "limit-300-slices" => pixel < 600 ? (random.Next(2) == 0 ? 3783 : -3783) : pixel is >= 4100 and < 4140 ? 3784 : random.Next(-3783, 3784),
                _ => random.Next(-5, 5),
            };
        }

        return new CtVolume(g, hu);
    }

    /// <summary>The method as stated: per pixel, Σv and Σv² in double slice by slice, NaN skipped.</summary>
    private static (double[] Mean, double[] Std) SliceBySlice(CtVolume hu)
    {
        var plane = hu.Geometry.SizeX * hu.Geometry.SizeY;
        var mean = new double[plane];
        var std = new double[plane];
        for (var p = 0; p < plane; p++)
        {
            double sum = 0, sum2 = 0;
            var c = 0;
            for (var k = 0; k < hu.Geometry.SizeZ; k++)
            {
                var v = hu.Values[(k * plane) + p];
                if (!float.IsNaN(v))
                {
                    sum += v;
                    sum2 += v * (double)v;
                    c++;
                }
            }

            mean[p] = c > 0 ? sum / c : double.NaN;
            std[p] = c > 1 ? Math.Sqrt(Math.Max(0, (sum2 - (sum * sum / c)) / (c - 1))) : double.NaN;
        }

        return (mean, std);
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
