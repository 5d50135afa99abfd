using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HomaBone.Qct.Series;

namespace HomaBone.Qct.Measures;

/// <summary>
/// Regional measures on a calibrated density volume and an aligned label volume
/// (0 background, 1 neck, 2 trochanter, 3 intertrochanter, ≥ 4 other bone, which bounds the dilation).
/// </summary>
internal sealed class RegionAnalyzer
{
    public const double MineralDensityGPerCm3 = 1.05;

    /// <summary>
    /// Cortical tissue density for unmixing: this percentile of all region voxels. Thin cortex never reaches its
    /// tissue density in a blurred image, so one value for the whole proximal femur, set where cortex is thick
    /// enough to be resolved, is used for every region.
    /// </summary>
    public const double CorticalPercentile = 0.95;

    private const byte OtherBone = 255;

    private static readonly (int Label, string Name)[] Regions = [(1, "neck"), (2, "trochanter"), (3, "intertrochanter")];

    /// <summary>Depth classes per label: each label its own class (region depth).</summary>
    private static readonly byte[] RegionClasses = [.. Enumerable.Range(0, 256).Select(l => (byte)l)];

    /// <summary>Depth classes per label: the three regions as one class, everything else 0 (total depth).</summary>
    private static readonly byte[] TotalClasses = [.. Enumerable.Range(0, 256).Select(l => l is >= 1 and <= 3 ? (byte)1 : (byte)0)];

    private readonly VolumeGeometry _g;
    private readonly float[] _rho;
    private readonly byte[] _labels;
    private readonly double _threshold;
    private readonly Neighbour[] _neighbours;
    private readonly byte[] _border;
    private readonly float[] _shellDistance;
    private readonly byte[] _shellOwner;
    private readonly float[] _regionDepth;
    private readonly float[] _totalDepth;

    /// <param name="geometry">The grid.</param>
    /// <param name="density">Densities (mg/cm³), or HU when <paramref name="calibration"/> is given.</param>
    /// <param name="labels">Labels on the same grid.</param>
    /// <param name="corticalThreshold">Cortical threshold, mg/cm³.</param>
    /// <param name="calibration">When given, <paramref name="density"/> holds HU and is converted (inside the crop only).</param>
    public RegionAnalyzer(VolumeGeometry geometry, float[] density, byte[] labels, double corticalThreshold, Calibration.CalibrationFit? calibration = null)
        : this(geometry, density, labels, corticalThreshold)
    {
        Calibrate(calibration);
    }

    /// <summary>
    /// Crops and computes the shells and depth maps, which depend on the labels and on where the volume is padding,
    /// not on its values: the crop keeps the values as given until <see cref="Calibrate"/>, so this can run while the
    /// calibration is being fitted.
    /// </summary>
    private RegionAnalyzer(VolumeGeometry geometry, float[] values, byte[] labels, double corticalThreshold)
    {
        _threshold = corticalThreshold;
        var maxSpacing = Math.Max(geometry.SpacingX, Math.Max(geometry.SpacingY, geometry.SpacingZ));
        DilationMm = Math.Max(3.0, (1.5 * maxSpacing) + 1.5);
        OuterShellMm = 3.0;
        TrabecularDepthMm = Math.Max(4.0, 2.0 * maxSpacing);

        // Work on the bounding box of the labelled bone plus the shells: a femur is a small part of a CT volume.
        var t = System.Diagnostics.Stopwatch.GetTimestamp();
        (_g, _rho, _labels) = Crop(geometry, values, labels, DilationMm + OuterShellMm);
        QctTiming.Mark("crop", ref t);
        _neighbours = NeighbourTable(_g);
        _border = BorderOf(_g);

        // The shells and the two depth maps are independent: computed concurrently (each is deterministic).
        float[]? regionDepth = null, totalDepth = null;
        float[] shellDistance = [];
        byte[] shellOwner = [];
        Parallel.Invoke(
            () =>
            {
                var tp = System.Diagnostics.Stopwatch.GetTimestamp();
                (shellDistance, shellOwner) = Propagate(_g, _labels, _rho, _neighbours, _border, DilationMm + OuterShellMm);
                QctTiming.Mark("shells", ref tp);
            },
            () =>
            {
                var tr = System.Diagnostics.Stopwatch.GetTimestamp();
                regionDepth = Depth(RegionClasses, TrabecularDepthMm);
                QctTiming.Mark("region-depth", ref tr);
            },
            () =>
            {
                var tt = System.Diagnostics.Stopwatch.GetTimestamp();
                totalDepth = Depth(TotalClasses, TrabecularDepthMm);
                QctTiming.Mark("total-depth", ref tt);
            });
        (_shellDistance, _shellOwner, _regionDepth, _totalDepth) = (shellDistance, shellOwner, regionDepth!, totalDepth!);
        QctTiming.Mark("shells-depth", ref t);
    }

    /// <summary>Dilation of the envelope into background over which BMC is conserved, mm.</summary>
    public double DilationMm { get; }

    /// <summary>Width of the shell beyond the dilation where the background density is measured, mm.</summary>
    public double OuterShellMm { get; }

    /// <summary>Depth below the region surface beyond which voxels count as trabecular core, mm.</summary>
    public double TrabecularDepthMm { get; }

    /// <summary>Median density in the outer shell, mg/cm³.</summary>
    public double BackgroundDensity { get; private set; } = double.NaN;

    /// <summary>
    /// Crops and computes the shells and depth maps of an HU volume; <see cref="Calibrate"/> must follow before any
    /// measure. The results equal those of the constructor given the same calibration.
    /// </summary>
    public static RegionAnalyzer ForHu(VolumeGeometry geometry, float[] hu, byte[] labels, double corticalThreshold) =>
        new(geometry, hu, labels, corticalThreshold);

    /// <summary>
    /// Converts the crop to density with <paramref name="calibration"/> (null: the values already are densities)
    /// and measures the background density in the outer shell. Called once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Calibrate(Calibration.CalibrationFit? calibration)
    {
        var t = System.Diagnostics.Stopwatch.GetTimestamp();
        if (calibration is not null)
        {
            // (float)(slope · hu + intercept) in double, as CalibrationFit.ToDensity: widened, the same two operations
            // (no fused multiply-add) and narrowed with the same rounding, so every value equals the scalar one.
            var rho = _rho.AsSpan();
            var x = 0;
            if (Vector.IsHardwareAccelerated)
            {
                var slope = new Vector<double>(calibration.Slope);
                var intercept = new Vector<double>(calibration.Intercept);
                var values = MemoryMarshal.Cast<float, Vector<float>>(rho);
                for (var v = 0; v < values.Length; v++)
                {
                    Vector.Widen(values[v], out var lo, out var hi);
                    values[v] = Vector.Narrow((lo * slope) + intercept, (hi * slope) + intercept);
                }

                x = values.Length * Vector<float>.Count;
            }

            for (; x < rho.Length; x++)
            {
                rho[x] = (float)calibration.ToDensity(rho[x]);
            }
        }

        BackgroundDensity = OuterShellMedian();
        QctTiming.Mark("to-density-background", ref t);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public IReadOnlyList<RegionMeasures> MeasureRegions()
    {
        // One pass over the crop for every region at once (slot 0 = total, 1–3 = the labels); each accumulator still
        // adds its voxels in index order.
        var stats = new RegionSums[4];
        for (var r = 0; r < stats.Length; r++)
        {
            stats[r] = new RegionSums();
        }

        for (var i = 0; i < _g.Count; i++)
        {
            var label = _labels[i];
            if (label is >= 1 and <= 3)
            {
                var r = Rho(i);
                stats[label].Add(i, r, _threshold);
                stats[0].Add(i, r, _threshold);
            }
            else if (label == 0 && _shellOwner[i] is >= 1 and <= 3 && _shellDistance[i] <= DilationMm && !float.IsNaN(_rho[i]))
            {
                var excess = _rho[i] - BackgroundDensity;
                stats[_shellOwner[i]].ShellExcess += excess;
                stats[0].ShellExcess += excess;
            }
        }

        // The medians and the percentile sort their own copies: computed concurrently (slot 4 is the cortical density).
        var rhoT = new double[stats.Length];
        var rhoC = double.NaN;
        Parallel.For(0, stats.Length + 1, r =>
        {
            if (r == stats.Length)
            {
                var all = new double[stats[0].Members.Count];
                for (var m = 0; m < all.Length; m++)
                {
                    all[m] = Rho(stats[0].Members[m]);
                }

                rhoC = Percentile(all, CorticalPercentile);
            }
            else if (stats[r].N > 0)
            {
                rhoT[r] = TrabecularCore(stats[r].Members, r == 0 ? _totalDepth : _regionDepth);
            }
        });
        var result = new List<RegionMeasures>();
        foreach (var (label, name) in Regions)
        {
            if (stats[label].N > 0)
            {
                result.Add(Measure(name, stats[label], rhoT[label], rhoC));
            }
        }

        result.Add(Measure("total", stats[0], rhoT[0], rhoC));
        return result;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public NeckGeometry? MeasureNeck(NeckAxis? given, double neckBmcCorrectedMg, double neckCorticalVolumeCm3, List<QctWarning> warnings) =>
        MeasureNeck(given, () => (neckBmcCorrectedMg, neckCorticalVolumeCm3), warnings);

    /// <summary>
    /// As the public overload, the neck region's corrected BMC and cortical volume asked for only at the end (they
    /// are used by the last formulas alone), so the region measures can be computed meanwhile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal NeckGeometry? MeasureNeck(NeckAxis? given, Func<(double BmcCorrectedMg, double CorticalVolumeCm3)> neckRegion, List<QctWarning> warnings)
    {
        var neck = VoxelsLabelled(1);
        if (neck.Length == 0)
        {
            return null;
        }

        Vec3 axis;
        var estimated = given is null;
        var centroid = Centroid(neck);
        if (given is not null)
        {
            axis = (given.To - given.From).Normalized();
        }
        else
        {
            var inter = VoxelsLabelled(3);
            if (inter.Length > 0)
            {
                axis = (centroid - Centroid(inter)).Normalized();
                warnings.Add(new QctWarning("axis-estimated", "Neck axis estimated as the line from the intertrochanteric centroid to the neck centroid; give the axis for reproducible projected measures."));
            }
            else
            {
                axis = SmallestVarianceDirection(neck, centroid);
                warnings.Add(new QctWarning("axis-estimated", "Neck axis estimated as the neck region's smallest-variance direction (no intertrochanteric region); give the axis for reproducible projected measures."));
            }
        }

        var ap = new Vec3(0, 1, 0);
        var projection = ap - (axis * ap.Dot(axis));
        if (projection.Length < 0.2)
        {
            projection = new Vec3(1, 0, 0) - (axis * axis.X);
        }

        projection = projection.Normalized();
        var across = axis.Cross(projection).Normalized();

        var u = new double[neck.Length];
        var w = new double[neck.Length];
        for (var n = 0; n < neck.Length; n++)
        {
            var d = PositionOf(neck[n]) - centroid;
            u[n] = d.Dot(axis);
            w[n] = d.Dot(across);
        }

        // Voxel centres span a range one sample pitch short of the object they sample: each extent is widened by its
        // mean gap between distinct sample positions (range·m/(m − 1) for m distinct positions).
        var uGap = MeanGap(u);
        var uMin = u.Min() - (uGap / 2);
        var length = u.Max() - u.Min() + uGap;
        var bins = Math.Max(1, (int)Math.Round(length / 5.0));
        var binWidth = length / bins;
        var perBin = Enumerable.Range(0, bins).Select(_ => new List<double>()).ToArray();
        for (var n = 0; n < neck.Length; n++)
        {
            perBin[Math.Min(bins - 1, (int)((u[n] - uMin) / Math.Max(binWidth, 1e-9)))].Add(w[n]);
        }

        var lo = new double[bins];
        var hi = new double[bins];
        for (var b = 0; b < bins; b++)
        {
            if (perBin[b].Count < 2)
            {
                (lo[b], hi[b]) = (0, 0);
                continue;
            }

            var gap = MeanGap(perBin[b]);
            lo[b] = perBin[b].Min() - (gap / 2);
            hi[b] = perBin[b].Max() + (gap / 2);
        }

        var widths = Enumerable.Range(0, bins).Where(b => hi[b] > lo[b]).Select(b => hi[b] - lo[b]).ToArray();
        var fnwMm = Median(widths);
        var areaMm2 = widths.Sum() * binWidth;

        // Mineral profile across the neck: envelope voxels at their density, dilation shell voxels net of background.
        double mass = 0, massW = 0;
        var shell = new List<int>();
        for (var i = 0; i < _g.Count; i++)
        {
            if (_shellOwner[i] == 1 && _shellDistance[i] <= DilationMm && !float.IsNaN(_rho[i]))
            {
                shell.Add(i);
            }
        }

        var members = new List<(double Mass, double W)>(neck.Length + shell.Count);
        var v = _g.VoxelVolumeCm3;
        for (var n = 0; n < neck.Length; n++)
        {
            var m = Rho(neck[n]) * v;
            members.Add((m, w[n]));
        }

        foreach (var i in shell)
        {
            var d = PositionOf(i) - centroid;
            members.Add(((_rho[i] - BackgroundDensity) * v, d.Dot(across)));
        }

        foreach (var (m, ww) in members)
        {
            mass += m;
            massW += m * ww;
        }

        var sBar = massW / mass;
        double second = 0;
        foreach (var (m, ww) in members)
        {
            second += m * (ww - sBar) * (ww - sBar);
        }

        var lengthCm = length / 10.0;
        var csa = mass / 1000.0 / lengthCm / MineralDensityGPerCm3;
        var csmi = second / 100.0 / 1000.0 / lengthCm / MineralDensityGPerCm3;
        var upper = Median(Enumerable.Range(0, bins).Where(b => hi[b] > lo[b]).Select(b => hi[b]).ToArray());
        var lower = Median(Enumerable.Range(0, bins).Where(b => hi[b] > lo[b]).Select(b => lo[b]).ToArray());
        var dMaxCm = Math.Max(upper - sBar, sBar - lower) / 10.0;
        var fnwCm = fnwMm / 10.0;
        var disc = (fnwCm * fnwCm) - (4 * csa / Math.PI);
        var ect = (fnwCm - Math.Sqrt(Math.Max(0, disc))) / 2;
        var (neckBmcCorrectedMg, neckCorticalVolumeCm3) = neckRegion();
        var corticalArea = neckCorticalVolumeCm3 / lengthCm;
        var outer = fnwCm / 2;
        var depth = outer - Math.Sqrt(Math.Max(0, (outer * outer) - (corticalArea / Math.PI)));
        return new NeckGeometry
        {
            ArealBmdGPerCm2 = neckBmcCorrectedMg / 1000.0 / (areaMm2 / 100.0),
            ProjectedAreaCm2 = areaMm2 / 100.0,
            NeckWidthCm = fnwCm,
            NeckLengthCm = lengthCm,
            CsaCm2 = csa,
            CsmiCm4 = csmi,
            SectionModulusCm3 = csmi / dMaxCm,
            DMaxCm = dMaxCm,
            CorticalThicknessCm = ect,
            CorticalDepthCm = depth,
            BucklingRatio = ect > 0 ? dMaxCm / ect : double.NaN,
            Axis = axis,
            ProjectionDirection = projection,
            AxisEstimated = estimated,
        };
    }

    /// <summary>Median density of the outer shell (beyond the dilation) owned by a region.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double OuterShellMedian()
    {
        var shell = GC.AllocateUninitializedArray<double>(_g.Count);
        var n = 0;
        for (var i = 0; i < _g.Count; i++)
        {
            if (_shellOwner[i] is >= 1 and <= 3 && _shellDistance[i] > DilationMm && !float.IsNaN(_rho[i]))
            {
                shell[n++] = _rho[i];
            }
        }

        return OrderStatistics.Percentile(shell.AsSpan(0, n), 0.5);
    }

    private RegionMeasures Measure(string name, RegionSums stats, double rhoT, double rhoC)
    {
        var v = _g.VoxelVolumeCm3;
        var (n, nc, sum, sumC, shellExcess) = (stats.N, stats.NCortical, stats.Sum, stats.SumCortical, stats.ShellExcess);
        var volume = n * v;
        var bmcCorrected = (sum + shellExcess) * v;
        var vCort = rhoC > rhoT ? Math.Clamp((bmcCorrected - (rhoT * volume)) / (rhoC - rhoT), 0, volume) : 0;
        var bmcCort = bmcCorrected - (rhoT * (volume - vCort));
        return new RegionMeasures
        {
            Region = name,
            Integral = CompartmentMeasures.Of(volume, sum * v),
            Cortical = CompartmentMeasures.Of(nc * v, sumC * v),
            Trabecular = CompartmentMeasures.Of((n - nc) * v, (sum - sumC) * v),
            IntegralCorrected = CompartmentMeasures.Of(volume, bmcCorrected),
            CorticalCorrected = CompartmentMeasures.Of(vCort, bmcCort),
            TrabecularCorrected = CompartmentMeasures.Of(volume - vCort, rhoT * (volume - vCort)),
            CorticalDensityEstimateMgPerCm3 = rhoC,
            TrabecularDensityEstimateMgPerCm3 = rhoT,
            VoxelCount = (int)n,
        };
    }

    /// <summary>Median density of region voxels deeper than <see cref="TrabecularDepthMm"/> below the region surface.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private double TrabecularCore(List<int> members, float[] depth)
    {
        var core = new List<double>();
        foreach (var i in members)
        {
            if (float.IsPositiveInfinity(depth[i]))
            {
                core.Add(Rho(i));
            }
        }

        if (core.Count >= 10)
        {
            return Median([.. core]);
        }

        var below = members.Select(Rho).Where(r => r < _threshold).ToArray();
        return below.Length > 0 ? Median(below) : 0;
    }

    /// <summary>
    /// Chamfer depth (mm) of labelled voxels below the surface of their class (<paramref name="classOf"/>[label]; voxels with a neighbour of another
    /// class, or on the crop border); +∞ beyond <paramref name="maxMm"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float[] Depth(byte[] classOf, double maxMm)
    {
        var depth = new float[_g.Count];
        Array.Fill(depth, float.PositiveInfinity);
        var cls = new byte[_g.Count];
        for (var i = 0; i < _g.Count; i++)
        {
            cls[i] = classOf[_labels[i]];
        }

        // Only the depths matter here, not which path reached a voxel first, and they are the unique solution of
        // d[j] = min over same-class neighbours i of (float)(d[i] + step) (≤ maxMm; surface voxels 0), every step
        // positive: any order that re-relaxes a voxel whenever it improves reaches the same floats as Dijkstra's.
        // Buckets one (smallest) step wide, in increasing order, each first in first out: no heap.
        var width = float.PositiveInfinity;
        foreach (var nb in _neighbours)
        {
            width = Math.Min(width, nb.Step);
        }

        var queue = new VoxelBuckets((int)(maxMm / width) + 2, width);
        // A voxel has a neighbour of another class exactly when its 3 × 3 × 3 neighbourhood holds two classes.
        var lowest = Neighbourhood(_g, cls, max: false);
        var highest = Neighbourhood(_g, cls, max: true);
        for (var i = 0; i < _g.Count; i++)
        {
            if (cls[i] != 0 && (_border[i] != 0 || lowest[i] != highest[i]))
            {
                depth[i] = 0;
                queue.Push(i, 0, 0);
            }
        }

        var (offsets, steps) = NeighbourSteps(_neighbours);

        for (var b = 0; b < queue.Buckets; b++)
        {
            // The bucket may grow while it is read (a step that rounds into it, or an entry placed late).
            for (var e = 0; e < queue.Count(b); e++)
            {
                var (i, d) = queue.At(b, e);
                if (d > depth[i])
                {
                    continue;
                }

                var own = cls[i];
                if (_border[i] == 0)
                {
                    for (var n = 0; n < offsets.Length; n++)
                    {
                        var j = i + offsets[n];
                        var nd = d + steps[n];
                        if (cls[j] == own && nd <= maxMm && nd < depth[j])
                        {
                            depth[j] = nd;
                            queue.Push(j, nd, b);
                        }
                    }

                    continue;
                }

                foreach (var nb in _neighbours)
                {
                    if (!NeighbourInside(i, nb))
                    {
                        continue;
                    }

                    var j = i + nb.Offset;
                    var nd = d + nb.Step;
                    if (cls[j] == own && nd <= maxMm && nd < depth[j])
                    {
                        depth[j] = nd;
                        queue.Push(j, nd, b);
                    }
                }
            }
        }

        return depth;
    }

    /// <summary>
    /// Distance (26-neighbour chamfer, mm) from the labelled voxels into background voxels, and which region is
    /// nearest. Padding is not entered; other bone (label ≥ 4) claims the background nearest to it.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The seeds are the labelled voxels with a background neighbour (distance 0; owner their label, 1–3, or
    /// <see cref="OtherBone"/> for ≥ 4); the propagation enters only background voxels that are not padding (NaN).
    /// The distances are the unique solution of d[j] = min over neighbours i of (float)(d[i] + step) (+∞ where that
    /// exceeds <paramref name="maxMm"/>; every step positive, so (float)(d + step) &gt; d and the solution follows by
    /// induction in increasing d): exactly the floats of Dijkstra's order. The owner is defined without any order:
    /// owner[j] is the smallest owner among the neighbours i that achieve d[j] = (float)(d[i] + step) (the tight
    /// edges; d[i] &lt; d[j] on each, so the definition recurses down to the seeds and is unique).
    /// </para>
    /// <para>
    /// Computed by label correction over buckets one smallest step wide, read in increasing order, first in first out
    /// (an entry is never placed before the bucket being read, so none is lost): a voxel's (distance, owner) is
    /// replaced when the offered distance is smaller, or equal with a smaller owner, and the voxel is queued again
    /// each time. It terminates: each change lowers the pair lexicographically, over finitely many values. The result
    /// does not depend on the order: each voxel's final pair is relaxed to its neighbours after it was set, so at the
    /// end (d[j], owner[j]) ≤ ((float)(d[i] + step), owner[i]) on every edge — d is the solution above and
    /// owner[j] ≤ the owner of every tight neighbour; and owner[j] was offered by a neighbour whose final distance
    /// can only be smaller (so the edge is tight) and final owner no larger — owner[j] ≥ the smallest of them.
    /// </para>
    /// <para>Internal (with this signature) for the unit test, which checks it against a brute-force fixpoint.</para>
    /// </remarks>
    internal static (float[] Distance, byte[] Owner) Propagate(VolumeGeometry g, byte[] labels, float[] rho, double maxMm) =>
        Propagate(g, labels, rho, NeighbourTable(g), BorderOf(g), maxMm);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float[] Distance, byte[] Owner) Propagate(VolumeGeometry g, byte[] labels, float[] rho, Neighbour[] neighbours, byte[] border, double maxMm)
    {
        var count = g.Count;
        var distance = new float[count];
        var owner = new byte[count];
        var width = float.PositiveInfinity;
        foreach (var nb in neighbours)
        {
            width = Math.Min(width, nb.Step);
        }

        var queue = new VoxelBuckets((int)(maxMm / width) + 2, width);

        // The labelled voxels next to background (label 0) seed the queue: a labelled voxel has such a neighbour
        // exactly when the smallest label of its 3 × 3 × 3 neighbourhood is 0. Background that is not padding starts
        // at +∞; every other voxel at 0 while propagating, which no offer (> 0) improves, so the loop needs no mask.
        var lowest = Neighbourhood(g, labels, max: false);
        for (var i = 0; i < count; i++)
        {
            var label = labels[i];
            if (label == 0)
            {
                distance[i] = float.IsNaN(rho[i]) ? 0 : float.PositiveInfinity;
            }
            else if (lowest[i] == 0)
            {
                // Other bone (label >= 4) competes for the background it is nearest to (owner 255), so its blur is
                // not credited to an adjacent region.
                owner[i] = label <= 3 ? label : OtherBone;
                queue.Push(i, 0, 0);
            }
        }

        // The largest float not above maxMm: nd <= cap exactly when nd <= maxMm.
        var cap = (float)maxMm;
        if (cap > maxMm)
        {
            cap = MathF.BitDecrement(cap);
        }

        var (offsets, steps) = NeighbourSteps(neighbours);
        for (var b = 0; b < queue.Buckets; b++)
        {
            // The bucket grows while it is read (an offer that rounds into it, a voxel whose owner improved).
            for (var e = 0; e < queue.Count(b); e++)
            {
                var (i, d) = queue.At(b, e);
                if (d > distance[i])
                {
                    continue;
                }

                // The voxel's current owner: when a voxel was queued again for a smaller owner at the same distance,
                // an earlier entry not yet read already relaxes with that owner and the later one changes nothing.
                var o = owner[i];
                if (border[i] == 0)
                {
                    for (var n = 0; n < offsets.Length; n++)
                    {
                        Offer(i + offsets[n], d + steps[n], o, cap, distance, owner, queue, b);
                    }

                    continue;
                }

                foreach (var nb in neighbours)
                {
                    if (NeighbourInside(g, i, nb))
                    {
                        Offer(i + nb.Offset, d + nb.Step, o, cap, distance, owner, queue, b);
                    }
                }
            }
        }

        // Labelled voxels own nothing; only the seeds keep distance 0, padding and the other labelled voxels are +∞.
        for (var i = 0; i < count; i++)
        {
            if (labels[i] != 0)
            {
                owner[i] = 0;
                if (lowest[i] != 0)
                {
                    distance[i] = float.PositiveInfinity;
                }
            }
            else if (float.IsNaN(rho[i]))
            {
                distance[i] = float.PositiveInfinity;
            }
        }

        return (distance, owner);
    }

    /// <summary>
    /// The shells' relaxation: voxel <paramref name="j"/> offered distance <paramref name="nd"/> by owner
    /// <paramref name="o"/> takes it if shorter (within <paramref name="cap"/>), or equal with a smaller owner.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Offer(int j, float nd, byte o, float cap, float[] distance, byte[] owner, VoxelBuckets queue, int bucket)
    {
        var dj = distance[j];
        if (nd > dj || nd > cap || (nd == dj && o >= owner[j]))
        {
            return;
        }

        distance[j] = nd;
        owner[j] = o;
        queue.Push(j, nd, bucket);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int[] VoxelsLabelled(byte label)
    {
        var voxels = new List<int>();
        var labels = _labels.AsSpan();
        for (var i = labels.IndexOf(label); i >= 0;)
        {
            voxels.Add(i);
            var next = labels[(i + 1)..].IndexOf(label);
            i = next < 0 ? -1 : i + 1 + next;
        }

        return [.. voxels];
    }

    private static bool Inside(VolumeGeometry g, int x, int y, int z) => x >= 0 && y >= 0 && z >= 0 && x < g.SizeX && y < g.SizeY && z < g.SizeZ;

    private bool NeighbourInside(int i, Neighbour nb) => NeighbourInside(_g, i, nb);

    private static bool NeighbourInside(VolumeGeometry g, int i, Neighbour nb)
    {
        var (x, y, z) = Coordinates(g, i);
        return Inside(g, x + nb.Dx, y + nb.Dy, z + nb.Dz);
    }

    /// <summary>1 for voxels on a face of the grid (some neighbour is outside), else 0: interior voxels skip the bounds checks.</summary>
    private static byte[] BorderOf(VolumeGeometry g)
    {
        var border = new byte[g.Count];
        var plane = g.SizeX * g.SizeY;
        border.AsSpan(0, plane).Fill(1);
        border.AsSpan((g.SizeZ - 1) * plane, plane).Fill(1);
        for (var z = 0; z < g.SizeZ; z++)
        {
            border.AsSpan(g.Index(0, 0, z), g.SizeX).Fill(1);
            border.AsSpan(g.Index(0, g.SizeY - 1, z), g.SizeX).Fill(1);
            for (var y = 0; y < g.SizeY; y++)
            {
                border[g.Index(0, y, z)] = 1;
                border[g.Index(g.SizeX - 1, y, z)] = 1;
            }
        }

        return border;
    }

    /// <summary>The neighbour offsets and steps as two arrays, in <see cref="_neighbours"/>' order, for the interior loops.</summary>
    private static (int[] Offsets, float[] Steps) NeighbourSteps(Neighbour[] neighbours) =>
        ([.. neighbours.Select(nb => nb.Offset)], [.. neighbours.Select(nb => nb.Step)]);

    /// <summary>
    /// The smallest (or largest) value of each voxel's 3 × 3 × 3 neighbourhood inside the grid, itself included: three
    /// separable passes (x, y, z), each vectorised over the whole array, then the two faces of its axis recomputed
    /// from the one neighbour they have (the bulk pass wrapped around to the previous or next row or slice there).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte[] Neighbourhood(VolumeGeometry g, byte[] values, bool max)
    {
        var alongX = NeighbourhoodPass(values, 1, g.SizeX, max);
        var alongY = NeighbourhoodPass(alongX, g.SizeX, g.SizeY, max);
        return NeighbourhoodPass(alongY, g.SizeX * g.SizeY, g.SizeZ, max);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte[] NeighbourhoodPass(byte[] source, int stride, int extent, bool max)
    {
        var n = source.Length;
        var target = GC.AllocateUninitializedArray<byte>(n);
        if (extent == 1)
        {
            source.CopyTo(target, 0);
            return target;
        }

        var s = source.AsSpan();
        var t = target.AsSpan();
        var i = stride;
        var end = n - stride;
        if (Vector.IsHardwareAccelerated)
        {
            var width = Vector<byte>.Count;
            for (; i <= end - width; i += width)
            {
                var before = new Vector<byte>(s.Slice(i - stride, width));
                var at = new Vector<byte>(s.Slice(i, width));
                var after = new Vector<byte>(s.Slice(i + stride, width));
                (max ? Vector.Max(Vector.Max(before, at), after) : Vector.Min(Vector.Min(before, at), after)).CopyTo(t.Slice(i, width));
            }
        }

        for (; i < end; i++)
        {
            t[i] = max ? Math.Max(Math.Max(s[i - stride], s[i]), s[i + stride]) : Math.Min(Math.Min(s[i - stride], s[i]), s[i + stride]);
        }

        // Coordinate 0 and extent − 1 along the axis (every index below stride and from n − stride on is one of them).
        var run = stride * extent;
        for (var start = 0; start < n; start += run)
        {
            for (var o = 0; o < stride; o++)
            {
                var first = start + o;
                var last = first + run - stride;
                t[first] = max ? Math.Max(s[first], s[first + stride]) : Math.Min(s[first], s[first + stride]);
                t[last] = max ? Math.Max(s[last], s[last - stride]) : Math.Min(s[last], s[last - stride]);
            }
        }

        return target;
    }

    private static Neighbour[] NeighbourTable(VolumeGeometry g)
    {
        var table = new List<Neighbour>(26);
        for (var dz = -1; dz <= 1; dz++)
        {
            for (var dy = -1; dy <= 1; dy++)
            {
                for (var dx = -1; dx <= 1; dx++)
                {
                    if (dx == 0 && dy == 0 && dz == 0)
                    {
                        continue;
                    }

                    var step = (float)Math.Sqrt(Sq(dx * g.SpacingX) + Sq(dy * g.SpacingY) + Sq(dz * g.SpacingZ));
                    table.Add(new Neighbour(dx, dy, dz, dx + (g.SizeX * (dy + (g.SizeY * dz))), step));
                }
            }
        }

        return [.. table];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (VolumeGeometry Geometry, float[] Values, byte[] Labels) Crop(VolumeGeometry g, float[] values, byte[] labels, double marginMm)
    {
        int x0 = int.MaxValue, y0 = int.MaxValue, z0 = int.MaxValue, x1 = -1, y1 = -1, z1 = -1;
        for (var z = 0; z < g.SizeZ; z++)
        {
            for (var y = 0; y < g.SizeY; y++)
            {
                // Vectorised search for the first and last labelled voxel of each row.
                var row = labels.AsSpan(g.Index(0, y, z), g.SizeX);
                var first = row.IndexOfAnyExcept((byte)0);
                if (first < 0)
                {
                    continue;
                }

                x0 = Math.Min(x0, first);
                x1 = Math.Max(x1, row.LastIndexOfAnyExcept((byte)0));
                y0 = Math.Min(y0, y);
                y1 = Math.Max(y1, y);
                z0 = Math.Min(z0, z);
                z1 = Math.Max(z1, z);
            }
        }

        if (x1 < 0)
        {
            throw new QctInputException("The label series marks no bone (all voxels are 0).") { Code = "labels-empty" };
        }

        var mx = (int)Math.Ceiling(marginMm / g.SpacingX) + 1;
        var my = (int)Math.Ceiling(marginMm / g.SpacingY) + 1;
        var mz = (int)Math.Ceiling(marginMm / g.SpacingZ) + 1;
        x0 = Math.Max(0, x0 - mx);
        y0 = Math.Max(0, y0 - my);
        z0 = Math.Max(0, z0 - mz);
        x1 = Math.Min(g.SizeX - 1, x1 + mx);
        y1 = Math.Min(g.SizeY - 1, y1 + my);
        z1 = Math.Min(g.SizeZ - 1, z1 + mz);
        var crop = new VolumeGeometry(x1 - x0 + 1, y1 - y0 + 1, z1 - z0 + 1, g.Position(x0, y0, z0), g.RowDirection, g.ColumnDirection, g.SpacingX, g.SpacingY, g.SpacingZ);
        var d = new float[crop.Count];
        var l = new byte[crop.Count];
        for (var z = 0; z < crop.SizeZ; z++)
        {
            for (var y = 0; y < crop.SizeY; y++)
            {
                var source = g.Index(x0, y0 + y, z0 + z);
                var target = crop.Index(0, y, z);
                Array.Copy(values, source, d, target, crop.SizeX);
                Array.Copy(labels, source, l, target, crop.SizeX);
            }
        }

        return (crop, d, l);
    }

    private (int X, int Y, int Z) Coordinates(int i) => Coordinates(_g, i);

    private static (int X, int Y, int Z) Coordinates(VolumeGeometry g, int i)
    {
        var plane = g.SizeX * g.SizeY;
        var z = i / plane;
        var rest = i - (z * plane);
        return (rest % g.SizeX, rest / g.SizeX, z);
    }

    private Vec3 PositionOf(int i)
    {
        var (x, y, z) = Coordinates(i);
        return _g.Position(x, y, z);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Vec3 Centroid(int[] voxels)
    {
        var sum = new Vec3(0, 0, 0);
        foreach (var i in voxels)
        {
            sum += PositionOf(i);
        }

        return sum / voxels.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Vec3 SmallestVarianceDirection(int[] voxels, Vec3 centroid)
    {
        var c = new double[3, 3];
        foreach (var i in voxels)
        {
            var d = PositionOf(i) - centroid;
            double[] v = [d.X, d.Y, d.Z];
            for (var a = 0; a < 3; a++)
            {
                for (var b = 0; b < 3; b++)
                {
                    c[a, b] += v[a] * v[b];
                }
            }
        }

        var (values, vectors) = Jacobi3(c);
        var k = values[0] <= values[1] && values[0] <= values[2] ? 0 : values[1] <= values[2] ? 1 : 2;
        return new Vec3(vectors[0, k], vectors[1, k], vectors[2, k]).Normalized();
    }

    private static (double[] Values, double[,] Vectors) Jacobi3(double[,] matrix)
    {
        var a = (double[,])matrix.Clone();
        var v = new double[3, 3] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        for (var sweep = 0; sweep < 50; sweep++)
        {
            var off = Sq(a[0, 1]) + Sq(a[0, 2]) + Sq(a[1, 2]);
            if (off < 1e-24)
            {
                break;
            }

            for (var p = 0; p < 2; p++)
            {
                for (var q = p + 1; q < 3; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300)
                    {
                        continue;
                    }

                    var theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt((theta * theta) + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }

                    var cos = 1 / Math.Sqrt((t * t) + 1);
                    var sin = t * cos;
                    for (var k = 0; k < 3; k++)
                    {
                        var akp = a[k, p];
                        var akq = a[k, q];
                        a[k, p] = (cos * akp) - (sin * akq);
                        a[k, q] = (sin * akp) + (cos * akq);
                    }

                    for (var k = 0; k < 3; k++)
                    {
                        var apk = a[p, k];
                        var aqk = a[q, k];
                        a[p, k] = (cos * apk) - (sin * aqk);
                        a[q, k] = (sin * apk) + (cos * aqk);
                    }

                    for (var k = 0; k < 3; k++)
                    {
                        var vkp = v[k, p];
                        var vkq = v[k, q];
                        v[k, p] = (cos * vkp) - (sin * vkq);
                        v[k, q] = (sin * vkp) + (cos * vkq);
                    }
                }
            }
        }

        return ([a[0, 0], a[1, 1], a[2, 2]], v);
    }

    private double Rho(int i) => float.IsNaN(_rho[i]) ? BackgroundDensityOrZero() : _rho[i];

    private double BackgroundDensityOrZero() => double.IsFinite(BackgroundDensity) ? BackgroundDensity : 0;

    private static double Median(double[] values) => Percentile(values, 0.5);

    /// <summary>Range / (number of distinct positions − 1): the sampling pitch of a set of voxel-centre coordinates.</summary>
    private static double MeanGap(IReadOnlyCollection<double> values)
    {
        var distinct = values.Select(v => Math.Round(v, 4)).Distinct().Count();
        return distinct > 1 ? (values.Max() - values.Min()) / (distinct - 1) : 0;
    }

    private static double Percentile(double[] values, double p) => OrderStatistics.Percentile(values, p);

    private static double Sq(double x) => x * x;

    /// <summary>
    /// Voxels with a tentative depth or distance in buckets of <c>width</c> mm, never placed in a bucket before the one
    /// being read (so a rounding at a bucket edge cannot lose an entry).
    /// </summary>
    private sealed class VoxelBuckets
    {
        private readonly int[][] _voxels;
        private readonly float[][] _depths;
        private readonly int[] _counts;
        private readonly float _width;

        public VoxelBuckets(int buckets, float width)
        {
            _voxels = new int[buckets][];
            _depths = new float[buckets][];
            _counts = new int[buckets];
            _width = width;
            for (var b = 0; b < buckets; b++)
            {
                _voxels[b] = new int[1024];
                _depths[b] = new float[1024];
            }
        }

        public int Buckets => _counts.Length;

        public int Count(int bucket) => _counts[bucket];

        public (int Voxel, float Depth) At(int bucket, int entry) => (_voxels[bucket][entry], _depths[bucket][entry]);

        // Inlined into the propagation loops (the growth is out of line).
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Push(int voxel, float depth, int current)
        {
            var b = Math.Clamp((int)(depth / _width), current, _counts.Length - 1);
            var n = _counts[b];
            if (n == _voxels[b].Length)
            {
                Grow(b);
            }

            _voxels[b][n] = voxel;
            _depths[b][n] = depth;
            _counts[b] = n + 1;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private void Grow(int b)
        {
            Array.Resize(ref _voxels[b], _voxels[b].Length * 2);
            Array.Resize(ref _depths[b], _depths[b].Length * 2);
        }
    }

    /// <summary>Running sums of one region (or the total) in voxel index order.</summary>
    private sealed class RegionSums
    {
        public long N { get; private set; }

        public long NCortical { get; private set; }

        public double Sum { get; private set; }

        public double SumCortical { get; private set; }

        public double ShellExcess { get; set; }

        public List<int> Members { get; } = [];

        public void Add(int voxel, double rho, double threshold)
        {
            Members.Add(voxel);
            N++;
            Sum += rho;
            if (rho >= threshold)
            {
                NCortical++;
                SumCortical += rho;
            }
        }
    }

    private readonly record struct Neighbour(int Dx, int Dy, int Dz, int Offset, float Step);
}
