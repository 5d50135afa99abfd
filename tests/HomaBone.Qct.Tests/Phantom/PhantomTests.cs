using System.Globalization;
using System.Text.Json;
using HomaBone.Qct.Dicom;
using Xunit.Abstractions;

namespace HomaBone.Qct.Tests.Phantom;

/// <summary>
/// Oracle: the closed-form values of the digital phantom (docs/qct.md "A digital phantom whose answers are known in
/// closed form"), computed by Scripts/make_phantom.py from its geometry; tolerances are qct.md's.
/// </summary>
[Collection(PhantomGroup.Name)]
public sealed class PhantomTests(PhantomFixture phantom, ITestOutputHelper output)
{
    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Analyze_DigitalPhantom_MeasuresWithinQctTolerances(double sliceMm)
    {
        var dir = phantom.Dir(sliceMm);
        using var truth = PhantomFixture.Truth(dir);
        var t = truth.RootElement;
        var result = QctAnalyzer.AnalyzeFiles(PhantomFixture.Files(Path.Combine(dir, "ct")), PhantomFixture.Files(Path.Combine(dir, "labels")));
        Report(result, t);

        var fit = result.Calibration;
        Assert.InRange(fit.SigmaCt / t.GetProperty("sigma_ct").GetDouble(), 0.998, 1.002);
        Assert.InRange(fit.BetaCt - t.GetProperty("beta_ct").GetDouble(), -0.5, 0.5);

        var total = result.Region("total")!;
        Assert.InRange(total.IntegralCorrected.BmcMg / t.GetProperty("total_bmc_mg").GetDouble(), 0.995, 1.005);

        var regionTolerance = sliceMm > 2 ? 0.02 : 0.01;
        foreach (var name in new[] { "neck", "trochanter", "intertrochanter" })
        {
            var expected = t.GetProperty("regions").GetProperty(name).GetProperty("bmc_mg").GetDouble();
            var actual = result.Region(name)!.IntegralCorrected.BmcMg;
            Assert.True(Math.Abs(actual / expected - 1) <= regionTolerance, $"{name} BMC {actual:F1} vs {expected:F1}");
        }

        var neckTruth = t.GetProperty("regions").GetProperty("neck");
        var neck = result.Neck!;
        var voxelCm = Math.Max(t.GetProperty("row_spacing").GetDouble(), t.GetProperty("col_spacing").GetDouble()) / 10;
        Assert.InRange(neck.NeckWidthCm - neckTruth.GetProperty("fnw_cm").GetDouble(), -voxelCm, voxelCm);
        var shapeTolerance = sliceMm > 2 ? 0.06 : 0.02;
        Assert.InRange(neck.CsmiCm4 / neckTruth.GetProperty("csmi_cm4").GetDouble(), 1 - shapeTolerance, 1 + shapeTolerance);
        Assert.InRange(neck.SectionModulusCm3 / neckTruth.GetProperty("z_cm3").GetDouble(), 1 - shapeTolerance, 1 + shapeTolerance);

        // Not in qct.md's list: the cortical depth from the unmixed cortical volume, within half a voxel at 1 mm and a
        // voxel at 3 mm of the true 1.8 mm.
        var depthTolerance = (sliceMm > 2 ? 1.0 : 0.5) * voxelCm;
        Assert.InRange(neck.CorticalDepthCm - neckTruth.GetProperty("cortical_thickness_cm").GetDouble(), -depthTolerance, depthTolerance);
    }

    private void Report(QctResult result, JsonElement t)
    {
        var c = CultureInfo.InvariantCulture;
        var fit = result.Calibration;
        output.WriteLine(string.Create(c, $"calibration sigma_CT {fit.SigmaCt:F5} (true {t.GetProperty("sigma_ct").GetDouble()}), beta_CT {fit.BetaCt:F3} (true {t.GetProperty("beta_ct").GetDouble()}), R2 {fit.RSquared:F6}, background {result.BackgroundDensityMgPerCm3:F2} mg/cm3, dilation {result.DilationMm:F1} mm"));
        foreach (var r in result.Regions)
        {
            var exists = t.GetProperty("regions").TryGetProperty(r.Region, out var tr);
            var bmcTrue = exists ? tr.GetProperty("bmc_mg").GetDouble() : t.GetProperty("total_bmc_mg").GetDouble();
            var line = string.Create(c, $"{r.Region}: V {r.Integral.VolumeCm3:F3} cm3, BMC raw {r.Integral.BmcMg:F1} ({(r.Integral.BmcMg / bmcTrue) - 1:P2}), BMC pvc {r.IntegralCorrected.BmcMg:F1} ({(r.IntegralCorrected.BmcMg / bmcTrue) - 1:P2}) true {bmcTrue:F1}");
            if (exists)
            {
                var vt = tr.GetProperty("volume_cm3").GetDouble();
                var vc = tr.GetProperty("cortical_volume_cm3").GetDouble();
                line += string.Create(c, $"; V true {vt:F3} ({(r.Integral.VolumeCm3 / vt) - 1:P2}); Vcort raw {r.Cortical.VolumeCm3:F3} ({(r.Cortical.VolumeCm3 / vc) - 1:P1}) pvc {r.CorticalCorrected.VolumeCm3:F3} ({(r.CorticalCorrected.VolumeCm3 / vc) - 1:P1}) true {vc:F3}; rho_c est {r.CorticalDensityEstimateMgPerCm3:F0} (true {tr.GetProperty("rho_c").GetDouble()}), rho_t est {r.TrabecularDensityEstimateMgPerCm3:F1} (true {tr.GetProperty("rho_t").GetDouble()}); vBMD raw {r.Integral.VbmdMgPerCm3:F1} pvc {r.IntegralCorrected.VbmdMgPerCm3:F1} true {bmcTrue / vt:F1}");
            }

            output.WriteLine(line);
        }

        if (result.Neck is { } n)
        {
            var nt = t.GetProperty("regions").GetProperty("neck");
            output.WriteLine(string.Create(c, $"neck: aBMD {n.ArealBmdGPerCm2:F4} (true {nt.GetProperty("abmd_g_cm2").GetDouble():F4}), FNW {n.NeckWidthCm:F3} (true {nt.GetProperty("fnw_cm").GetDouble():F3}), length {n.NeckLengthCm:F3} (true {nt.GetProperty("length_cm").GetDouble():F3}), CSA {n.CsaCm2:F4} (true {nt.GetProperty("csa_cm2").GetDouble():F4}), CSMI {n.CsmiCm4:F4} (true {nt.GetProperty("csmi_cm4").GetDouble():F4}), Z {n.SectionModulusCm3:F4} (true {nt.GetProperty("z_cm3").GetDouble():F4}), ECT {n.CorticalThicknessCm:F3}, cortical depth {n.CorticalDepthCm:F3} (true {nt.GetProperty("cortical_thickness_cm").GetDouble():F3}), BR {n.BucklingRatio:F2}"));
        }

        output.WriteLine(string.Create(c, $"study: A {result.Study.AreaCm2:F4} cm2, CSI {result.Study.CsiM2PerN:E3} m2/N, Z {result.Study.ZCm3:F4} cm3, BR {result.Study.BucklingRatio:F3}"));
        foreach (var w in result.Warnings)
        {
            output.WriteLine($"warning {w.Code}: {w.Message}");
        }
    }
}
