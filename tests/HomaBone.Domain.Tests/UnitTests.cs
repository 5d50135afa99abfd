using HomaBone.Domain;

namespace HomaBone.Domain.Tests;

public class UnitConversionTests
{
    // Conventional factors (UnitConversions remarks): 5 mmol/L × 18 = 90 mg/dL; 60 pmol/L ÷ 6 = 10 µIU/mL;
    // 88.4 µmol/L ÷ 88.4 = 1 mg/dL; 49.92 nmol/L ÷ 2.496 = 20 ng/mL; 5 mmol/L × 38.67 = 193.35 mg/dL;
    // 1.5 mmol/L × 88.57 = 132.855 mg/dL; 0.5 mg/dL × 10 = 5 mg/L; IFCC 48 mmol/mol → 0.09148 × 48 + 2.152 = 6.54304 %.
    [Theory]
    [InlineData(Analyte.Glucose, 5.0, LabUnit.MmolPerL, 90.0)]
    [InlineData(Analyte.Insulin, 60.0, LabUnit.PmolPerL, 10.0)]
    [InlineData(Analyte.Creatinine, 88.4, LabUnit.MicromolPerL, 1.0)]
    [InlineData(Analyte.VitaminD, 49.92, LabUnit.NmolPerL, 20.0)]
    [InlineData(Analyte.TotalCholesterol, 5.0, LabUnit.MmolPerL, 193.35)]
    [InlineData(Analyte.HdlCholesterol, 1.0, LabUnit.MmolPerL, 38.67)]
    [InlineData(Analyte.Triglycerides, 1.5, LabUnit.MmolPerL, 132.855)]
    [InlineData(Analyte.HsCrp, 0.5, LabUnit.MgPerDl, 5.0)]
    [InlineData(Analyte.HbA1c, 48.0, LabUnit.MmolPerMol, 6.54304)]
    [InlineData(Analyte.Glucose, 97.0, LabUnit.MgPerDl, 97.0)]
    public void ToCanonical_KnownFactors_Match(Analyte analyte, double value, LabUnit unit, double expected) =>
        Assert.Equal(expected, UnitConversions.ToCanonical(analyte, new Quantity(value, unit)), 10);

    [Fact]
    public void ToCanonical_InsulinCustomFactor_Used() =>
        Assert.Equal(10.0, UnitConversions.ToCanonical(Analyte.Insulin, new Quantity(69.45, LabUnit.PmolPerL),
            new UnitConversionOptions { InsulinPmolPerMicroIu = 6.945 }), 12);

    [Fact]
    public void ToCanonical_UnacceptedUnit_Throws() =>
        Assert.Throws<ArgumentException>(() => UnitConversions.ToCanonical(Analyte.Glucose, new Quantity(5, LabUnit.PmolPerL)));

    [Theory]
    [InlineData(Analyte.Glucose, LabUnit.MmolPerL)]
    [InlineData(Analyte.Insulin, LabUnit.PmolPerL)]
    [InlineData(Analyte.Creatinine, LabUnit.MicromolPerL)]
    [InlineData(Analyte.VitaminD, LabUnit.NmolPerL)]
    [InlineData(Analyte.LdlCholesterol, LabUnit.MmolPerL)]
    [InlineData(Analyte.Triglycerides, LabUnit.MmolPerL)]
    [InlineData(Analyte.HbA1c, LabUnit.MmolPerMol)]
    [InlineData(Analyte.HsCrp, LabUnit.MgPerDl)]
    public void FromCanonical_RoundTrips(Analyte analyte, LabUnit unit)
    {
        var q = UnitConversions.FromCanonical(analyte, 7.3, unit);
        Assert.Equal(unit, q.Unit);
        Assert.Equal(7.3, UnitConversions.ToCanonical(analyte, q), 12);
    }

    [Fact]
    public void LabResultsToCanonical_ConvertsEveryPresentValue()
    {
        var labs = new LabResults { Glucose = new(5, LabUnit.MmolPerL), Creatinine = new(70.72, LabUnit.MicromolPerL) };
        var c = labs.ToCanonical();
        Assert.Equal(new Quantity(90, LabUnit.MgPerDl), c.Glucose);
        Assert.Equal(LabUnit.MgPerDl, c.Creatinine!.Value.Unit);
        Assert.Equal(0.8, c.Creatinine.Value.Value, 12);
        Assert.Null(c.Insulin);
    }
}
