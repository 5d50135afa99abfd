using HomaBone.Qct.Calibration;
using HomaBone.Qct.Dicom;
using HomaBone.Qct.Series;

namespace HomaBone.Qct.Tests.Phantom;

/// <summary>Order independence and the negative cases of docs/qct.md on the 3-mm digital phantom.</summary>
[Collection(PhantomGroup.Name)]
public sealed class PhantomSeriesTests(PhantomFixture phantom)
{
    private string Ct => Path.Combine(phantom.ThreeMm, "ct");

    private string Labels => Path.Combine(phantom.ThreeMm, "labels");

    [Fact]
    public void Analyze_ShuffledFilesAndReversedInstanceNumbers_IdenticalResults()
    {
        var labels = PhantomFixture.Files(Labels);
        var reference = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Ct), labels);
        var random = new Random(42);
        var shuffled = PhantomFixture.Files(Ct).OrderBy(_ => random.Next()).ToArray();
        var reversed = PhantomFixture.Files(Path.Combine(phantom.ThreeMm, "ct_rev")).OrderBy(_ => random.Next()).ToArray();
        var shuffledLabels = labels.OrderBy(_ => random.Next()).ToArray();
        Assert.NotEqual(PhantomFixture.Files(Ct), shuffled);

        var a = QctAnalyzer.AnalyzeFiles(shuffled, shuffledLabels);
        var b = QctAnalyzer.AnalyzeFiles(reversed, labels);
        Assert.Equal(reference.ToMeasures(), a.ToMeasures());
        Assert.Equal(reference.ToMeasures(), b.ToMeasures());
        Assert.True(reference.ToMeasures().Count > 60);
    }

    [Fact]
    public void LoadCt_SortsByPositionNotInstanceNumber_AndReadsRowColumnSpacing()
    {
        var files = PhantomFixture.Files(Path.Combine(phantom.ThreeMm, "ct_rev")).Select(p => DicomFile.Open(p)).ToList();
        var series = CtSeriesLoader.LoadCt(files);
        var g = series.Volume.Geometry;
        Assert.Equal(160, g.SizeX);
        Assert.Equal(150, g.SizeY);
        Assert.Equal(0.75, g.SpacingX, 12);
        Assert.Equal(0.8, g.SpacingY, 12);
        Assert.Equal(3.0, g.SpacingZ, 9);
        Assert.Equal(-48.0, g.Origin.Z, 9);
        Assert.Equal(56.0, series.Info.PatientWeightKg);
    }

    [Fact]
    public void Analyze_MissingSlice_Refused()
    {
        var files = PhantomFixture.Files(Ct).Select(p => DicomFile.Open(p)).OrderBy(f => f.Dataset.GetValues<double>(DicomTag.ImagePositionPatient)[2]).ToList();
        files.RemoveAt(files.Count / 2);
        var ex = Assert.Throws<QctInputException>(() => CtSeriesLoader.LoadCt(files));
        Assert.Equal("missing-slice", ex.Code);
    }

    [Fact]
    public void Analyze_TwoSeriesMixed_Refused()
    {
        var files = PhantomFixture.Files(Ct).Select(p => DicomFile.Open(p)).ToList();
        files.Add(DicomFile.Open(PhantomFixture.Files(Path.Combine(phantom.ThreeMm, "ct_noweight"))[0]));
        var ex = Assert.Throws<QctInputException>(() => CtSeriesLoader.LoadCt(files));
        Assert.Equal("mixed-series", ex.Code);
    }

    [Fact]
    public void Analyze_SecondaryCapture_Refused()
    {
        var ex = Assert.Throws<QctInputException>(() => QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Labels), PhantomFixture.Files(Labels)));
        Assert.Equal("secondary-capture", ex.Code);
    }

    [Fact]
    public void Analyze_NonCtModality_Refused()
    {
        var ex = Assert.Throws<QctInputException>(() => QctAnalyzer.AnalyzeFiles([Path.Combine(phantom.ThreeMm, "neg", "mr.dcm")], PhantomFixture.Files(Labels)));
        Assert.Equal("not-ct", ex.Code);
    }

    [Fact]
    public void Analyze_CompressedSeries_RefusedNamingSyntax()
    {
        var files = PhantomFixture.Files(Ct).Append(Path.Combine(phantom.ThreeMm, "neg", "compressed.dcm")).ToArray();
        var ex = Assert.Throws<DicomUnsupportedTransferSyntaxException>(() => QctAnalyzer.AnalyzeFiles(files, PhantomFixture.Files(Labels)));
        Assert.Contains("1.2.840.10008.1.2.4.", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Analyze_MissingWeight_CsiNotComputableNeverZero()
    {
        var result = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Path.Combine(phantom.ThreeMm, "ct_noweight")), PhantomFixture.Files(Labels));
        Assert.Null(result.Series.PatientWeightKg);
        Assert.Null(result.Study.CsiM2PerN);
        Assert.NotNull(result.Study.ZCm3);
        Assert.Contains(result.Warnings, w => w.Code == "missing-weight");
        Assert.Contains(result.ToMeasures(), m => m.Key == "study.csi" && m.Value is null);

        var withWeight = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Path.Combine(phantom.ThreeMm, "ct_noweight")), PhantomFixture.Files(Labels), new QctOptions { BodyWeightKg = 56 });
        Assert.True(withWeight.Study.CsiM2PerN > 0);
    }

    [Fact]
    public void Analyze_LabelsNotAligned_Refused()
    {
        var labels = PhantomFixture.Files(Labels).Select(p => DicomFile.Open(p)).OrderBy(f => f.Dataset.GetValues<double>(DicomTag.ImagePositionPatient)[2]).Skip(1).ToList();
        var ct = PhantomFixture.Files(Ct).Select(p => DicomFile.Open(p)).ToList();
        var ex = Assert.Throws<QctInputException>(() => QctAnalyzer.Analyze(ct, labels));
        Assert.Equal("labels-not-aligned", ex.Code);
    }

    [Fact]
    public void Analyze_GivenRodsAndAxis_AgreeWithAutomatic()
    {
        var auto = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Ct), PhantomFixture.Files(Labels));
        // Rods as placed by the phantom script (x = −36 … 36 mm, y = 39 mm, radius 6 mm), in certificate order.
        var rods = new[] { -36.0, -18.0, 0.0, 18.0, 36.0 }.Select(x => new RodLocation(new Vec3(x, 39, 0), 6)).ToList();
        var tilt = 50 * Math.PI / 180;
        var axis = new Vec3(Math.Sin(tilt), 0, Math.Cos(tilt));
        var center = new Vec3(0, -5, 0);
        var given = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Ct), PhantomFixture.Files(Labels), new QctOptions
        {
            RodLocations = rods,
            NeckAxis = new NeckAxis(center - (axis * 35), center - (axis * 10)),
            PhantomSerial = "PH-1",
            Certificates = new Dictionary<string, IReadOnlyList<PhantomRod>> { ["PH-1"] = MindwaysCalibration.Model3Published },
        });
        Assert.Equal(auto.Calibration.SigmaCt, given.Calibration.SigmaCt, 0.002);
        Assert.Equal(auto.Calibration.BetaCt, given.Calibration.BetaCt, 0.5);
        Assert.False(given.Neck!.AxisEstimated);
        Assert.Equal(auto.Neck!.CsmiCm4, given.Neck.CsmiCm4, 0.02);
        Assert.DoesNotContain(given.Warnings, w => w.Code is "certificate-default" or "axis-estimated");
        Assert.Equal(rods.Count, auto.Calibration.Rods.Count);
    }

    [Fact]
    public void Analyze_LossyFlag_RefusedUnlessAllowed_ThenProtocolWarnings()
    {
        var lossy = PhantomFixture.Files(Path.Combine(phantom.ThreeMm, "ct_lossy"));
        var ex = Assert.Throws<QctInputException>(() => QctAnalyzer.AnalyzeFiles(lossy, PhantomFixture.Files(Labels)));
        Assert.Equal("lossy", ex.Code);
        var result = QctAnalyzer.AnalyzeFiles(lossy, PhantomFixture.Files(Labels), new QctOptions { AllowLossy = true });
        Assert.True(result.Series.LossyCompressed);
        Assert.Contains(result.Warnings, w => w.Code == "protocol-lossy");
        Assert.Contains(result.Warnings, w => w.Code == "protocol-kvp");
        Assert.Contains(result.Warnings, w => w.Code == "protocol-mas");
    }

    [Fact]
    public void Analyze_SolidPhantomPath_PlainLinearFitRecoversTrueCalibration()
    {
        // Treat the rods as a solid phantom whose certified densities are their true bone-equivalent densities,
        // (HU_rod − β_CT)/σ_CT with HU_rod = water + σ_ref·K + β_ref (the phantom script's model, σ_CT 1.25, β_CT −10):
        // the plain fit ρ = m·HU + b must then give m = 1/1.25 and b = 10/1.25.
        const double SigmaCt = 1.25, BetaCt = -10;
        var densities = MindwaysCalibration.Model3Published
            .Select(r => (r.WaterMgPerCm3 + ((SigmaCt + MindwaysCalibration.SigmaOffset) * r.DensityMgPerCm3) + BetaCt - MindwaysCalibration.BetaOffset - BetaCt) / SigmaCt)
            .ToList();
        var result = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Ct), PhantomFixture.Files(Labels), new QctOptions
        {
            Phantom = PhantomKind.SolidHydroxyapatite,
            SolidRodDensities = densities,
        });
        Assert.Equal(PhantomKind.SolidHydroxyapatite, result.Calibration.Kind);
        Assert.InRange(result.Calibration.Slope / (1 / SigmaCt), 0.998, 1.002);
        Assert.InRange(result.Calibration.Intercept - (-BetaCt / SigmaCt), -0.4, 0.4);
        Assert.True(double.IsNaN(result.Calibration.SigmaCt));
    }

    [Fact]
    public void Analyze_ProtocolAsScanned_NoProtocolWarnings()
    {
        var asScanned = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Ct), PhantomFixture.Files(Labels));
        Assert.DoesNotContain(asScanned.Warnings, w => w.Code.StartsWith("protocol-", StringComparison.Ordinal));
        var result = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Ct), PhantomFixture.Files(Labels), new QctOptions { ExpectedKvp = 140, MaxSliceThicknessMm = 1 });
        Assert.Contains(result.Warnings, w => w.Code == "protocol-kvp");
        Assert.Contains(result.Warnings, w => w.Code == "protocol-slice-thickness");
        Assert.DoesNotContain(result.Warnings, w => w.Code == "protocol-mas");
    }
}
