using HomaBone.Domain;

namespace HomaBone.Domain.Tests;

public class ValidationTests
{
    [Fact]
    public void Validate_EmptyRecord_NoViolations() => Assert.Empty(ParticipantValidator.Validate(new Participant()));

    [Fact]
    public void Validate_GlucoseTooHigh_DescribesRangeAndUnit()
    {
        var p = new Participant { Labs = new() { Glucose = new(5000, LabUnit.MgPerDl) } };
        var v = Assert.Single(ParticipantValidator.Validate(p));
        Assert.Equal("labs.glucose", v.Field);
        Assert.Equal("must be between 20 and 600 mg/dL; got 5000", v.Description);
    }

    [Fact]
    public void Validate_ConvertedValue_ReportsBothUnits()
    {
        var p = new Participant { Labs = new() { Glucose = new(50, LabUnit.MmolPerL) } };
        var v = Assert.Single(ParticipantValidator.Validate(p));
        Assert.Equal("must be between 20 and 600 mg/dL; got 50 mmol/L (= 900 mg/dL)", v.Description);
    }

    [Theory]
    [InlineData(20.0, true)]
    [InlineData(600.0, true)]
    [InlineData(19.999, false)]
    [InlineData(600.001, false)]
    public void Validate_GlucoseAtRangeLimits_InclusiveBounds(double glucose, bool valid)
    {
        var p = new Participant { Labs = new() { Glucose = new(glucose, LabUnit.MgPerDl) } };
        Assert.Equal(valid, ParticipantValidator.Validate(p).Count == 0);
    }

    [Fact]
    public void Validate_ManyProblems_ReturnsEveryViolation()
    {
        var p = new Participant
        {
            Demographics = new() { AgeYears = double.NaN, Sex = (Sex)42, AlcoholUnitsPerDay = -1 },
            Anthropometry = new() { HeightCm = double.PositiveInfinity, WeightKg = 1000 },
            Labs = new()
            {
                Glucose = new(90, LabUnit.PmolPerL),
                Insulin = new(double.NaN, LabUnit.MicroIuPerMl),
                Creatinine = new(1, (LabUnit)99),
                TotalCholesterol = new(150, LabUnit.MgPerDl),
                HdlCholesterol = new(200, LabUnit.MgPerDl),
            },
            PhysicalActivity = new() { VigorousDays = -1, ModerateDays = 8, WalkingMinutesPerDay = 1441 },
            Qct = new() { FemoralNeck = new() { TotalVolumeCm3 = 5, CorticalVolumeCm3 = 6 } },
        };
        var fields = ParticipantValidator.Validate("bad id!", p).Select(v => v.Field).ToList();
        string[] expected =
        [
            "participantId", "demographics.sex", "demographics.ageYears", "demographics.alcoholUnitsPerDay",
            "anthropometry.heightCm", "anthropometry.weightKg", "labs.glucose.unit", "labs.insulin",
            "labs.hdlCholesterol", "labs.creatinine.unit", "physicalActivity.vigorousDays",
            "physicalActivity.moderateDays", "physicalActivity.walkingMinutesPerDay", "qct.femoralNeck.corticalVolumeCm3",
        ];
        Assert.Equal(expected.Order(StringComparer.Ordinal), fields.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Validate_InconsistentMenstrualFlags_Reported()
    {
        var p = new Participant { Demographics = new() { MonthsSinceLastMenses = 3, AnyMenstrualFlowWithin12Months = false } };
        Assert.Equal("demographics.anyMenstrualFlowWithin12Months", Assert.Single(ParticipantValidator.Validate(p)).Field);
    }

    [Theory]
    [InlineData("P0001", true)]
    [InlineData("a.b_c-9", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("has space", false)]
    [InlineData("é", false)]
    public void IsValidIdentifier_Cases(string? id, bool expected) => Assert.Equal(expected, ParticipantValidator.IsValidIdentifier(id));

    [Fact]
    public void ValidateIdentifier_TooLong_SaysLength()
    {
        var v = Assert.Single(ParticipantValidator.ValidateIdentifier("participantId", new string('x', 65)));
        Assert.Contains("65 characters", v.Description, StringComparison.Ordinal);
        Assert.Empty(ParticipantValidator.ValidateIdentifier("participantId", new string('x', 64)));
    }

    [Fact]
    public void Ranges_EveryCheckedFieldHasARange() =>
        Assert.All(ParticipantValidator.Ranges, r => Assert.True(r.Min < r.Max, r.Field));

    [Fact]
    public void Validate_IpaqAtLimits_Valid()
    {
        var p = new Participant { PhysicalActivity = new() { VigorousDays = 7, VigorousMinutesPerDay = 1440, WalkingDays = 0, WalkingMinutesPerDay = 0 } };
        Assert.Empty(ParticipantValidator.Validate(p));
    }

    [Fact]
    public void Validate_UnspecifiedUnit_Rejected()
    {
        var v = Assert.Single(ParticipantValidator.Validate(new Participant { Labs = new() { Insulin = new(8, LabUnit.Unspecified) } }));
        Assert.Equal("labs.insulin.unit", v.Field);
        Assert.Contains("accepted: µIU/mL, pmol/L", v.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NegativeInfinityWeight_Rejected() =>
        Assert.Contains("finite", Assert.Single(ParticipantValidator.Validate(
            new Participant { Anthropometry = new() { WeightKg = double.NegativeInfinity } })).Description, StringComparison.Ordinal);
}
