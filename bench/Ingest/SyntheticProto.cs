using HomaBone.Contracts.V1;
using D = HomaBone.Domain;

namespace HomaBone.Ingest.Bench;

/// <summary>The synthetic domain records as homabone.v1 protos.</summary>
internal static class SyntheticProto
{
    /// <summary>The proto form of a domain record (each lab value keeps its unit).</summary>
    public static ParticipantRecord ToProto(D.Participant p)
    {
        ArgumentNullException.ThrowIfNull(p);
        var d = p.Demographics;
        var demographics = new Demographics { Sex = d.Sex switch { D.Sex.Female => Sex.Female, D.Sex.Male => Sex.Male, _ => Sex.Unspecified } };
        Set(d.AgeYears, v => demographics.AgeYears = v);
        Set(d.MonthsSinceLastMenses, v => demographics.MonthsSinceLastMenses = checked((int)v));
        Set(d.AnyMenstrualFlowWithin12Months, v => demographics.MenstrualFlowWithin12Months = v);
        Set(d.AntiDiabeticMedication, v => demographics.AntidiabeticMedication = v);
        Set(d.OsteoporosisTreatment, v => demographics.OsteoporosisTreatment = v);
        Set(d.CurrentGlucocorticoid, v => demographics.CurrentGlucocorticoid = v);
        Set(d.EstrogenReplacementTherapy, v => demographics.EstrogenReplacementTherapy = v);
        Set(d.LiverCirrhosis, v => demographics.LiverCirrhosis = v);
        Set(d.CurrentSmoking, v => demographics.CurrentSmoking = v);
        Set(d.AlcoholUnitsPerDay, v => demographics.AlcoholUnitsPerDay = v);
        Set(d.Black, v => demographics.BlackRace = v);

        var a = p.Anthropometry;
        var anthropometry = new Anthropometry();
        Set(a.HeightCm, v => anthropometry.HeightCm = v);
        Set(a.WeightKg, v => anthropometry.WeightKg = v);
        Set(a.WaistCm, v => anthropometry.WaistCm = v);
        Set(a.ThighCm, v => anthropometry.ThighCm = v);

        var l = p.Labs;
        var labs = new Labs
        {
            Glucose = Lab(l.Glucose),
            Insulin = Lab(l.Insulin),
            Hba1C = Lab(l.HbA1c),
            TotalCholesterol = Lab(l.TotalCholesterol),
            HdlCholesterol = Lab(l.HdlCholesterol),
            LdlCholesterol = Lab(l.LdlCholesterol),
            Triglycerides = Lab(l.Triglycerides),
            HsCrp = Lab(l.HsCrp),
            VitaminD = Lab(l.VitaminD),
            Creatinine = Lab(l.Creatinine),
        };

        var i = p.PhysicalActivity;
        var activity = new PhysicalActivity();
        Set(i.VigorousDays, v => activity.VigorousDays = v);
        Set(i.VigorousMinutesPerDay, v => activity.VigorousMinutesPerDay = v);
        Set(i.ModerateDays, v => activity.ModerateDays = v);
        Set(i.ModerateMinutesPerDay, v => activity.ModerateMinutesPerDay = v);
        Set(i.WalkingDays, v => activity.WalkingDays = v);
        Set(i.WalkingMinutesPerDay, v => activity.WalkingMinutesPerDay = v);

        var q = p.Qct;
        var qct = new QctMeasures
        {
            FemoralNeck = Region(q.FemoralNeck),
            Trochanter = Region(q.Trochanter),
            Intertrochanter = Region(q.Intertrochanter),
            TotalHip = Region(q.TotalProximalFemur),
        };
        Set(q.L1L2VbmdMgPerCm3, v => qct.SpineL1L2VbmdMgCm3 = v);
        Set(q.NeckGeometry.ProjectedAbmdGPerCm2, v => qct.NeckArealBmdGCm2 = v);
        Set(q.NeckGeometry.NeckWidthCm, v => qct.NeckWidthCm = v);
        Set(q.NeckGeometry.CorticalDepthMm, v => qct.NeckCorticalDepthMm = v);
        Set(q.NeckGeometry.HipAxisLengthMm, v => qct.HipAxisLengthMm = v);
        Set(q.NeckGeometry.NeckAngleDeg, v => qct.NeckShaftAngleDeg = v);

        return new ParticipantRecord { Demographics = demographics, Anthropometry = anthropometry, Labs = labs, PhysicalActivity = activity, Qct = qct };
    }

    private static RegionMeasures? Region(D.QctRegion r)
    {
        if (r.IsEmpty)
        {
            return null;
        }

        var m = new RegionMeasures();
        Set(r.TotalVbmdMgPerCm3, v => m.TotalVbmdMgCm3 = v);
        Set(r.CorticalVbmdMgPerCm3, v => m.CorticalVbmdMgCm3 = v);
        Set(r.TrabecularVbmdMgPerCm3, v => m.TrabecularVbmdMgCm3 = v);
        Set(r.TotalVolumeCm3, v => m.TotalVolumeCm3 = v);
        Set(r.CorticalVolumeCm3, v => m.CorticalVolumeCm3 = v);
        Set(r.TrabecularVolumeCm3, v => m.TrabecularVolumeCm3 = v);
        return m;
    }

    private static Quantity? Lab(D.Quantity? q) => q is { } v ? new Quantity { Value = v.Value, Unit = D.UnitConversions.Symbol(v.Unit) } : null;

    private static void Set<T>(T? value, Action<T> set)
        where T : struct
    {
        if (value is { } v)
        {
            set(v);
        }
    }
}
