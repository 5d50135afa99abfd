using System.Numerics;
using System.Runtime.CompilerServices;
using HomaBone.Qct.Series;

namespace HomaBone.Qct.Calibration;

/// <summary>Where a calibration rod is: any point on its axis (rods run along the slice normal) and its radius.</summary>
/// <param name="Center">A point on the rod axis, patient mm.</param>
/// <param name="RadiusMm">Rod radius, mm.</param>
public sealed record RodLocation(Vec3 Center, double RadiusMm);

/// <summary>
/// Finds phantom rods in the pad automatically and measures their mean HU.
/// Method: the rods are the structures that stay constant along the slice normal. Over all slices, the per-pixel
/// mean M and standard deviation S are computed; pixels inside the object (M &gt; −500 HU) whose S is below three
/// times the median S are "z-uniform"; the background level is the median M of those; z-uniform pixels differing
/// from it by more than <see cref="MinimumContrastHu"/> form candidate components, kept when round and of rod size.
/// When more candidates than rods remain, the most collinear set is taken (rods sit in a row in the pad). Each rod's
/// radius is re-measured at half its contrast (independent of the threshold), and its mean HU is averaged over
/// every slice inside the radius eroded by at least 2 mm.
/// </summary>
public static class RodFinder
{
    /// <summary>Smallest rod contrast to the pad that is detected, HU.</summary>
    public const double MinimumContrastHu = 15;

    /// <summary>Finds <paramref name="count"/> rods, ordered along the row they form.</summary>
    /// <exception cref="QctInputException">Fewer rods than expected were found.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IReadOnlyList<RodLocation> Find(CtVolume hu, int count, double minRadiusMm = 2.5, double maxRadiusMm = 20)
    {
        ArgumentNullException.ThrowIfNull(hu);
        var g = hu.Geometry;
        var plane = g.SizeX * g.SizeY;
        var mean = new double[plane];
        var std = new double[plane];
        var counts = new int[plane];
        // Slice-major in blocks of pixels (contiguous reads), the blocks in parallel; each pixel still sums its slices
        // in slice order, so the result does not depend on the partition.
        const int Block = 4096;
        Parallel.For(0, (plane + Block - 1) / Block, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (b) =>
        {
            var from = b * Block;
            var to = Math.Min(plane, from + Block);
            var sum = mean.AsSpan(from, to - from);
            var sum2 = std.AsSpan(from, to - from);
            var n = counts.AsSpan(from, to - from);
            for (var k = 0; k < g.SizeZ; k++)
            {
                var slice = hu.Values.AsSpan((k * plane) + from, to - from);
                var p = 0;
                if (Vector.IsHardwareAccelerated)
                {
                    // Same sums as the scalar loop: NaN lanes add exactly 0 and count nothing.
                    var width = Vector<float>.Count;
                    var half = Vector<double>.Count;
                    for (; p <= slice.Length - width; p += width)
                    {
                        var v = new Vector<float>(slice.Slice(p, width));
                        var valid = Vector.Equals(v, v);
                        Vector.Widen(v, out var lo, out var hi);
                        Vector.Widen(valid, out var validLo, out var validHi);
                        lo = Vector.ConditionalSelect(validLo, lo, Vector<double>.Zero);
                        hi = Vector.ConditionalSelect(validHi, hi, Vector<double>.Zero);
                        (new Vector<double>(sum.Slice(p, half)) + lo).CopyTo(sum.Slice(p, half));
                        (new Vector<double>(sum.Slice(p + half, half)) + hi).CopyTo(sum.Slice(p + half, half));
                        (new Vector<double>(sum2.Slice(p, half)) + (lo * lo)).CopyTo(sum2.Slice(p, half));
                        (new Vector<double>(sum2.Slice(p + half, half)) + (hi * hi)).CopyTo(sum2.Slice(p + half, half));
                        (new Vector<int>(n.Slice(p, width)) - valid).CopyTo(n.Slice(p, width));
                    }
                }

                for (; p < slice.Length; p++)
                {
                    var v = slice[p];
                    if (!float.IsNaN(v))
                    {
                        sum[p] += v;
                        sum2[p] += v * (double)v;
                        n[p]++;
                    }
                }
            }

            for (var p = 0; p < sum.Length; p++)
            {
                double s = sum[p], s2 = sum2[p];
                var c = n[p];
                sum[p] = c > 0 ? s / c : double.NaN;
                sum2[p] = c > 1 ? Math.Sqrt(Math.Max(0, (s2 - (s * s / c)) / (c - 1))) : double.NaN;
            }
        });

        var objectStdList = new List<double>();
        for (var p = 0; p < plane; p++)
        {
            if (mean[p] > -500 && double.IsFinite(std[p]))
            {
                objectStdList.Add(std[p]);
            }
        }

        var objectStd = objectStdList.ToArray();
        if (objectStd.Length == 0)
        {
            throw new QctInputException("No object found in the CT volume while looking for the phantom rods.") { Code = "rods-not-found" };
        }

        var uniformLimit = 3 * Math.Max(Median(objectStd), 1.0);
        var uniform = new bool[plane];
        var background = new List<double>();
        for (var p = 0; p < plane; p++)
        {
            uniform[p] = mean[p] > -500 && std[p] < uniformLimit;
            if (uniform[p])
            {
                background.Add(mean[p]);
            }
        }

        var bg = Median([.. background]);
        var candidate = new bool[plane];
        for (var p = 0; p < plane; p++)
        {
            candidate[p] = uniform[p] && Math.Abs(mean[p] - bg) > MinimumContrastHu;
        }

        var pixelArea = g.SpacingX * g.SpacingY;
        var rods = new List<(double I, double J, double AreaMm2)>();
        var seen = new bool[plane];
        var stack = new Stack<int>();
        var members = new List<int>();
        for (var start = 0; start < plane; start++)
        {
            if (!candidate[start] || seen[start])
            {
                continue;
            }

            members.Clear();
            stack.Push(start);
            seen[start] = true;
            while (stack.Count > 0)
            {
                var p = stack.Pop();
                members.Add(p);
                int i = p % g.SizeX, j = p / g.SizeX;
                foreach (var (di, dj) in (ReadOnlySpan<(int, int)>)[(1, 0), (-1, 0), (0, 1), (0, -1)])
                {
                    int ni = i + di, nj = j + dj;
                    if (ni >= 0 && nj >= 0 && ni < g.SizeX && nj < g.SizeY)
                    {
                        var q = ni + (nj * g.SizeX);
                        if (candidate[q] && !seen[q] && Math.Sign(mean[q] - bg) == Math.Sign(mean[start] - bg))
                        {
                            seen[q] = true;
                            stack.Push(q);
                        }
                    }
                }
            }

            var area = members.Count * pixelArea;
            if (area < Math.PI * minRadiusMm * minRadiusMm || area > Math.PI * maxRadiusMm * maxRadiusMm)
            {
                continue;
            }

            double ci = members.Average(p => p % g.SizeX), cj = members.Average(p => p / g.SizeX);
            var rMax = members.Max(p => Math.Sqrt(Sq(((p % g.SizeX) - ci) * g.SpacingX) + Sq(((p / g.SizeX) - cj) * g.SpacingY)));
            rMax += 0.5 * Math.Max(g.SpacingX, g.SpacingY);
            if (area / (Math.PI * rMax * rMax) < 0.5)
            {
                continue;
            }

            rods.Add((ci, cj, area));
        }

        if (rods.Count < count)
        {
            throw new QctInputException($"Found {rods.Count} calibration rods in the pad, expected {count}. Give the rod positions (QctOptions.RodLocations) or check that the phantom is in the field of view.") { Code = "rods-not-found" };
        }

        var chosen = rods.Count == count ? rods : MostCollinear(rods.OrderByDescending(r => r.AreaMm2).Take(15).ToList(), count, g);
        var located = chosen.Select(r => HalfMaximum(mean, bg, r.I, r.J, Math.Sqrt(r.AreaMm2 / Math.PI), g)).ToList();
        return OrderAlongRow(located, g);
    }

    /// <summary>Mean HU inside a rod (radius eroded by <paramref name="erosionMm"/>) over every slice.</summary>
    /// <exception cref="QctInputException">The eroded rod holds no voxel.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static (double MeanHu, int VoxelCount) MeasureMeanHu(CtVolume hu, RodLocation rod, double erosionMm = 2)
    {
        ArgumentNullException.ThrowIfNull(hu);
        ArgumentNullException.ThrowIfNull(rod);
        var g = hu.Geometry;
        var inner = rod.RadiusMm - Math.Max(erosionMm, 2);
        var d = rod.Center - g.Origin;
        var ci = d.Dot(g.RowDirection) / g.SpacingX;
        var cj = d.Dot(g.ColumnDirection) / g.SpacingY;
        // Only the rod's bounding box (widened by a pixel against rounding) can pass the radius test below, so only it
        // is scanned: the same voxels summed in the same order (j, i, k) as over the whole plane.
        var (i0, i1) = Span(ci, inner / g.SpacingX, g.SizeX);
        var (j0, j1) = Span(cj, inner / g.SpacingY, g.SizeY);
        var values = hu.Values;
        double sum = 0;
        var n = 0;
        var plane = g.SizeX * g.SizeY;
        for (var j = j0; j <= j1; j++)
        {
            for (var i = i0; i <= i1; i++)
            {
                if (Sq((i - ci) * g.SpacingX) + Sq((j - cj) * g.SpacingY) > inner * inner)
                {
                    continue;
                }

                for (var k = 0; k < g.SizeZ; k++)
                {
                    var v = values[i + (j * g.SizeX) + (k * plane)];
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
            throw new QctInputException($"Rod at ({rod.Center.X:F1}, {rod.Center.Y:F1}) mm with radius {rod.RadiusMm:F1} mm has no voxel left after a {Math.Max(erosionMm, 2):F1} mm erosion.") { Code = "rod-too-small" };
        }

        return (sum / n, n);

        // Indices within `halfWidth` pixels of `center`, widened by a pixel (and by far more than any rounding), clamped to
        // [0, size − 1] (empty when outside); the whole range when not finite (the radius test then passes everywhere or
        // nowhere, as over the whole plane).
        static (int From, int To) Span(double center, double halfWidth, int size)
        {
            var pad = 1 + (1e-6 * (Math.Abs(center) + Math.Abs(halfWidth)));
            var lo = center - Math.Abs(halfWidth) - pad;
            var hi = center + Math.Abs(halfWidth) + pad;
            if (!double.IsFinite(lo) || !double.IsFinite(hi))
            {
                return (0, size - 1);
            }

            return ((int)Math.Clamp(Math.Floor(lo), 0, size), (int)Math.Clamp(Math.Ceiling(hi), -1, size - 1));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RodLocation HalfMaximum(double[] mean, double bg, double ci, double cj, double radiusMm, VolumeGeometry g)
    {
        double contrastSum = 0;
        var contrastN = 0;
        var search = (1.5 * radiusMm) + (2 * Math.Max(g.SpacingX, g.SpacingY));
        var window = new List<(int I, int J)>();
        for (var j = Math.Max(0, (int)(cj - (search / g.SpacingY))); j <= Math.Min(g.SizeY - 1, (int)(cj + (search / g.SpacingY)) + 1); j++)
        {
            for (var i = Math.Max(0, (int)(ci - (search / g.SpacingX))); i <= Math.Min(g.SizeX - 1, (int)(ci + (search / g.SpacingX)) + 1); i++)
            {
                var r = Math.Sqrt(Sq((i - ci) * g.SpacingX) + Sq((j - cj) * g.SpacingY));
                if (r <= search)
                {
                    window.Add((i, j));
                }

                if (r <= 0.5 * radiusMm)
                {
                    contrastSum += mean[i + (j * g.SizeX)] - bg;
                    contrastN++;
                }
            }
        }

        var contrast = contrastN > 0 ? contrastSum / contrastN : mean[(int)Math.Round(ci) + ((int)Math.Round(cj) * g.SizeX)] - bg;
        var inside = window.Where(p => (mean[p.I + (p.J * g.SizeX)] - bg) / contrast >= 0.5).ToList();
        if (inside.Count == 0)
        {
            return new RodLocation(g.Position(ci, cj, 0), radiusMm);
        }

        var hi = inside.Average(p => (double)p.I);
        var hj = inside.Average(p => (double)p.J);
        var radius = Math.Sqrt(inside.Count * g.SpacingX * g.SpacingY / Math.PI);
        return new RodLocation(g.Position(hi, hj, 0), radius);
    }

    private static List<(double I, double J, double AreaMm2)> MostCollinear(List<(double I, double J, double AreaMm2)> rods, int count, VolumeGeometry g)
    {
        List<(double I, double J, double AreaMm2)>? best = null;
        var bestScore = double.PositiveInfinity;
        foreach (var subset in Combinations(rods.Count, count))
        {
            var pts = subset.Select(s => rods[s]).ToList();
            var score = LineResidual(pts.Select(p => (p.I * g.SpacingX, p.J * g.SpacingY)).ToList());
            if (score < bestScore)
            {
                bestScore = score;
                best = pts;
            }
        }

        return best!;
    }

    private static double LineResidual(List<(double X, double Y)> pts)
    {
        double mx = pts.Average(p => p.X), my = pts.Average(p => p.Y);
        double sxx = pts.Sum(p => Sq(p.X - mx)), syy = pts.Sum(p => Sq(p.Y - my)), sxy = pts.Sum(p => (p.X - mx) * (p.Y - my));
        var trace = sxx + syy;
        var det = (sxx * syy) - (sxy * sxy);
        var smallest = (trace / 2) - Math.Sqrt(Math.Max(0, (trace * trace / 4) - det));
        return smallest / Math.Max(trace, 1e-9);
    }

    private static IEnumerable<int[]> Combinations(int n, int k)
    {
        var idx = Enumerable.Range(0, k).ToArray();
        while (true)
        {
            yield return (int[])idx.Clone();
            var i = k - 1;
            while (i >= 0 && idx[i] == n - k + i)
            {
                i--;
            }

            if (i < 0)
            {
                yield break;
            }

            idx[i]++;
            for (var j = i + 1; j < k; j++)
            {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }

    private static List<RodLocation> OrderAlongRow(List<RodLocation> rods, VolumeGeometry g)
    {
        var mx = rods.Average(r => r.Center.X);
        var my = rods.Average(r => r.Center.Y);
        var mz = rods.Average(r => r.Center.Z);
        var c = new Vec3(mx, my, mz);
        var best = g.RowDirection;
        var bestSpread = -1.0;
        for (var angle = 0; angle < 180; angle++)
        {
            var t = angle * Math.PI / 180;
            var dir = (g.RowDirection * Math.Cos(t)) + (g.ColumnDirection * Math.Sin(t));
            var spread = rods.Sum(r => Sq((r.Center - c).Dot(dir)));
            if (spread > bestSpread)
            {
                bestSpread = spread;
                best = dir;
            }
        }

        if (best.Dot(g.RowDirection) < 0)
        {
            best = -best;
        }

        return [.. rods.OrderBy(r => (r.Center - c).Dot(best))];
    }

    private static double Median(double[] values) => OrderStatistics.Median(values, empty: 0);

    private static double Sq(double x) => x * x;
}
