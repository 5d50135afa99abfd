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

    /// <summary>Pixels per parallel block of <see cref="MeanAndStd"/>.</summary>
    private const int Block = 4096;

    /// <summary>Finds <paramref name="count"/> rods, ordered along the row they form.</summary>
    /// <exception cref="QctInputException">Fewer rods than expected were found.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static IReadOnlyList<RodLocation> Find(CtVolume hu, int count, double minRadiusMm = 2.5, double maxRadiusMm = 20)
    {
        ArgumentNullException.ThrowIfNull(hu);
        var g = hu.Geometry;
        var plane = g.SizeX * g.SizeY;
        var (mean, std) = MeanAndStd(hu);

        // The S of the object pixels, then the M of the z-uniform ones, gathered in one buffer (a median does not
        // depend on the order of its values).
        var gathered = GC.AllocateUninitializedArray<double>(plane);
        var n = 0;
        for (var p = 0; p < plane; p++)
        {
            if (mean[p] > -500 && double.IsFinite(std[p]))
            {
                gathered[n++] = std[p];
            }
        }

        if (n == 0)
        {
            throw new QctInputException("No object found in the CT volume while looking for the phantom rods.") { Code = "rods-not-found" };
        }

        var uniformLimit = 3 * Math.Max(Median(gathered.AsSpan(0, n)), 1.0);
        n = 0;
        for (var p = 0; p < plane; p++)
        {
            if (mean[p] > -500 && std[p] < uniformLimit)
            {
                gathered[n++] = mean[p];
            }
        }

        var bg = Median(gathered.AsSpan(0, n));
        const byte Candidate = 1, Seen = 2;
        var state = new byte[plane];
        for (var p = 0; p < plane; p++)
        {
            if (mean[p] > -500 && std[p] < uniformLimit && Math.Abs(mean[p] - bg) > MinimumContrastHu)
            {
                state[p] = Candidate;
            }
        }

        // Components of candidates with the same sign of contrast (4-connected). Only their size, mean position and
        // farthest member are used, none of which depends on the visiting order.
        var pixelArea = g.SpacingX * g.SpacingY;
        var rods = new List<(double I, double J, double AreaMm2)>();
        var members = new List<int>();
        for (var start = 0; start < plane; start++)
        {
            if (state[start] != Candidate)
            {
                continue;
            }

            var sign = Math.Sign(mean[start] - bg);
            members.Clear();
            members.Add(start);
            state[start] = Seen;
            for (var next = 0; next < members.Count; next++)
            {
                var p = members[next];
                int i = p % g.SizeX, j = p / g.SizeX;
                if (i + 1 < g.SizeX)
                {
                    Visit(p + 1, state, mean, bg, sign, members);
                }

                if (i > 0)
                {
                    Visit(p - 1, state, mean, bg, sign, members);
                }

                if (j + 1 < g.SizeY)
                {
                    Visit(p + g.SizeX, state, mean, bg, sign, members);
                }

                if (j > 0)
                {
                    Visit(p - g.SizeX, state, mean, bg, sign, members);
                }
            }

            var area = members.Count * pixelArea;
            if (area < Math.PI * minRadiusMm * minRadiusMm || area > Math.PI * maxRadiusMm * maxRadiusMm)
            {
                continue;
            }

            // As Enumerable.Average (an exact integer sum over the count) and Enumerable.Max (NaN below everything).
            long sumI = 0, sumJ = 0;
            foreach (var p in members)
            {
                sumI += p % g.SizeX;
                sumJ += p / g.SizeX;
            }

            double ci = (double)sumI / members.Count, cj = (double)sumJ / members.Count;
            var rMax = double.NaN;
            foreach (var p in members)
            {
                var r = Math.Sqrt(Sq(((p % g.SizeX) - ci) * g.SpacingX) + Sq(((p / g.SizeX) - cj) * g.SpacingY));
                if (r > rMax || double.IsNaN(rMax))
                {
                    rMax = r;
                }
            }

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
        var located = new List<RodLocation>(chosen.Count);
        foreach (var r in chosen)
        {
            located.Add(HalfMaximum(mean, bg, r.I, r.J, Math.Sqrt(r.AreaMm2 / Math.PI), g));
        }

        return OrderAlongRow(located, g);

        static void Visit(int q, byte[] state, double[] mean, double bg, int sign, List<int> members)
        {
            if (state[q] == Candidate && Math.Sign(mean[q] - bg) == sign)
            {
                state[q] = Seen;
                members.Add(q);
            }
        }
    }

    /// <summary>
    /// Per-pixel mean and sample standard deviation over the slices, NaN voxels skipped (NaN for fewer than one or two
    /// values): per pixel, the sums Σv and Σv² in double, slice by slice, and M = Σv/n, S = √max(0, (Σv² − (Σv)²/n)/(n − 1)).
    /// </summary>
    /// <remarks>
    /// Blocks of pixels in parallel, each pixel's result independent of the partition. Within a block, when every value
    /// is an integer with slices·v² &lt; 2³² (CT values usually are: stored integers with a unit rescale slope, |v| up to
    /// 6500 for 101 slices), the sums are taken in 32-bit integers, where they are exact, four slices at a time; the
    /// double sums of the same values are exact too (integers below 2³²), so both give the same bits. Other blocks,
    /// and the pixels after the last whole vector, are summed in double slice by slice.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static (double[] Mean, double[] Std) MeanAndStd(CtVolume hu)
    {
        ArgumentNullException.ThrowIfNull(hu);
        var g = hu.Geometry;
        var plane = g.SizeX * g.SizeY;
        var slices = g.SizeZ;
        var values = hu.Values;
        var mean = GC.AllocateUninitializedArray<double>(plane);
        var std = GC.AllocateUninitializedArray<double>(plane);
        Parallel.For(0, (plane + Block - 1) / Block, b =>
        {
            var from = b * Block;
            var length = Math.Min(plane, from + Block) - from;
            var vectorLength = Vector.IsHardwareAccelerated ? length - (length % Vector<float>.Count) : 0;
            if (vectorLength > 0 && !IntegerSums(values, plane, slices, from, vectorLength, mean, std))
            {
                VectorSums(values, plane, slices, from, vectorLength, mean, std);
            }

            for (var p = from + vectorLength; p < from + length; p++)
            {
                double sum = 0, sum2 = 0;
                var c = 0;
                for (var k = 0; k < slices; k++)
                {
                    var v = values[(k * plane) + p];
                    if (!float.IsNaN(v))
                    {
                        sum += v;
                        sum2 += v * (double)v;
                        c++;
                    }
                }

                (mean[p], std[p]) = Finish(sum, sum2, c);
            }
        });
        return (mean, std);
    }

    /// <summary>
    /// Σv, Σv² and the count of a block's pixels in integers; false (nothing written) when a value other than NaN is not
    /// an integer, or too large for the sums to stay exact.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IntegerSums(float[] values, int plane, int slices, int from, int length, double[] mean, double[] std)
    {
        // |v| ≤ limit keeps Σv² ≤ slices·limit² < 2³² (read as unsigned) and |Σv| ≤ slices·limit < 2³¹.
        var limit = (ulong)Math.Sqrt(uint.MaxValue / (double)slices);
        while (limit > 0 && (((ulong)slices * limit * limit) > uint.MaxValue || ((ulong)slices * limit) > int.MaxValue))
        {
            limit--;
        }

        Span<int> sums = stackalloc int[length];
        Span<int> squares = stackalloc int[length];
        Span<int> counts = stackalloc int[length];
        var width = Vector<float>.Count;
        var exact = Vector<int>.AllBitsSet;
        var largest = Vector<uint>.Zero;
        var k = 0;
        for (; k < slices; k += 4)
        {
            if (k + 4 <= slices)
            {
                var s0 = values.AsSpan((k * plane) + from, length);
                var s1 = values.AsSpan(((k + 1) * plane) + from, length);
                var s2 = values.AsSpan(((k + 2) * plane) + from, length);
                var s3 = values.AsSpan(((k + 3) * plane) + from, length);
                for (var p = 0; p < length; p += width)
                {
                    var v0 = ToInteger(new Vector<float>(s0.Slice(p, width)), ref exact, ref largest, out var valid0);
                    var v1 = ToInteger(new Vector<float>(s1.Slice(p, width)), ref exact, ref largest, out var valid1);
                    var v2 = ToInteger(new Vector<float>(s2.Slice(p, width)), ref exact, ref largest, out var valid2);
                    var v3 = ToInteger(new Vector<float>(s3.Slice(p, width)), ref exact, ref largest, out var valid3);
                    (new Vector<int>(sums.Slice(p, width)) + (v0 + v1) + (v2 + v3)).CopyTo(sums.Slice(p, width));
                    (new Vector<int>(squares.Slice(p, width)) + (v0 * v0) + (v1 * v1) + (v2 * v2) + (v3 * v3)).CopyTo(squares.Slice(p, width));
                    (new Vector<int>(counts.Slice(p, width)) - (valid0 + valid1) - (valid2 + valid3)).CopyTo(counts.Slice(p, width));
                }
            }
            else
            {
                for (var kk = k; kk < slices; kk++)
                {
                    var slice = values.AsSpan((kk * plane) + from, length);
                    for (var p = 0; p < length; p += width)
                    {
                        var v = ToInteger(new Vector<float>(slice.Slice(p, width)), ref exact, ref largest, out var valid);
                        (new Vector<int>(sums.Slice(p, width)) + v).CopyTo(sums.Slice(p, width));
                        (new Vector<int>(squares.Slice(p, width)) + (v * v)).CopyTo(squares.Slice(p, width));
                        (new Vector<int>(counts.Slice(p, width)) - valid).CopyTo(counts.Slice(p, width));
                    }
                }
            }

            if (!Vector.EqualsAll(exact, Vector<int>.AllBitsSet) || Vector.GreaterThanAny(largest, new Vector<uint>((uint)limit)))
            {
                return false;
            }
        }

        for (var p = 0; p < length; p++)
        {
            (mean[from + p], std[from + p]) = Finish(sums[p], (uint)squares[p], counts[p]);
        }

        return true;
    }

    /// <summary>
    /// The lanes of <paramref name="v"/> as integers, NaN lanes as 0 (and clear in <paramref name="valid"/>); clears
    /// lanes of <paramref name="exact"/> whose value is not an integer and raises <paramref name="largest"/> to the
    /// magnitudes (a value beyond the int range converts to int.MinValue, 2³¹ as unsigned, and is not exact anyway).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<int> ToInteger(Vector<float> v, ref Vector<int> exact, ref Vector<uint> largest, out Vector<int> valid)
    {
        valid = Vector.Equals(v, v);
        v = Vector.AsVectorSingle(Vector.AsVectorInt32(v) & valid);
        var i = Vector.ConvertToInt32Native(v);
        exact &= Vector.Equals(Vector.ConvertToSingle(i), v);
        largest = Vector.Max(largest, Vector.AsVectorUInt32(Vector.Abs(i)));
        return i;
    }

    /// <summary>Σv and Σv² in double, slice by slice, NaN lanes adding exactly 0 and counting nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VectorSums(float[] values, int plane, int slices, int from, int length, double[] mean, double[] std)
    {
        var sum = mean.AsSpan(from, length);
        var sum2 = std.AsSpan(from, length);
        sum.Clear();
        sum2.Clear();
        Span<int> n = stackalloc int[length];
        var width = Vector<float>.Count;
        var half = Vector<double>.Count;
        for (var k = 0; k < slices; k++)
        {
            var slice = values.AsSpan((k * plane) + from, length);
            for (var p = 0; p < length; p += width)
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

        for (var p = 0; p < length; p++)
        {
            (sum[p], sum2[p]) = Finish(sum[p], sum2[p], n[p]);
        }
    }

    private static (double Mean, double Std) Finish(double sum, double sum2, int count) =>
        (count > 0 ? sum / count : double.NaN, count > 1 ? Math.Sqrt(Math.Max(0, (sum2 - (sum * sum / count)) / (count - 1))) : double.NaN);

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

    private static double Median(ReadOnlySpan<double> values) => OrderStatistics.Median(values, empty: 0);

    private static double Sq(double x) => x * x;
}
