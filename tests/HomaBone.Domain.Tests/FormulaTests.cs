using HomaBone.Domain;

namespace HomaBone.Domain.Tests;

public class FormulaTests
{
    // Sanity values: methods.md §1.3 (computed from the CKD-EPI single equations, Levey 2009 / Inker 2021).
    [Theory]
    [InlineData(0.7, 57, 96.18)]
    [InlineData(0.9, 57, 70.98)]
    public void CkdEpi2009_FemaleSanityValues_Match(double scr, double age, double expected) =>
        Assert.Equal(expected, Egfr.CkdEpi2009(scr, age, Sex.Female, black: false).Value!.Value, 2);

    [Theory]
    [InlineData(0.7, 57, 100.81)]
    [InlineData(0.9, 57, 74.57)]
    [InlineData(0.9, 55, 75.50)]
    public void CkdEpi2021_FemaleSanityValues_Match(double scr, double age, double expected) =>
        Assert.Equal(expected, Egfr.CkdEpi2021(scr, age, Sex.Female).Value!.Value, 2);

    [Fact]
    public void CkdEpi2009_AtKappa_BothBranchesGiveOne()
    {
        // At Scr = κ = 0.7 (female): min(1,1)^α = max(1,1)^-1.209 = 1 → 141 × 0.993^57 × 1.018.
        var expected = 141.0 * Math.Pow(0.993, 57) * 1.018;
        Assert.Equal(expected, Egfr.CkdEpi2009(0.7, 57, Sex.Female, false).Value!.Value, 10);
        var below = Egfr.CkdEpi2009(0.7 - 1e-9, 57, Sex.Female, false).Value!.Value;
        var above = Egfr.CkdEpi2009(0.7 + 1e-9, 57, Sex.Female, false).Value!.Value;
        Assert.Equal(expected, below, 6);
        Assert.Equal(expected, above, 6);
    }

    [Fact]
    public void CkdEpi2021_AtKappaMale_IsContinuous()
    {
        var expected = 142.0 * Math.Pow(0.9938, 60);
        Assert.Equal(expected, Egfr.CkdEpi2021(0.9, 60, Sex.Male).Value!.Value, 10);
    }

    [Fact]
    public void CkdEpi2009_Black_AppliesCoefficient()
    {
        var white = Egfr.CkdEpi2009(1.0, 60, Sex.Male, false).Value!.Value;
        var black = Egfr.CkdEpi2009(1.0, 60, Sex.Male, true).Value!.Value;
        Assert.Equal(1.159, black / white, 12);
    }

    [Theory]
    [InlineData(0.0, 57)]
    [InlineData(-1.0, 57)]
    [InlineData(0.8, 0.0)]
    [InlineData(double.NaN, 57)]
    public void CkdEpi_InvalidInputs_NotComputable(double scr, double age)
    {
        Assert.False(Egfr.CkdEpi2009(scr, age, Sex.Female, false).IsComputable);
        Assert.False(Egfr.CkdEpi2021(scr, age, Sex.Female).IsComputable);
    }

    [Fact]
    public void CkdEpi_SexUnspecified_NotComputable() =>
        Assert.Contains("sex", Egfr.CkdEpi2021(0.8, 57, Sex.Unspecified).Reason, StringComparison.Ordinal);

    // Hand-worked: 90 × 9 / 405 = 810 / 405 = 2 exactly; 100 × 10 / 405 = 2.469135802469136.
    [Theory]
    [InlineData(90, 9, 2.0)]
    [InlineData(100, 10, 2.4691358024691357)]
    [InlineData(81, 5, 1.0)]
    public void Matthews1985_HandWorked_Matches(double glucose, double insulin, double expected) =>
        Assert.Equal(expected, Homa.Matthews1985(glucose, insulin));

    [Fact]
    public void Matthews1985_EvaluationOrder_IsProductThenDivision()
    {
        const double g = 97;
        const double i = 4.3;
        Assert.Equal(g * i / 405.0, Homa.Matthews1985(g, i));
    }

    [Fact]
    public void ExactKey_OnGrid_IsGlucoseTimesInsulinTenths()
    {
        Assert.Equal(90L * 93L, Homa.ExactKey(90, 9.3).Value);
        // 86 × 48 = 96 × 43 = 4128: equal exact products give equal keys whatever the doubles do.
        Assert.Equal(4128L, Homa.ExactKey(86, 4.8).Value);
        Assert.Equal(4128L, Homa.ExactKey(96, 4.3).Value);
    }

    [Fact]
    public void ExactKey_EqualProductsDifferentDoubles_SameKey()
    {
        // 71 × 219 = 73 × 213 = 15549, yet the IEEE doubles of g × i / 405 differ by an ulp (methods.md §1.1).
        Assert.NotEqual(Homa.Matthews1985(71, 21.9), Homa.Matthews1985(73, 21.3));
        Assert.Equal(Homa.ExactKey(71, 21.9).Value, Homa.ExactKey(73, 21.3).Value);
        Assert.Equal(15549L, Homa.ExactKey(71, 21.9).Value);
    }

    [Fact]
    public void DerivedOf_NaN_Throws() => Assert.Throws<ArgumentException>(() => Derived.Of(double.NaN));

    [Fact]
    public void ExactKey_OffGrid_NotComputable() => Assert.False(Homa.ExactKey(90.5, 9.3).IsComputable);

    // Hand-worked: 1 / (log10 10 + log10 100) = 1/3.
    [Fact]
    public void Katz2000_HandWorked_IsOneThird() => Assert.Equal(1.0 / 3.0, Quicki.Katz2000(100, 10).Value!.Value, 15);

    [Fact]
    public void Katz2000_ZeroInsulin_NotComputable() => Assert.False(Quicki.Katz2000(100, 0).IsComputable);

    // Hand-worked: ln(100 × 100 / 2) = ln 5000 = 8.517193191416238.
    [Fact]
    public void SimentalMendia2008_HandWorked_Matches() =>
        Assert.Equal(8.517193191416238, TyG.SimentalMendia2008(100, 100).Value!.Value, 12);

    // Hand-worked: 60 / 1.6² = 23.4375.
    [Fact]
    public void Quetelet_HandWorked_Matches() => Assert.Equal(23.4375, Bmi.Quetelet(60, 160).Value!.Value, 12);

    [Fact]
    public void Quetelet_ZeroHeight_NotComputable() => Assert.False(Bmi.Quetelet(60, 0).IsComputable);

    // Hand-worked: A = 0.68 g/cm² × 2.96 cm / 0.990 g/cm³ = 2.0331313… cm²; CSI = 203.31313 mm² / (56 × 9.8 N)
    // = 0.3704686 mm²/N; Z = A × 2.96 cm = 6.0180687 cm³; BR = 7.0 / 2.0 = 3.5.
    [Fact]
    public void StrengthIndices_HandWorked_Match()
    {
        Assert.Equal(2.0331313131313, StrengthIndices.CrossSectionalAreaCm2(0.68, 2.96, 990).Value!.Value, 10);
        Assert.Equal(0.37046853, StrengthIndices.CompressiveStrengthIndexMm2PerN(0.68, 2.96, 990, 56).Value!.Value, 7);
        Assert.Equal(6.01806869, StrengthIndices.SectionModulusCm3(0.68, 2.96, 990).Value!.Value, 7);
        Assert.Equal(3.5, StrengthIndices.BucklingRatio(7.0, 2.0).Value!.Value);
    }

    [Fact]
    public void StrengthIndices_EdgeCases_NotComputable()
    {
        Assert.False(StrengthIndices.CompressiveStrengthIndexMm2PerN(0.68, 2.96, 990, 0).IsComputable);
        Assert.False(StrengthIndices.CrossSectionalAreaCm2(0.68, 2.96, 0).IsComputable);
        Assert.False(StrengthIndices.SectionModulusCm3(0.68, 2.96, -5).IsComputable);
        Assert.False(StrengthIndices.BucklingRatio(7.0, 0).IsComputable);
    }

    [Fact]
    public void Derived_NotComputable_HasReasonAndNoValue()
    {
        var d = Derived.NotComputable<double>("because");
        Assert.Null(d.Value);
        Assert.Equal("because", d.Reason);
        Assert.False(Derived.Finite(double.PositiveInfinity, "x").IsComputable);
        Assert.False(Derived.Finite(double.NaN, "x").IsComputable);
        Assert.Equal("not computed", default(Derived<double>).Reason);
    }
}
