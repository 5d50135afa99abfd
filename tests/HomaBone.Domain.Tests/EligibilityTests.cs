using HomaBone.Domain;

namespace HomaBone.Domain.Tests;

public class EligibilityTests
{
    internal static Participant Eligible() => new()
    {
        Demographics = new()
        {
            Sex = Sex.Female,
            AgeYears = 57,
            AnyMenstrualFlowWithin12Months = false,
            MonthsSinceLastMenses = 60,
            AntiDiabeticMedication = false,
            OsteoporosisTreatment = false,
            CurrentGlucocorticoid = false,
            EstrogenReplacementTherapy = false,
            LiverCirrhosis = false,
        },
        Labs = new()
        {
            Glucose = new(90, LabUnit.MgPerDl),
            Insulin = new(8.0, LabUnit.MicroIuPerMl),
            HbA1c = new(5.6, LabUnit.Percent),
        },
        Qct = new() { FemoralNeck = new() { TotalVbmdMgPerCm3 = 280 } },
    };

    [Fact]
    public void Evaluate_CompleteEligibleRecord_IsEligible()
    {
        var r = EligibilityCriteria.Evaluate(Eligible());
        Assert.True(r.IsEligible);
        Assert.Empty(r.AllReasons);
        Assert.Empty(r.Undetermined);
    }

    [Fact]
    public void Evaluate_SeveralFailures_FirstInPaperOrderAndAllListed()
    {
        var p = Eligible() with
        {
            Demographics = Eligible().Demographics with { AgeYears = 48, EstrogenReplacementTherapy = true },
            Labs = Eligible().Labs with { HbA1c = new(6.5, LabUnit.Percent) },
        };
        var r = EligibilityCriteria.Evaluate(p);
        Assert.Equal(ExclusionReason.AgeUnder50, r.FirstReason);
        Assert.Equal([ExclusionReason.AgeUnder50, ExclusionReason.Diabetes, ExclusionReason.EstrogenReplacementTherapy], r.AllReasons);
    }

    [Fact]
    public void Evaluate_CustomOrder_ChangesFirstReasonOnly()
    {
        var p = Eligible() with { Demographics = Eligible().Demographics with { AgeYears = 48, LiverCirrhosis = true } };
        var options = new EligibilityOptions { Order = [ExclusionReason.LiverCirrhosis] };
        var r = EligibilityCriteria.Evaluate(p, options);
        Assert.Equal(ExclusionReason.LiverCirrhosis, r.FirstReason);
        Assert.Equal([ExclusionReason.LiverCirrhosis, ExclusionReason.AgeUnder50], r.AllReasons);
    }

    [Fact]
    public void Evaluate_DuplicateInOrder_Throws() =>
        Assert.Throws<ArgumentException>(() => EligibilityCriteria.Evaluate(Eligible(),
            new EligibilityOptions { Order = [ExclusionReason.AgeUnder50, ExclusionReason.AgeUnder50] }));

    [Fact]
    public void Evaluate_Age50_IsNotUnder50() =>
        Assert.True(EligibilityCriteria.Evaluate(Eligible() with { Demographics = Eligible().Demographics with { AgeYears = 50 } }).IsEligible);

    [Fact]
    public void Evaluate_HbA1cInIfccUnits_Converted()
    {
        // 48 mmol/mol → 6.54 % ≥ 6.5 → diabetes.
        var p = Eligible() with { Labs = Eligible().Labs with { HbA1c = new(48, LabUnit.MmolPerMol) } };
        Assert.Equal(ExclusionReason.Diabetes, EligibilityCriteria.Evaluate(p).FirstReason);
    }

    [Fact]
    public void Evaluate_MedicationOnly_IsDiabetes()
    {
        var p = Eligible() with { Demographics = Eligible().Demographics with { AntiDiabeticMedication = true } };
        Assert.Equal(ExclusionReason.Diabetes, EligibilityCriteria.Evaluate(p).FirstReason);
    }

    [Fact]
    public void Evaluate_MissingInsulin_GlucoseOrInsulinMissing()
    {
        var p = Eligible() with { Labs = Eligible().Labs with { Insulin = null } };
        Assert.Equal(ExclusionReason.GlucoseOrInsulinMissing, EligibilityCriteria.Evaluate(p).FirstReason);
    }

    [Fact]
    public void Evaluate_NoQct_QctMissing() =>
        Assert.Equal(ExclusionReason.QctMissing, EligibilityCriteria.Evaluate(Eligible() with { Qct = new() }).FirstReason);

    [Fact]
    public void Evaluate_MonthsSinceMensesUnder12_Flow()
    {
        var p = Eligible() with
        {
            Demographics = Eligible().Demographics with { AnyMenstrualFlowWithin12Months = null, MonthsSinceLastMenses = 11.9 },
        };
        Assert.Equal(ExclusionReason.MenstrualFlowWithin12Months, EligibilityCriteria.Evaluate(p).FirstReason);
    }

    [Fact]
    public void Evaluate_MissingMenopauseStatus_ExcludedAndUndeterminedByDefault()
    {
        var p = Eligible() with
        {
            Demographics = Eligible().Demographics with { AnyMenstrualFlowWithin12Months = null, MonthsSinceLastMenses = null },
        };
        var r = EligibilityCriteria.Evaluate(p);
        Assert.Equal(ExclusionReason.MenstrualFlowWithin12Months, r.FirstReason);
        Assert.Equal([ExclusionReason.MenstrualFlowWithin12Months], r.Undetermined);
    }

    [Fact]
    public void Evaluate_MissingFlagIncludePolicy_EligibleButUndetermined()
    {
        var p = Eligible() with { Demographics = Eligible().Demographics with { CurrentGlucocorticoid = null } };
        var r = EligibilityCriteria.Evaluate(p, new EligibilityOptions { MissingPolicy = MissingCriterionPolicy.Include });
        Assert.True(r.IsEligible);
        Assert.Equal([ExclusionReason.CurrentGlucocorticoid], r.Undetermined);
        Assert.Equal(ExclusionReason.CurrentGlucocorticoid, EligibilityCriteria.Evaluate(p).FirstReason);
    }
}
