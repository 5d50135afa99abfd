using HomaBone.Qct.Calibration;
using HomaBone.Qct.Measures;
using HomaBone.Qct.Series;

namespace HomaBone.Qct.Tests.Measures;

/// <summary>Noise- and blur-free synthetic volumes whose answers are textbook formulas.</summary>
public sealed class SyntheticVolumeTests
{
    [Fact]
    public void MeasureNeck_UniformSolidCylinder_MatchesClosedFormAndFindsAxis()
    {
        // Solid cylinder along x, R = 15 mm, length 25 mm, 500 mg/cm³ in a 0 mg/cm³ background, 0.5-mm voxels.
        // Closed forms: V = πR²ℓ = 17.671 cm³, BMC = 500·V = 8835.7 mg, FNW = 3.0 cm,
        // CSA = ρ·πR²/ρ_m = 0.5·π·1.5²/1.05 = 3.3660 cm², CSMI = ρ·πR⁴/4/ρ_m = 0.5·π·1.5⁴/4/1.05 = 1.8934 cm⁴, Z = CSMI/R.
        var g = new VolumeGeometry(80, 100, 100, new Vec3(-19.75, -24.75, -24.75), new Vec3(1, 0, 0), new Vec3(0, 1, 0), 0.5, 0.5, 0.5);
        var density = new float[g.Count];
        var labels = new byte[g.Count];
        for (var k = 0; k < g.SizeZ; k++)
        {
            for (var j = 0; j < g.SizeY; j++)
            {
                for (var i = 0; i < g.SizeX; i++)
                {
                    var p = g.Position(i, j, k);
                    if (Math.Abs(p.X) < 12.5 && (p.Y * p.Y) + (p.Z * p.Z) < 225)
                    {
                        density[g.Index(i, j, k)] = 500;
                        labels[g.Index(i, j, k)] = 1;
                    }
                }
            }
        }

        var analyzer = new RegionAnalyzer(g, density, labels, 350);
        var regions = analyzer.MeasureRegions();
        var neck = regions.Single(r => r.Region == "neck");
        Assert.Equal(17.671, neck.Integral.VolumeCm3, 0.1);
        Assert.InRange(neck.IntegralCorrected.BmcMg / 8835.7, 0.99, 1.01);
        Assert.Equal(500, neck.Cortical.VbmdMgPerCm3, 1e-3);
        Assert.Equal(0, analyzer.BackgroundDensity);

        var warnings = new List<QctWarning>();
        var geometry = analyzer.MeasureNeck(null, neck.IntegralCorrected.BmcMg, neck.CorticalCorrected.VolumeCm3, warnings)!;
        Assert.True(Math.Abs(geometry.Axis.X) > 0.999, $"axis {geometry.Axis}");
        Assert.Contains(warnings, w => w.Code == "axis-estimated");
        Assert.InRange(geometry.NeckWidthCm, 3.0 - 0.05, 3.0 + 0.05);
        Assert.InRange(geometry.CsaCm2 / 3.3660, 0.99, 1.01);
        Assert.InRange(geometry.CsmiCm4 / 1.8934, 0.98, 1.02);
        Assert.InRange(geometry.SectionModulusCm3 / (1.8934 / 1.5), 0.98, 1.02);
        Assert.InRange(geometry.ArealBmdGPerCm2 / (8.8357 / (3.0 * 2.5)), 0.98, 1.02);
    }

    [Fact]
    public void RodFinder_ExtraBlobOffTheRow_PicksTheCollinearFiveInOrder()
    {
        // Five rods of radius 5 mm in a row at y = 20 (x = −40 … 40) and a sixth disc off the row, all constant along z.
        var g = new VolumeGeometry(120, 80, 6, new Vec3(-59.5, -39.5, 0), new Vec3(1, 0, 0), new Vec3(0, 1, 0), 1, 1, 2);
        var hu = new float[g.Count];
        (double X, double Y, float Hu)[] discs = [(-40, 20, 100), (-20, 20, 200), (0, 20, -60), (20, 20, 400), (40, 20, 300), (0, -20, 500)];
        for (var k = 0; k < g.SizeZ; k++)
        {
            for (var j = 0; j < g.SizeY; j++)
            {
                for (var i = 0; i < g.SizeX; i++)
                {
                    var p = g.Position(i, j, k);
                    foreach (var d in discs)
                    {
                        if (((p.X - d.X) * (p.X - d.X)) + ((p.Y - d.Y) * (p.Y - d.Y)) <= 25)
                        {
                            hu[g.Index(i, j, k)] = d.Hu;
                        }
                    }
                }
            }
        }

        var volume = new CtVolume(g, hu);
        var rods = RodFinder.Find(volume, 5);
        Assert.Equal([-40.0, -20, 0, 20, 40], rods.Select(r => Math.Round(r.Center.X, 1)));
        Assert.All(rods, r => Assert.Equal(20, r.Center.Y, 0.1));
        Assert.All(rods, r => Assert.InRange(r.RadiusMm, 4.5, 5.5));
        Assert.Equal(300, RodFinder.MeasureMeanHu(volume, rods[4]).MeanHu, 1e-6);

        var ex = Assert.Throws<QctInputException>(() => RodFinder.Find(volume, 7));
        Assert.Equal("rods-not-found", ex.Code);
    }
}
