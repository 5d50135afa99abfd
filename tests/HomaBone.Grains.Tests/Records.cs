using HomaBone.Contracts.V1;
using D = HomaBone.Domain;

namespace HomaBone.Grains.Tests;

/// <summary>Participant records for the tests: a hand-written valid one, and the synthetic domain records as protos.</summary>
internal static class Records
{
    /// <summary>A complete, valid, eligible-looking record (canonical units).</summary>
    public static ParticipantRecord Sample(double ageYears = 57) => new()
    {
        Demographics = new Demographics
        {
            Sex = Sex.Female,
            AgeYears = ageYears,
            MenstrualFlowWithin12Months = false,
            AntidiabeticMedication = false,
            OsteoporosisTreatment = false,
            CurrentGlucocorticoid = false,
            LiverCirrhosis = false,
            EstrogenReplacementTherapy = false,
        },
        Anthropometry = new Anthropometry { HeightCm = 156.2, WeightKg = 57.4, WaistCm = 80.5, ThighCm = 50.1 },
        Labs = new Labs
        {
            Glucose = new Quantity { Value = 99, Unit = "mg/dL" },
            Insulin = new Quantity { Value = 7.2, Unit = "uIU/mL" },
            Hba1C = new Quantity { Value = 5.6, Unit = "%" },
        },
        Qct = new QctMeasures { SpineL1L2VbmdMgCm3 = 120.5 },
    };

    /// <summary>The proto form of a domain record: the service's own mapping.</summary>
    public static ParticipantRecord ToProto(D.Participant p) => ParticipantMapping.FromDomain(p);
}
