using HomaBone.Domain;

namespace HomaBone.Domain.Tests;

public class DerivationTests
{
    private static Participant Full() => EligibilityTests.Eligible() with
    {
        Anthropometry = new() { HeightCm = 160, WeightKg = 60 },
        Labs = new()
        {
            Glucose = new(90, LabUnit.MgPerDl),
            Insulin = new(9, LabUnit.MicroIuPerMl),
            Triglycerides = new(100, LabUnit.MgPerDl),
            Creatinine = new(0.7, LabUnit.MgPerDl),
            HsCrp = new(1.0, LabUnit.MgPerL),
        },
        PhysicalActivity = new()
        {
            VigorousDays = 0,
            ModerateDays = 0,
            WalkingDays = 7,
            WalkingMinutesPerDay = 30,
        },
        Qct = new()
        {
            FemoralNeck = new() { CorticalVbmdMgPerCm3 = 990, TotalVolumeCm3 = 7, CorticalVolumeCm3 = 2 },
            NeckGeometry = new() { ProjectedAbmdGPerCm2 = 0.68, NeckWidthCm = 2.96 },
        },
    };

    [Fact]
    public void Derive_FullRecord_EveryValueComputed()
    {
        var d = Derivations.Derive(Full() with { Demographics = Full().Demographics with { AgeYears = 57, AlcoholUnitsPerDay = 1 } });
        Assert.Equal(2.0, d.HomaIr.Value);
        Assert.Equal(Math.Log(2.0), d.LnHomaIr.Value!.Value, 15);
        Assert.Equal(90L * 90L, d.ExactHomaKey.Value);
        Assert.Equal(23.4375, d.BmiKgPerM2.Value!.Value, 12);
        Assert.Equal(96.18, d.EgfrCkdEpi2009.Value!.Value, 2);
        Assert.Equal(100.81, d.EgfrCkdEpi2021.Value!.Value, 2);
        Assert.Equal(693.0, d.IpaqMetMinPerWeek.Value!.Value, 10);
        Assert.Equal(IpaqCategory.MinimallyActive, d.IpaqCategory.Value);
        Assert.Equal(0.0, d.LnHsCrp.Value);
        Assert.Equal(3.5, d.BucklingRatio.Value);
        Assert.True(d.CsiMm2PerN.IsComputable);
        Assert.True(d.SectionModulusCm3.IsComputable);
        Assert.True(d.Quicki.IsComputable);
        Assert.True(d.TyG.IsComputable);
        Assert.True(d.AlcoholAtLeastOneUnitPerDay.Value);
    }

    [Fact]
    public void Derive_ZeroInsulin_HomaZeroButLogNotComputable()
    {
        var d = Derivations.Derive(Full() with { Labs = Full().Labs with { Insulin = new(0, LabUnit.MicroIuPerMl) } });
        Assert.Equal(0.0, d.HomaIr.Value);
        Assert.False(d.LnHomaIr.IsComputable);
        Assert.Contains("insulin 0", d.LnHomaIr.Reason, StringComparison.Ordinal);
        Assert.False(d.Quicki.IsComputable);
    }

    [Fact]
    public void Derive_EmptyRecord_NothingComputableAndReasonsGiven()
    {
        var d = Derivations.Derive(new Participant());
        foreach (var x in DoubleValues(d))
        {
            Assert.Null(x.Value);
            Assert.False(string.IsNullOrWhiteSpace(x.Reason));
        }

        Assert.False(d.IpaqCategory.IsComputable);
    }

    [Fact]
    public void Derive_ZeroCrp_NotComputableWithoutLodOption()
    {
        var p = Full() with { Labs = Full().Labs with { HsCrp = new(0, LabUnit.MgPerL) } };
        Assert.False(Derivations.Derive(p).LnHsCrp.IsComputable);
        var half = Derivations.Derive(p, new DerivationOptions { HsCrpLodSubstitution = LodSubstitution.HalfLod, HsCrpLodMgPerL = 0.2 });
        Assert.Equal(Math.Log(0.1), half.LnHsCrp.Value!.Value, 15);
        var sqrt2 = Derivations.Derive(p, new DerivationOptions { HsCrpLodSubstitution = LodSubstitution.LodOverSqrt2, HsCrpLodMgPerL = 0.2 });
        Assert.Equal(Math.Log(0.2 / Math.Sqrt(2)), sqrt2.LnHsCrp.Value!.Value, 15);
    }

    [Fact]
    public void Derive_StataFloatOption_RoundsToSingle()
    {
        var p = Full() with { Labs = Full().Labs with { Glucose = new(97, LabUnit.MgPerDl), Insulin = new(4.3, LabUnit.MicroIuPerMl) } };
        var d = Derivations.Derive(p, new DerivationOptions { EmulateStataFloatHoma = true });
        Assert.Equal((double)(float)(97 * 4.3 / 405.0), d.HomaIr.Value);
    }

    [Fact]
    public void Derive_UnacceptedUnit_TreatedAsMissing() =>
        Assert.False(Derivations.Derive(Full() with { Labs = Full().Labs with { Glucose = new(90, LabUnit.NgPerMl) } }).HomaIr.IsComputable);

    // Property: the derived values do not depend on the unit an input arrived in (seeded, 500 random records).
    [Fact]
    public void Derive_SameValuesInAlternativeUnits_EqualWithin1e12Relative()
    {
        var rng = new Random(20181);
        var units = new UnitConversionOptions { InsulinPmolPerMicroIu = 6.0 };
        for (var n = 0; n < 500; n++)
        {
            double glucose = rng.Next(60, 140);
            var insulin = rng.Next(10, 400) / 10.0;
            var tg = 40 + (rng.NextDouble() * 300);
            var creatinine = 0.4 + rng.NextDouble();
            var crp = 0.05 + (rng.NextDouble() * 5);
            var vitD = 5 + (rng.NextDouble() * 40);
            var hba1c = 4.5 + (rng.NextDouble() * 2);
            var canonical = Full() with
            {
                Demographics = Full().Demographics with { AgeYears = 50 + rng.Next(0, 30) },
                Labs = new()
                {
                    Glucose = new(glucose, LabUnit.MgPerDl),
                    Insulin = new(insulin, LabUnit.MicroIuPerMl),
                    Triglycerides = new(tg, LabUnit.MgPerDl),
                    Creatinine = new(creatinine, LabUnit.MgPerDl),
                    HsCrp = new(crp, LabUnit.MgPerL),
                    VitaminD = new(vitD, LabUnit.NgPerMl),
                    HbA1c = new(hba1c, LabUnit.Percent),
                },
            };
            var alternative = canonical with
            {
                Labs = new()
                {
                    Glucose = UnitConversions.FromCanonical(Analyte.Glucose, glucose, LabUnit.MmolPerL, units),
                    Insulin = UnitConversions.FromCanonical(Analyte.Insulin, insulin, LabUnit.PmolPerL, units),
                    Triglycerides = UnitConversions.FromCanonical(Analyte.Triglycerides, tg, LabUnit.MmolPerL, units),
                    Creatinine = UnitConversions.FromCanonical(Analyte.Creatinine, creatinine, LabUnit.MicromolPerL, units),
                    HsCrp = UnitConversions.FromCanonical(Analyte.HsCrp, crp, LabUnit.MgPerDl, units),
                    VitaminD = UnitConversions.FromCanonical(Analyte.VitaminD, vitD, LabUnit.NmolPerL, units),
                    HbA1c = UnitConversions.FromCanonical(Analyte.HbA1c, hba1c, LabUnit.MmolPerMol, units),
                },
            };
            var a = Derivations.Derive(canonical, new DerivationOptions { Units = units });
            var b = Derivations.Derive(alternative, new DerivationOptions { Units = units });
            foreach (var (x, y) in DoubleValues(a).Zip(DoubleValues(b)))
            {
                Assert.Equal(x.IsComputable, y.IsComputable);
                if (x.Value is { } xv)
                {
                    var yv = y.Value!.Value;
                    Assert.True(Math.Abs(xv - yv) <= 1e-12 * Math.Max(Math.Abs(xv), 1e-300), $"{xv} vs {yv}");
                }
            }

            Assert.Equal(a.ExactHomaKey, b.ExactHomaKey);
            Assert.Equal(EligibilityCriteria.Evaluate(canonical, null, units), EligibilityCriteria.Evaluate(alternative, null, units), new EligibilityComparer());
            Assert.Empty(ParticipantValidator.Validate(alternative, units));
        }
    }

    private static IEnumerable<Derived<double>> DoubleValues(DerivedValues d) =>
    [
        d.HomaIr, d.LnHomaIr, d.Quicki, d.TyG, d.BmiKgPerM2, d.EgfrCkdEpi2009, d.EgfrCkdEpi2021, d.IpaqMetMinPerWeek,
        d.LnHsCrp, d.NeckCrossSectionalAreaCm2, d.CsiMm2PerN, d.SectionModulusCm3, d.BucklingRatio,
    ];

    private sealed class EligibilityComparer : IEqualityComparer<EligibilityResult>
    {
        public bool Equals(EligibilityResult? x, EligibilityResult? y) =>
            x!.FirstReason == y!.FirstReason && x.AllReasons.SequenceEqual(y.AllReasons) && x.Undetermined.SequenceEqual(y.Undetermined);

        public int GetHashCode(EligibilityResult obj) => obj.FirstReason.GetHashCode();
    }
}
