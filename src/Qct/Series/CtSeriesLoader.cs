using System.Globalization;
using HomaBone.Qct.Dicom;

namespace HomaBone.Qct.Series;

/// <summary>
/// Builds a volume from single-frame image files: skips localizers, refuses what is not a CT acquisition, sorts
/// slices by Image Position (Patient) · (row × column direction) — never by Instance Number or file order — and
/// checks qct.md's series rules: one Series Instance UID and Frame of Reference, identical orientation and pixel
/// grid, uniform spacing (a gap or a duplicate position is an error), no gantry tilt.
/// </summary>
public static class CtSeriesLoader
{
    /// <summary>CT Image Storage.</summary>
    public const string CtImageStorage = "1.2.840.10008.5.1.4.1.1.2";

    /// <summary>Enhanced CT Image Storage (multi-frame; refused for now).</summary>
    public const string EnhancedCtImageStorage = "1.2.840.10008.5.1.4.1.1.2.1";

    /// <summary>Secondary Capture Image Storage.</summary>
    public const string SecondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7";

    /// <summary>Largest volume accepted (voxels): 2²⁸, i.e. 1 GiB of HU values, e.g. 512 × 512 × 1024.</summary>
    public const long MaxVoxels = 1L << 28;

    private const double OrientationTolerance = 1e-4;

    /// <summary>Loads and checks a CT series (Modality CT, CT Image Storage).</summary>
    /// <exception cref="QctInputException">A series rule is broken.</exception>
    public static CtSeries LoadCt(IEnumerable<DicomFile> files) => Load(files, requireCt: true);

    /// <summary>
    /// As <see cref="LoadCt"/>, the values in an array from <see cref="VolumeBuffers"/>: the caller hands it back with
    /// <see cref="VolumeBuffers.Return{T}"/> when nothing uses the volume any more.
    /// </summary>
    internal static CtSeries LoadCtPooled(IEnumerable<DicomFile> files) => Load(files, requireCt: true, VolumeBuffers.Rent<float>);

    /// <summary>Loads a label series (any single-frame grayscale image; values are rescaled stored values).</summary>
    /// <exception cref="QctInputException">A series rule is broken.</exception>
    public static CtSeries LoadLabels(IEnumerable<DicomFile> files) => Load(files, requireCt: false);

    private static CtSeries Load(IEnumerable<DicomFile> files, bool requireCt, Func<int, float[]>? allocate = null)
    {
        var (info, geometry, slices) = Prepare(files, requireCt);
        // Every voxel is written below: no need to zero the array first.
        var values = allocate?.Invoke(geometry.Count) ?? GC.AllocateUninitializedArray<float>(geometry.Count);
        var frame = geometry.SizeX * geometry.SizeY;
        Parallel.For(0, slices.Count, k => slices[k].Pixels.CopyRescaledValues(0, values.AsSpan(k * frame, frame)));
        return new CtSeries(info, new CtVolume(geometry, values));
    }

    /// <summary>
    /// Loads a label series straight to bytes: each voxel is its rescaled value rounded to the nearest integer
    /// (padding → 0), which must lie in 0–255. <paramref name="check"/> sees the series geometry before any pixel is decoded.
    /// </summary>
    /// <remarks>The labels are in an array from <see cref="VolumeBuffers"/>: the caller hands it back.</remarks>
    /// <exception cref="QctInputException">A series rule is broken, or a label value is outside 0–255.</exception>
    internal static (CtSeriesInfo Info, VolumeGeometry Geometry, byte[] Labels) LoadLabelBytes(IEnumerable<DicomFile> files, Action<CtSeriesInfo, VolumeGeometry> check)
    {
        var (info, geometry, slices) = Prepare(files, requireCt: false);
        check(info, geometry);
        // Every voxel is written below (or the label series is refused).
        var labels = VolumeBuffers.Rent<byte>(geometry.Count);
        var frame = geometry.SizeX * geometry.SizeY;
        var bad = new float[slices.Count];
        // A slice whose stored values are the labels is copied as bytes; any other is rescaled through a float buffer
        // (one per worker, made when first needed).
        Parallel.For(0, slices.Count, () => (float[]?)null, (k, _, buffer) =>
        {
            var target = labels.AsSpan(k * frame, frame);
            if (slices[k].Pixels.TryCopyByteValues(0, target))
            {
                return buffer;
            }

            buffer ??= new float[frame];
            slices[k].Pixels.CopyRescaledValues(0, buffer);
            for (var i = 0; i < frame; i++)
            {
                var v = float.IsNaN(buffer[i]) ? 0 : MathF.Round(buffer[i]);
                if (v is < 0 or > 255)
                {
                    bad[k] = v;
                    break;
                }

                target[i] = (byte)v;
            }

            return buffer;
        }, _ => { });
        foreach (var v in bad)
        {
            if (v != 0)
            {
                VolumeBuffers.Return(labels);
                throw new QctInputException($"Label value {v} is outside 0–255.") { Code = "labels-invalid" };
            }
        }

        return (info, geometry, labels);
    }

    private static (CtSeriesInfo Info, VolumeGeometry Geometry, List<Slice> Slices) Prepare(IEnumerable<DicomFile> files, bool requireCt)
    {
        ArgumentNullException.ThrowIfNull(files);
        var what = requireCt ? "CT series" : "label series";
        var slices = new List<Slice>();
        var localizers = 0;
        var lossy = false;
        foreach (var file in files)
        {
            var ds = file.Dataset;
            var sopClass = ds.GetSingleValueOrDefault(DicomTag.SOPClassUID, string.Empty);
            var modality = ds.GetSingleValueOrDefault(DicomTag.Modality, string.Empty);
            var imageType = ds.TryGetValues<string>(DicomTag.ImageType, out var types) ? types : [];
            if (imageType.Contains("LOCALIZER", StringComparer.OrdinalIgnoreCase))
            {
                localizers++;
                continue;
            }

            if (sopClass == EnhancedCtImageStorage || ds.GetSingleValueOrDefault(DicomTag.NumberOfFrames, 1) > 1)
            {
                throw new QctInputException($"The {what} contains a multi-frame (Enhanced CT) image; only single-frame CT Image Storage is supported for now. Export the series as classic single-frame CT images.") { Code = "multi-frame" };
            }

            if (requireCt)
            {
                if (sopClass == SecondaryCaptureImageStorage)
                {
                    throw new QctInputException("A Secondary Capture image is not a CT acquisition (no reliable HU scale or geometry); send the original CT Image Storage series.") { Code = "secondary-capture" };
                }

                if (!string.Equals(modality, "CT", StringComparison.Ordinal))
                {
                    throw new QctInputException($"Modality is '{modality}', not CT.") { Code = "not-ct" };
                }

                if (sopClass.Length > 0 && sopClass != CtImageStorage)
                {
                    throw new QctInputException($"SOP Class {sopClass} is not CT Image Storage ({CtImageStorage}).") { Code = "not-ct" };
                }
            }

            lossy |= string.Equals(ds.GetSingleValueOrDefault(DicomTag.LossyImageCompression, "00"), "01", StringComparison.Ordinal) || file.TransferSyntax.IsLossy;
            slices.Add(Slice.From(file, what));
        }

        if (slices.Count == 0)
        {
            throw new QctInputException($"The {what} has no image slices.") { Code = "empty" };
        }

        var first = slices[0];
        foreach (var s in slices)
        {
            if (s.SeriesUid != first.SeriesUid)
            {
                throw new QctInputException($"The {what} mixes two series ({first.SeriesUid} and {s.SeriesUid}); send one series.") { Code = "mixed-series" };
            }

            if (s.FrameOfReferenceUid != first.FrameOfReferenceUid)
            {
                throw new QctInputException($"The {what} mixes two frames of reference.") { Code = "mixed-frame-of-reference" };
            }

            if (!SameOrientation(s, first))
            {
                throw new QctInputException($"Slices of the {what} have different Image Orientation (Patient).") { Code = "orientation" };
            }

            if (s.Rows != first.Rows || s.Columns != first.Columns
                || Math.Abs(s.RowSpacing - first.RowSpacing) > 1e-4 || Math.Abs(s.ColumnSpacing - first.ColumnSpacing) > 1e-4)
            {
                throw new QctInputException($"Slices of the {what} have different matrix size or pixel spacing.") { Code = "pixel-grid" };
            }

            if (Math.Abs(s.GantryTilt) > 1e-3)
            {
                throw new QctInputException($"Gantry/Detector Tilt is {s.GantryTilt.ToString(CultureInfo.InvariantCulture)}°; tilted acquisitions are not supported.") { Code = "gantry-tilt" };
            }
        }

        var rowDir = first.RowDirection;
        var colDir = first.ColumnDirection;
        var normal = rowDir.Cross(colDir).Normalized();
        slices.Sort((a, b) => a.Position.Dot(normal).CompareTo(b.Position.Dot(normal)));
        var spacing = CheckSpacing(slices, normal, what);

        if ((long)first.Rows * first.Columns * slices.Count > MaxVoxels)
        {
            throw new QctInputException($"The {what} has {(long)first.Rows * first.Columns * slices.Count} voxels, above the limit of {MaxVoxels}.") { Code = "too-large" };
        }

        var geometry = new VolumeGeometry(first.Columns, first.Rows, slices.Count, slices[0].Position, rowDir, colDir, first.ColumnSpacing, first.RowSpacing, spacing);

        var ds0 = first.File.Dataset;
        var info = new CtSeriesInfo
        {
            PatientId = ds0.GetSingleValueOrDefault<string?>(DicomTag.PatientID, null),
            PatientWeightKg = Positive(ds0, DicomTag.PatientWeight),
            PatientSizeM = Positive(ds0, DicomTag.PatientSize),
            Kvp = Positive(ds0, DicomTag.KVP),
            ExposureMas = Positive(ds0, DicomTag.Exposure),
            ConvolutionKernel = ds0.TryGetValues<string>(DicomTag.ConvolutionKernel, out var kernel) ? string.Join('\\', kernel) : null,
            SliceThicknessMm = Positive(ds0, DicomTag.SliceThickness),
            Manufacturer = ds0.GetSingleValueOrDefault<string?>(DicomTag.Manufacturer, null),
            SeriesInstanceUid = first.SeriesUid,
            FrameOfReferenceUid = first.FrameOfReferenceUid,
            LossyCompressed = lossy,
            SliceCount = slices.Count,
            SkippedLocalizers = localizers,
        };
        return (info, geometry, slices);
    }

    private static double? Positive(DicomDataset ds, DicomTag tag) =>
        ds.TryGetSingleValue<double>(tag, out var v) && double.IsFinite(v) && v > 0 ? v : null;

    private static bool SameOrientation(Slice a, Slice b) =>
        (a.RowDirection - b.RowDirection).Length < OrientationTolerance && (a.ColumnDirection - b.ColumnDirection).Length < OrientationTolerance;

    private static double CheckSpacing(List<Slice> slices, Vec3 normal, string what)
    {
        if (slices.Count == 1)
        {
            return slices[0].Thickness ?? throw new QctInputException($"The {what} has a single slice and no Slice Thickness.") { Code = "spacing" };
        }

        var gaps = new double[slices.Count - 1];
        for (var k = 1; k < slices.Count; k++)
        {
            var delta = slices[k].Position - slices[k - 1].Position;
            gaps[k - 1] = delta.Dot(normal);
            var sideways = (delta - (normal * gaps[k - 1])).Length;
            if (sideways > 0.01 + (1e-3 * Math.Abs(gaps[k - 1])))
            {
                throw new QctInputException($"Slice positions drift {sideways.ToString("F3", CultureInfo.InvariantCulture)} mm sideways between slices {k - 1} and {k}: gantry tilt or a sheared stack is not supported.") { Code = "gantry-tilt" };
            }
        }

        var sorted = gaps.Order().ToArray();
        var median = sorted[sorted.Length / 2];
        for (var k = 0; k < gaps.Length; k++)
        {
            if (gaps[k] < 1e-3 || gaps[k] < 0.01 * median)
            {
                throw new QctInputException($"Two slices of the {what} share the position {slices[k].Position.Dot(normal).ToString("F3", CultureInfo.InvariantCulture)} mm along the normal (duplicate slice or two acquisitions).") { Code = "duplicate-slice" };
            }

            if (Math.Abs(gaps[k] - median) > Math.Max(0.01, 0.01 * median))
            {
                var kind = gaps[k] > median * 1.5 ? "a missing slice" : "non-uniform spacing";
                throw new QctInputException($"The {what} has {kind}: slices {k} and {k + 1} are {gaps[k].ToString("F3", CultureInfo.InvariantCulture)} mm apart, the series spacing is {median.ToString("F3", CultureInfo.InvariantCulture)} mm.") { Code = gaps[k] > median * 1.5 ? "missing-slice" : "non-uniform-spacing" };
            }
        }

        return gaps.Average();
    }

    private sealed record Slice(DicomFile File, DicomPixelData Pixels, string SeriesUid, string? FrameOfReferenceUid, Vec3 Position, Vec3 RowDirection, Vec3 ColumnDirection, int Rows, int Columns, double RowSpacing, double ColumnSpacing, double? Thickness, double GantryTilt)
    {
        public static Slice From(DicomFile file, string what)
        {
            var ds = file.Dataset;
            try
            {
                var ipp = ds.GetValues<double>(DicomTag.ImagePositionPatient);
                var iop = ds.GetValues<double>(DicomTag.ImageOrientationPatient);
                var spacing = ds.GetValues<double>(DicomTag.PixelSpacing);
                if (ipp.Length != 3 || iop.Length != 6 || spacing.Length != 2 || spacing[0] <= 0 || spacing[1] <= 0)
                {
                    throw new QctInputException($"A slice of the {what} has malformed Image Position/Orientation (Patient) or Pixel Spacing.") { Code = "geometry" };
                }

                var row = new Vec3(iop[0], iop[1], iop[2]);
                var col = new Vec3(iop[3], iop[4], iop[5]);
                if (Math.Abs(row.Length - 1) > 1e-3 || Math.Abs(col.Length - 1) > 1e-3 || Math.Abs(row.Dot(col)) > 1e-3)
                {
                    throw new QctInputException($"Image Orientation (Patient) of the {what} is not two orthonormal directions.") { Code = "geometry" };
                }

                var pixels = DicomPixelData.Create(ds);
                return new Slice(
                    file,
                    pixels,
                    ds.GetSingleValue<string>(DicomTag.SeriesInstanceUID),
                    ds.GetSingleValueOrDefault<string?>(DicomTag.FrameOfReferenceUID, null),
                    new Vec3(ipp[0], ipp[1], ipp[2]),
                    row.Normalized(),
                    col.Normalized(),
                    pixels.Rows,
                    pixels.Columns,
                    spacing[0],
                    spacing[1],
                    ds.TryGetSingleValue<double>(DicomTag.SliceThickness, out var t) ? t : null,
                    ds.GetSingleValueOrDefault(DicomTag.GantryDetectorTilt, 0.0));
            }
            catch (DicomDataException ex)
            {
                throw new QctInputException($"A slice of the {what} lacks a required attribute: {ex.Message}", ex) { Code = "missing-attribute" };
            }
        }
    }
}
