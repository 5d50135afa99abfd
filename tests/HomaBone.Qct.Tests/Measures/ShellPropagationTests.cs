using HomaBone.Qct.Measures;
using HomaBone.Qct.Series;

namespace HomaBone.Qct.Tests.Measures;

/// <summary>
/// The shell propagation (<see cref="RegionAnalyzer.Propagate(VolumeGeometry, byte[], float[], double)"/>) against a
/// brute-force reference that has no processing order: distances relaxed over every edge until nothing changes, then
/// owners (the smallest owner among the neighbours on a shortest edge) iterated until nothing changes.
/// </summary>
public sealed class ShellPropagationTests
{
    private const int OtherBone = 255;

    [Theory]
    [InlineData(1, 0.8, 0.75, 1.25, 3.5)]
    [InlineData(2, 0.8, 0.75, 1.25, 3.5)]
    [InlineData(3, 0.7, 0.7, 3.0, 6.0)]
    [InlineData(4, 1.0, 1.0, 1.0, 4.0)]
    [InlineData(5, 0.5, 0.5, 0.5, 2.5)]
    [InlineData(6, 1.0, 2.0, 1.5, 5.0)]
    public void Propagate_RandomLabels_EqualsOrderFreeFixpoint(int seed, double sx, double sy, double sz, double maxMm)
    {
        var g = new VolumeGeometry(12, 11, 9, new Vec3(-3, 2, 10), new Vec3(1, 0, 0), new Vec3(0, 1, 0), sx, sy, sz);
        var (labels, rho) = RandomVolume(g, new Random(seed));

        var (distance, owner) = RegionAnalyzer.Propagate(g, labels, rho, maxMm);
        var (expectedDistance, expectedOwner, ties) = Reference(g, labels, rho, maxMm);

        for (var i = 0; i < g.Count; i++)
        {
            Assert.True(
                BitConverter.SingleToInt32Bits(expectedDistance[i]) == BitConverter.SingleToInt32Bits(distance[i]),
                $"voxel {i}: distance {distance[i]:R}, expected {expectedDistance[i]:R}");
            Assert.True(expectedOwner[i] == owner[i], $"voxel {i} at {distance[i]:R} mm: owner {owner[i]}, expected {expectedOwner[i]}");
        }

        // The volumes are built so that the owner rule is exercised: some voxels have shortest edges from two owners.
        Assert.True(ties > 0, "no voxel with equidistant owners");
        Assert.Contains(owner, o => o is >= 1 and <= 3);
        Assert.Contains(owner, o => o == OtherBone);
        Assert.Contains(distance, d => d > 0 && float.IsFinite(d));
    }

    /// <summary>
    /// Blobs of labels 1–5 in background, a few single labelled voxels, and NaN padding voxels (some in the
    /// background, some under labels).
    /// </summary>
    private static (byte[] Labels, float[] Rho) RandomVolume(VolumeGeometry g, Random random)
    {
        var labels = new byte[g.Count];
        var rho = new float[g.Count];
        for (var blob = 0; blob < 6; blob++)
        {
            var (cx, cy, cz) = (random.Next(g.SizeX), random.Next(g.SizeY), random.Next(g.SizeZ));
            var r = 0.5 + (random.NextDouble() * 1.6);
            var label = (byte)(1 + (blob % 5));
            for (var z = 0; z < g.SizeZ; z++)
            {
                for (var y = 0; y < g.SizeY; y++)
                {
                    for (var x = 0; x < g.SizeX; x++)
                    {
                        if (((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) + ((z - cz) * (z - cz)) <= r * r)
                        {
                            labels[g.Index(x, y, z)] = label;
                        }
                    }
                }
            }
        }

        for (var k = 0; k < 8; k++)
        {
            labels[random.Next(g.Count)] = (byte)random.Next(1, 6);
        }

        for (var i = 0; i < g.Count; i++)
        {
            rho[i] = random.NextSingle() * 100;
        }

        for (var k = 0; k < 12; k++)
        {
            rho[random.Next(g.Count)] = float.NaN;
        }

        return (labels, rho);
    }

    /// <summary>The distances and owners as order-free fixpoints, and the number of voxels with tied owners.</summary>
    private static (float[] Distance, byte[] Owner, int Ties) Reference(VolumeGeometry g, byte[] labels, float[] rho, double maxMm)
    {
        var edges = new List<(int Dx, int Dy, int Dz, float Step)>();
        for (var dz = -1; dz <= 1; dz++)
        {
            for (var dy = -1; dy <= 1; dy++)
            {
                for (var dx = -1; dx <= 1; dx++)
                {
                    if (dx != 0 || dy != 0 || dz != 0)
                    {
                        edges.Add((dx, dy, dz, (float)Math.Sqrt(Sq(dx * g.SpacingX) + Sq(dy * g.SpacingY) + Sq(dz * g.SpacingZ))));
                    }
                }
            }
        }

        IEnumerable<(int I, float Step)> Neighbours(int x, int y, int z)
        {
            foreach (var (dx, dy, dz, step) in edges)
            {
                var (nx, ny, nz) = (x + dx, y + dy, z + dz);
                if (nx >= 0 && ny >= 0 && nz >= 0 && nx < g.SizeX && ny < g.SizeY && nz < g.SizeZ)
                {
                    yield return (g.Index(nx, ny, nz), step);
                }
            }
        }

        var n = g.Count;
        var distance = new float[n];
        Array.Fill(distance, float.PositiveInfinity);
        var open = new bool[n];
        var source = new bool[n];
        var own = new int[n];
        for (var z = 0; z < g.SizeZ; z++)
        {
            for (var y = 0; y < g.SizeY; y++)
            {
                for (var x = 0; x < g.SizeX; x++)
                {
                    var i = g.Index(x, y, z);
                    open[i] = labels[i] == 0 && !float.IsNaN(rho[i]);
                    if (labels[i] != 0 && Neighbours(x, y, z).Any(nb => labels[nb.I] == 0))
                    {
                        source[i] = true;
                        distance[i] = 0;
                        own[i] = labels[i] <= 3 ? labels[i] : OtherBone;
                    }
                }
            }
        }

        // Bellman–Ford: relax every edge into background until no distance changes.
        for (var changed = true; changed;)
        {
            changed = false;
            for (var z = 0; z < g.SizeZ; z++)
            {
                for (var y = 0; y < g.SizeY; y++)
                {
                    for (var x = 0; x < g.SizeX; x++)
                    {
                        var j = g.Index(x, y, z);
                        if (!open[j])
                        {
                            continue;
                        }

                        foreach (var (i, step) in Neighbours(x, y, z))
                        {
                            var nd = distance[i] + step;
                            if ((source[i] || open[i]) && nd <= maxMm && nd < distance[j])
                            {
                                distance[j] = nd;
                                changed = true;
                            }
                        }
                    }
                }
            }
        }

        // Owners: the smallest owner among the tight neighbours (those with distance[j] == distance[i] + step),
        // iterated from "none" until no owner changes.
        for (var i = 0; i < n; i++)
        {
            if (open[i] && float.IsFinite(distance[i]))
            {
                own[i] = int.MaxValue;
            }
        }

        var ties = 0;
        for (var changed = true; changed;)
        {
            changed = false;
            ties = 0;
            for (var z = 0; z < g.SizeZ; z++)
            {
                for (var y = 0; y < g.SizeY; y++)
                {
                    for (var x = 0; x < g.SizeX; x++)
                    {
                        var j = g.Index(x, y, z);
                        if (!open[j] || !float.IsFinite(distance[j]))
                        {
                            continue;
                        }

                        var offered = new HashSet<int>();
                        foreach (var (i, step) in Neighbours(x, y, z))
                        {
                            if ((source[i] || open[i]) && distance[i] + step == distance[j])
                            {
                                offered.Add(own[i]);
                            }
                        }

                        Assert.NotEmpty(offered);
                        ties += offered.Count(o => o != int.MaxValue) > 1 ? 1 : 0;
                        var best = offered.Min();
                        if (best != own[j])
                        {
                            own[j] = best;
                            changed = true;
                        }
                    }
                }
            }
        }

        var owner = new byte[n];
        for (var i = 0; i < n; i++)
        {
            owner[i] = open[i] && float.IsFinite(distance[i]) ? (byte)own[i] : (byte)0;
        }

        return (distance, owner, ties);
    }

    private static double Sq(double x) => x * x;
}
