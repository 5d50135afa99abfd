using System.Globalization;
using HomaBone.Qct.Calibration;
using HomaBone.Qct.Dicom;
using HomaBone.Qct.Measures;
using HomaBone.Qct.Series;

namespace HomaBone.Qct;

/// <summary>
/// The library entry point: a CT series with its calibration phantom, plus an aligned label series
/// (0 background, 1 femoral neck, 2 trochanter, 3 intertrochanter, ≥ 4 other bone), to calibrated regional measures.
/// Deterministic: the result does not depend on file order or Instance Numbers.
/// </summary>
public static class QctAnalyzer
{
    /// <summary>Analyses files held in memory.</summary>
    /// <exception cref="DicomFormatException">A file is malformed.</exception>
    /// <exception cref="DicomUnsupportedTransferSyntaxException">A file is compressed.</exception>
    /// <exception cref="QctInputException">The series, labels or calibration cannot be used.</exception>
    public static QctResult Analyze(IReadOnlyList<byte[]> ctFiles, IReadOnlyList<byte[]> labelFiles, QctOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ctFiles);
        ArgumentNullException.ThrowIfNull(labelFiles);
        options ??= new QctOptions();
        var read = options.ReadOptions;
        return Analyze([.. ctFiles.Select(b => DicomFile.Open(b, read))], [.. labelFiles.Select(b => DicomFile.Open(b, read))], options);
    }

    /// <summary>Analyses streams (each read to its end, within <see cref="DicomReadOptions.MaxTotalSize"/>).</summary>
    /// <exception cref="DicomFormatException">A file is malformed.</exception>
    /// <exception cref="DicomUnsupportedTransferSyntaxException">A file is compressed.</exception>
    /// <exception cref="QctInputException">The series, labels or calibration cannot be used.</exception>
    public static QctResult Analyze(IReadOnlyList<Stream> ctFiles, IReadOnlyList<Stream> labelFiles, QctOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ctFiles);
        ArgumentNullException.ThrowIfNull(labelFiles);
        options ??= new QctOptions();
        var read = options.ReadOptions;
        return Analyze([.. ctFiles.Select(s => DicomFile.Open(s, read))], [.. labelFiles.Select(s => DicomFile.Open(s, read))], options);
    }

    /// <summary>Analyses files on disk.</summary>
    /// <exception cref="DicomFormatException">A file is malformed.</exception>
    /// <exception cref="DicomUnsupportedTransferSyntaxException">A file is compressed.</exception>
    /// <exception cref="QctInputException">The series, labels or calibration cannot be used.</exception>
    public static QctResult AnalyzeFiles(IReadOnlyList<string> ctPaths, IReadOnlyList<string> labelPaths, QctOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ctPaths);
        ArgumentNullException.ThrowIfNull(labelPaths);
        options ??= new QctOptions();
        var read = options.ReadOptions;
        return Analyze([.. ctPaths.Select(p => DicomFile.Open(p, read))], [.. labelPaths.Select(p => DicomFile.Open(p, read))], options);
    }

    /// <summary>Analyses parsed files.</summary>
    /// <exception cref="QctInputException">The series, labels or calibration cannot be used.</exception>
    public static QctResult Analyze(IReadOnlyList<DicomFile> ctFiles, IReadOnlyList<DicomFile> labelFiles, QctOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(ctFiles);
        ArgumentNullException.ThrowIfNull(labelFiles);
        options ??= new QctOptions();
        var t = System.Diagnostics.Stopwatch.GetTimestamp();
        // The HU and label volumes are in reused arrays (VolumeBuffers), handed back when the analysis ends: nothing
        // after it refers to them (the region analyser works on its own crop).
        var ct = CtSeriesLoader.LoadCtPooled(ctFiles);
        try
        {
            return Analyze(ct, labelFiles, options, t);
        }
        finally
        {
            VolumeBuffers.Return(ct.Volume.Values);
        }
    }

    private static QctResult Analyze(CtSeries ct, IReadOnlyList<DicomFile> labelFiles, QctOptions options, long t)
    {
        var warnings = new List<QctWarning>();
        QctTiming.Mark("load-ct", ref t);
        if (ct.Info.LossyCompressed)
        {
            if (!options.AllowLossy)
            {
                throw new QctInputException("The CT series is flagged as lossy-compressed (Lossy Image Compression = 01 or a lossy transfer syntax); lossy images are never acceptable for quantitative CT. Send the original images.") { Code = "lossy" };
            }

            warnings.Add(new QctWarning("protocol-lossy", "Lossy-compressed images were accepted on request; densities may be biased."));
        }

        ProtocolChecks(ct.Info, options, warnings);

        // The label series, the crop to the labelled bone and its shells and depth maps need no calibration: they are
        // prepared on another thread while the rods are found and fitted (only the padding mask of the HU volume is
        // read). Calibration errors still come first; the label work is waited for either way.
        var labelWarnings = new List<QctWarning>();
        var regionsReady = Task.Run(() =>
        {
            var tl = System.Diagnostics.Stopwatch.GetTimestamp();
            var labels = LoadAlignedLabels(ct, labelFiles, labelWarnings);
            QctTiming.Mark("load-labels", ref tl);
            try
            {
                return RegionAnalyzer.ForHu(ct.Volume.Geometry, ct.Volume.Values, labels, options.CorticalThresholdMgPerCm3);
            }
            finally
            {
                VolumeBuffers.Return(labels);
            }
        });
        CalibrationFit calibration;
        try
        {
            calibration = Calibrate(ct.Volume, options, warnings);
        }
        catch
        {
            try
            {
                regionsReady.Wait();
            }
            catch (AggregateException)
            {
                // The calibration's error is the one reported, as when the labels were read after it.
            }

            throw;
        }

        QctTiming.Mark("calibrate", ref t);
        var qualityWarning = CalibrationQuality.Check(calibration);
        if (qualityWarning is not null)
        {
            warnings.Add(qualityWarning);
        }

        var analyzer = regionsReady.GetAwaiter().GetResult();
        warnings.AddRange(labelWarnings);
        QctTiming.Mark("labels-shells-wait", ref t);
        analyzer.Calibrate(calibration);
        QctTiming.Mark("region-setup", ref t);
        // The region measures and the neck's geometry are computed concurrently; the neck's last formulas wait for the
        // neck region's corrected BMC and cortical volume. No neck voxels: no neck region and no neck geometry.
        var regionMeasures = Task.Run(analyzer.MeasureRegions);
        var neck = analyzer.MeasureNeck(options.NeckAxis, () =>
        {
            var measured = regionMeasures.GetAwaiter().GetResult().First(r => r.Region == "neck");
            return (measured.IntegralCorrected.BmcMg, measured.CorticalCorrected.VolumeCm3);
        }, warnings);
        var regions = regionMeasures.GetAwaiter().GetResult();
        var neckRegion = regions.FirstOrDefault(r => r.Region == "neck");
        QctTiming.Mark("regions-neck", ref t);
        if (neckRegion is null)
        {
            warnings.Add(new QctWarning("no-neck", "The label series has no femoral neck (label 1): projected, HSA and study indices are not computed."));
        }

        var study = StudyIndicesOf(neckRegion, neck, options.BodyWeightKg ?? ct.Info.PatientWeightKg, warnings);
        return new QctResult
        {
            Series = ct.Info,
            Calibration = calibration,
            Regions = regions,
            Neck = neck,
            Study = study,
            BackgroundDensityMgPerCm3 = analyzer.BackgroundDensity,
            DilationMm = analyzer.DilationMm,
            Warnings = warnings,
        };
    }

    private static void ProtocolChecks(CtSeriesInfo info, QctOptions options, List<QctWarning> warnings)
    {
        static string F(double? v) => v?.ToString("0.###", CultureInfo.InvariantCulture) ?? "missing";
        if (info.Kvp is not { } kvp || Math.Abs(kvp - options.ExpectedKvp) > 0.5)
        {
            warnings.Add(new QctWarning("protocol-kvp", $"KVP is {F(info.Kvp)}; the protocol uses {F(options.ExpectedKvp)} kVp and phantom calibration depends on it."));
        }

        if (info.ExposureMas is not { } mas || Math.Abs(mas - options.ExpectedExposureMas) > 0.25 * options.ExpectedExposureMas)
        {
            warnings.Add(new QctWarning("protocol-mas", $"Exposure is {F(info.ExposureMas)} mAs; the protocol uses {F(options.ExpectedExposureMas)} mAs."));
        }

        if (info.SliceThicknessMm is not { } thickness || thickness > options.MaxSliceThicknessMm + 1e-6)
        {
            warnings.Add(new QctWarning("protocol-slice-thickness", $"Slice thickness is {F(info.SliceThicknessMm)} mm; at most {F(options.MaxSliceThicknessMm)} mm is expected (partial volume grows with thickness)."));
        }

        if (info.PatientWeightKg is null && options.BodyWeightKg is null)
        {
            warnings.Add(new QctWarning("missing-weight", "Patient's Weight (0010,1030) is missing: CSI is not computable."));
        }
    }

    private static CalibrationFit Calibrate(CtVolume hu, QctOptions options, List<QctWarning> warnings)
    {
        if (options.Phantom == PhantomKind.SolidHydroxyapatite)
        {
            var densities = options.SolidRodDensities ?? throw new QctInputException("A solid phantom needs its rod densities (QctOptions.SolidRodDensities).") { Code = "certificate-missing" };
            var solidRods = densities.Select(d => new PhantomRod(d, 0)).ToList();
            return FitBestOrder(hu, options, solidRods, (means, rods) =>
                SolidPhantomCalibration.Fit(means, [.. rods.Select(r => r.DensityMgPerCm3)], options.PhantomSerial ?? "solid"));
        }

        IReadOnlyList<PhantomRod> certificateRods;
        string certificate;
        if (options.PhantomSerial is { } serial && options.Certificates.TryGetValue(serial, out var found))
        {
            certificateRods = found;
            certificate = serial;
        }
        else
        {
            certificateRods = MindwaysCalibration.Model3Published;
            certificate = "Model 3 published";
            warnings.Add(new QctWarning("certificate-default", options.PhantomSerial is null
                ? "No phantom serial given: the published Mindways Model 3 certificate values were used."
                : $"No certificate for phantom serial '{options.PhantomSerial}': the published Mindways Model 3 certificate values were used."));
        }

        return FitBestOrder(hu, options, certificateRods, (means, rods) => MindwaysCalibration.Fit(means, rods, certificate));
    }

    /// <summary>
    /// Measures the rods and fits. Given locations are in certificate order; automatically found rods are ordered along
    /// their row, whose direction is ambiguous, so both orders are fitted and the better R² kept.
    /// </summary>
    private static CalibrationFit FitBestOrder(CtVolume hu, QctOptions options, IReadOnlyList<PhantomRod> certificateRods, Func<IReadOnlyList<double>, IReadOnlyList<PhantomRod>, CalibrationFit> fit)
    {
        var given = options.RodLocations is not null;
        var locations = options.RodLocations ?? RodFinder.Find(hu, certificateRods.Count);
        if (locations.Count != certificateRods.Count)
        {
            throw new QctInputException($"{locations.Count} rod locations given for a certificate of {certificateRods.Count} rods.") { Code = "rods-mismatch" };
        }

        var measured = locations.Select(l => RodFinder.MeasureMeanHu(hu, l, options.RodErosionMm)).ToList();
        var means = measured.Select(m => m.MeanHu).ToList();
        IReadOnlyList<PhantomRod> order = certificateRods;
        var best = fit(means, order);
        if (!given)
        {
            IReadOnlyList<PhantomRod> reversed = [.. certificateRods.Reverse()];
            var backward = fit(means, reversed);
            if (backward.RSquared > best.RSquared)
            {
                best = backward;
                order = reversed;
            }
        }

        var rodsUsed = measured.Select((m, i) => new RodMeasurement(order[i], m.MeanHu, m.VoxelCount, locations[i].Center, locations[i].RadiusMm)).ToList();
        return best with { Rods = rodsUsed };
    }

    private static byte[] LoadAlignedLabels(CtSeries ct, IReadOnlyList<DicomFile> labelFiles, List<QctWarning> warnings)
    {
        var (_, _, labels) = CtSeriesLoader.LoadLabelBytes(labelFiles, (info, b) =>
        {
            var a = ct.Volume.Geometry;
            var aligned = a.SizeX == b.SizeX && a.SizeY == b.SizeY && a.SizeZ == b.SizeZ
                && Math.Abs(a.SpacingX - b.SpacingX) < 1e-3 && Math.Abs(a.SpacingY - b.SpacingY) < 1e-3 && Math.Abs(a.SpacingZ - b.SpacingZ) < 1e-3
                && (a.RowDirection - b.RowDirection).Length < 1e-4 && (a.ColumnDirection - b.ColumnDirection).Length < 1e-4
                && (a.Origin - b.Origin).Length < 0.01;
            if (!aligned)
            {
                throw new QctInputException("The label series does not have the CT series' geometry (matrix, spacing, orientation, slice positions); resample the labels onto the CT grid.") { Code = "labels-not-aligned" };
            }

            if (info.FrameOfReferenceUid != ct.Info.FrameOfReferenceUid)
            {
                warnings.Add(new QctWarning("labels-frame-of-reference", "The label series has a different Frame of Reference UID; its geometry matches the CT, so it was used."));
            }
        });
        return labels;
    }

    private static StudyIndices StudyIndicesOf(RegionMeasures? neckRegion, NeckGeometry? neck, double? weightKg, List<QctWarning> warnings)
    {
        if (neckRegion is null || neck is null)
        {
            return new StudyIndices { BodyWeightKg = weightKg };
        }

        // Threshold (raw) cortical values, as the study's software reported them; PV-corrected variants are in the regions.
        var corticalGPerCm3 = neckRegion.Cortical.VbmdMgPerCm3 / 1000.0;
        double? area = double.IsFinite(corticalGPerCm3) && corticalGPerCm3 > 0 ? neck.ArealBmdGPerCm2 * neck.NeckWidthCm / corticalGPerCm3 : null;
        double? z = area is null ? null : neck.ArealBmdGPerCm2 * neck.NeckWidthCm * neck.NeckWidthCm / corticalGPerCm3;
        double? csi = area is { } a && weightKg is > 0 ? a * 1e-4 / (weightKg.Value * 9.8) : null;
        if (area is null)
        {
            warnings.Add(new QctWarning("study-indices-not-computable", "Neck cortical vBMD is not positive: the study's A, CSI and Z are not computable."));
        }

        var vCort = neckRegion.Cortical.VolumeCm3;
        return new StudyIndices
        {
            AreaCm2 = area,
            CsiM2PerN = csi,
            ZCm3 = z,
            BucklingRatio = vCort > 0 ? neckRegion.Integral.VolumeCm3 / vCort : null,
            BodyWeightKg = weightKg,
        };
    }
}
