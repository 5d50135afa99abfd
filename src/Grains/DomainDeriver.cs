using System.Text;
using HomaBone.Contracts.V1;
using D = HomaBone.Domain;

namespace HomaBone.Grains;

/// <summary>
/// Validates and derives a participant record with the domain library (units, plausibility ranges,
/// HOMA-IR, eGFR, IPAQ, strength indices, eligibility) under the cohort's settings. The record is stored as
/// received (each lab value keeps the unit it arrived in); derivations use canonical units.
/// </summary>
public sealed class DomainDeriver : IParticipantDeriver
{
    private const string Prefix = "participant.record.";

    /// <inheritdoc />
    public Derivation Derive(ParticipantRecord record, CohortSettings settings)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(settings);
        var violations = new List<FieldViolation>();
        var participant = ParticipantMapping.ToDomain(record, violations, Prefix);
        var units = new D.UnitConversionOptions { InsulinPmolPerMicroIu = settings.InsulinPmolPerUiu > 0 ? settings.InsulinPmolPerUiu : 6.0 };
        foreach (var v in D.ParticipantValidator.Validate(participant, units))
        {
            violations.Add(new FieldViolation(ParticipantMapping.ProtoPath(v.Field, Prefix), v.Description));
        }

        if (violations.Count > 0)
        {
            return new Derivation(violations, record, new DerivedValues(), new Eligibility());
        }

        var derived = D.Derivations.Derive(participant, new D.DerivationOptions { Units = units });
        var eligibility = D.EligibilityCriteria.Evaluate(participant, null, units);
        return new Derivation([], record, ParticipantMapping.ToProto(derived), ParticipantMapping.ToProto(eligibility));
    }
}

/// <summary>Maps homabone.v1 participant messages to and from the domain records.</summary>
public static class ParticipantMapping
{
    private static readonly Dictionary<string, string> Renamed = new(StringComparer.Ordinal)
    {
        ["demographics.anyMenstrualFlowWithin12Months"] = "demographics.menstrual_flow_within_12_months",
        ["demographics.antiDiabeticMedication"] = "demographics.antidiabetic_medication",
        ["demographics.black"] = "demographics.black_race",
        ["labs.hbA1c"] = "labs.hba1c",
        ["qct.l1L2VbmdMgPerCm3"] = "qct.spine_l1_l2_vbmd_mg_cm3",
        ["qct.neckGeometry.projectedAbmdGPerCm2"] = "qct.neck_areal_bmd_g_cm2",
        ["qct.neckGeometry.neckWidthCm"] = "qct.neck_width_cm",
        ["qct.neckGeometry.corticalDepthMm"] = "qct.neck_cortical_depth_mm",
        ["qct.neckGeometry.hipAxisLengthMm"] = "qct.hip_axis_length_mm",
        ["qct.neckGeometry.neckAngleDeg"] = "qct.neck_shaft_angle_deg",
    };

    /// <summary>Maps the proto record to the domain record; unknown unit codes are reported as violations.</summary>
    public static D.Participant ToDomain(ParticipantRecord record, List<FieldViolation> violations, string prefix)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(violations);
        var demo = record.Demographics ?? new Demographics();
        var anthro = record.Anthropometry ?? new Anthropometry();
        var labs = record.Labs ?? new Labs();
        var pa = record.PhysicalActivity ?? new PhysicalActivity();
        var qct = record.Qct ?? new QctMeasures();
        return new D.Participant
        {
            Demographics = new D.Demographics
            {
                Sex = demo.Sex switch { Sex.Female => D.Sex.Female, Sex.Male => D.Sex.Male, _ => D.Sex.Unspecified },
                AgeYears = demo.HasAgeYears ? demo.AgeYears : null,
                MonthsSinceLastMenses = demo.HasMonthsSinceLastMenses ? demo.MonthsSinceLastMenses : null,
                AnyMenstrualFlowWithin12Months = demo.HasMenstrualFlowWithin12Months ? demo.MenstrualFlowWithin12Months : null,
                AntiDiabeticMedication = demo.HasAntidiabeticMedication ? demo.AntidiabeticMedication : null,
                OsteoporosisTreatment = demo.HasOsteoporosisTreatment ? demo.OsteoporosisTreatment : null,
                CurrentGlucocorticoid = demo.HasCurrentGlucocorticoid ? demo.CurrentGlucocorticoid : null,
                EstrogenReplacementTherapy = demo.HasEstrogenReplacementTherapy ? demo.EstrogenReplacementTherapy : null,
                LiverCirrhosis = demo.HasLiverCirrhosis ? demo.LiverCirrhosis : null,
                CurrentSmoking = demo.HasCurrentSmoking ? demo.CurrentSmoking : null,
                AlcoholUnitsPerDay = demo.HasAlcoholUnitsPerDay ? demo.AlcoholUnitsPerDay : null,
                Black = demo.HasBlackRace ? demo.BlackRace : null,
            },
            Anthropometry = new D.Anthropometry
            {
                HeightCm = anthro.HasHeightCm ? anthro.HeightCm : null,
                WeightKg = anthro.HasWeightKg ? anthro.WeightKg : null,
                WaistCm = anthro.HasWaistCm ? anthro.WaistCm : null,
                ThighCm = anthro.HasThighCm ? anthro.ThighCm : null,
            },
            Labs = new D.LabResults
            {
                Glucose = Lab(labs.Glucose, D.Analyte.Glucose, prefix + "labs.glucose", violations),
                Insulin = Lab(labs.Insulin, D.Analyte.Insulin, prefix + "labs.insulin", violations),
                HbA1c = Lab(labs.Hba1C, D.Analyte.HbA1c, prefix + "labs.hba1c", violations),
                TotalCholesterol = Lab(labs.TotalCholesterol, D.Analyte.TotalCholesterol, prefix + "labs.total_cholesterol", violations),
                HdlCholesterol = Lab(labs.HdlCholesterol, D.Analyte.HdlCholesterol, prefix + "labs.hdl_cholesterol", violations),
                LdlCholesterol = Lab(labs.LdlCholesterol, D.Analyte.LdlCholesterol, prefix + "labs.ldl_cholesterol", violations),
                Triglycerides = Lab(labs.Triglycerides, D.Analyte.Triglycerides, prefix + "labs.triglycerides", violations),
                HsCrp = Lab(labs.HsCrp, D.Analyte.HsCrp, prefix + "labs.hs_crp", violations),
                VitaminD = Lab(labs.VitaminD, D.Analyte.VitaminD, prefix + "labs.vitamin_d", violations),
                Creatinine = Lab(labs.Creatinine, D.Analyte.Creatinine, prefix + "labs.creatinine", violations),
            },
            PhysicalActivity = new D.IpaqResponses
            {
                VigorousDays = pa.HasVigorousDays ? pa.VigorousDays : null,
                VigorousMinutesPerDay = pa.HasVigorousMinutesPerDay ? pa.VigorousMinutesPerDay : null,
                ModerateDays = pa.HasModerateDays ? pa.ModerateDays : null,
                ModerateMinutesPerDay = pa.HasModerateMinutesPerDay ? pa.ModerateMinutesPerDay : null,
                WalkingDays = pa.HasWalkingDays ? pa.WalkingDays : null,
                WalkingMinutesPerDay = pa.HasWalkingMinutesPerDay ? pa.WalkingMinutesPerDay : null,
            },
            Qct = new D.QctMeasures
            {
                L1L2VbmdMgPerCm3 = qct.HasSpineL1L2VbmdMgCm3 ? qct.SpineL1L2VbmdMgCm3 : null,
                FemoralNeck = Region(qct.FemoralNeck),
                Trochanter = Region(qct.Trochanter),
                Intertrochanter = Region(qct.Intertrochanter),
                TotalProximalFemur = Region(qct.TotalHip),
                NeckGeometry = new D.FemoralNeckGeometry
                {
                    ProjectedAbmdGPerCm2 = qct.HasNeckArealBmdGCm2 ? qct.NeckArealBmdGCm2 : null,
                    NeckWidthCm = qct.HasNeckWidthCm ? qct.NeckWidthCm : null,
                    CorticalDepthMm = qct.HasNeckCorticalDepthMm ? qct.NeckCorticalDepthMm : null,
                    HipAxisLengthMm = qct.HasHipAxisLengthMm ? qct.HipAxisLengthMm : null,
                    NeckAngleDeg = qct.HasNeckShaftAngleDeg ? qct.NeckShaftAngleDeg : null,
                },
            },
        };
    }

    /// <summary>Maps a domain record to the proto record (the inverse of <see cref="ToDomain"/>).</summary>
    public static ParticipantRecord FromDomain(D.Participant participant)
    {
        ArgumentNullException.ThrowIfNull(participant);
        var d = participant.Demographics;
        var demographics = new Demographics { Sex = d.Sex switch { D.Sex.Female => Sex.Female, D.Sex.Male => Sex.Male, _ => Sex.Unspecified } };
        if (d.AgeYears is { } age) { demographics.AgeYears = age; }
        if (d.MonthsSinceLastMenses is { } months) { demographics.MonthsSinceLastMenses = (int)Math.Round(months); }
        if (d.AnyMenstrualFlowWithin12Months is { } flow) { demographics.MenstrualFlowWithin12Months = flow; }
        if (d.AntiDiabeticMedication is { } dm) { demographics.AntidiabeticMedication = dm; }
        if (d.OsteoporosisTreatment is { } ot) { demographics.OsteoporosisTreatment = ot; }
        if (d.CurrentGlucocorticoid is { } gc) { demographics.CurrentGlucocorticoid = gc; }
        if (d.EstrogenReplacementTherapy is { } ert) { demographics.EstrogenReplacementTherapy = ert; }
        if (d.LiverCirrhosis is { } lc) { demographics.LiverCirrhosis = lc; }
        if (d.CurrentSmoking is { } smoking) { demographics.CurrentSmoking = smoking; }
        if (d.AlcoholUnitsPerDay is { } alcohol) { demographics.AlcoholUnitsPerDay = alcohol; }
        if (d.Black is { } black) { demographics.BlackRace = black; }

        var a = participant.Anthropometry;
        var anthropometry = new Anthropometry();
        if (a.HeightCm is { } h) { anthropometry.HeightCm = h; }
        if (a.WeightKg is { } w) { anthropometry.WeightKg = w; }
        if (a.WaistCm is { } waist) { anthropometry.WaistCm = waist; }
        if (a.ThighCm is { } thigh) { anthropometry.ThighCm = thigh; }

        var l = participant.Labs;
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

        var p = participant.PhysicalActivity;
        var activity = new PhysicalActivity();
        if (p.VigorousDays is { } vd) { activity.VigorousDays = vd; }
        if (p.VigorousMinutesPerDay is { } vm) { activity.VigorousMinutesPerDay = vm; }
        if (p.ModerateDays is { } md) { activity.ModerateDays = md; }
        if (p.ModerateMinutesPerDay is { } mm) { activity.ModerateMinutesPerDay = mm; }
        if (p.WalkingDays is { } wd) { activity.WalkingDays = wd; }
        if (p.WalkingMinutesPerDay is { } wm) { activity.WalkingMinutesPerDay = wm; }

        var q = participant.Qct;
        var qct = new QctMeasures
        {
            FemoralNeck = Region(q.FemoralNeck),
            Trochanter = Region(q.Trochanter),
            Intertrochanter = Region(q.Intertrochanter),
            TotalHip = Region(q.TotalProximalFemur),
        };
        if (q.L1L2VbmdMgPerCm3 is { } spine) { qct.SpineL1L2VbmdMgCm3 = spine; }
        var g = q.NeckGeometry;
        if (g.ProjectedAbmdGPerCm2 is { } abmd) { qct.NeckArealBmdGCm2 = abmd; }
        if (g.NeckWidthCm is { } fnw) { qct.NeckWidthCm = fnw; }
        if (g.CorticalDepthMm is { } depth) { qct.NeckCorticalDepthMm = depth; }
        if (g.HipAxisLengthMm is { } hal) { qct.HipAxisLengthMm = hal; }
        if (g.NeckAngleDeg is { } angle) { qct.NeckShaftAngleDeg = angle; }

        return new ParticipantRecord { Demographics = demographics, Anthropometry = anthropometry, Labs = labs, PhysicalActivity = activity, Qct = qct };
    }

    /// <summary>The proto field path of a domain field path (camelCase → the proto's snake_case names).</summary>
    public static string ProtoPath(string domainPath, string prefix)
    {
        ArgumentNullException.ThrowIfNull(domainPath);
        if (Renamed.TryGetValue(domainPath, out var renamed))
        {
            return prefix + renamed;
        }

        var parts = domainPath.Split('.');
        for (var i = 0; i < parts.Length; i++)
        {
            parts[i] = parts[i] == "totalProximalFemur" ? "total_hip" : Snake(parts[i]);
            if (parts[0] == "qct")
            {
                parts[i] = parts[i].Replace("_per_", "_", StringComparison.Ordinal);
            }
        }

        return prefix + string.Join('.', parts);
    }

    /// <summary>Maps domain derived values to the proto message.</summary>
    public static DerivedValues ToProto(D.DerivedValues derived)
    {
        ArgumentNullException.ThrowIfNull(derived);
        var category = derived.IpaqCategory;
        return new DerivedValues
        {
            HomaIr = Value(derived.HomaIr, string.Empty),
            LogHomaIr = Value(derived.LnHomaIr, string.Empty),
            Quicki = Value(derived.Quicki, string.Empty),
            TygIndex = Value(derived.TyG, string.Empty),
            Bmi = Value(derived.BmiKgPerM2, "kg/m2"),
            EgfrCkdEpi2009 = Value(derived.EgfrCkdEpi2009, "mL/min/{1.73_m2}"),
            EgfrCkdEpi2021 = Value(derived.EgfrCkdEpi2021, "mL/min/{1.73_m2}"),
            MetMinutesPerWeek = Value(derived.IpaqMetMinPerWeek, "{MET}.min/wk"),
            PhysicalActivityCategory = category.Value switch
            {
                D.IpaqCategory.Inactive => PhysicalActivityCategory.Inactive,
                D.IpaqCategory.MinimallyActive => PhysicalActivityCategory.MinimallyActive,
                D.IpaqCategory.HepaActive => PhysicalActivityCategory.HepaActive,
                _ => PhysicalActivityCategory.Unspecified,
            },
            PhysicalActivityNotComputableReason = category.Reason ?? string.Empty,
            LogHsCrp = Value(derived.LnHsCrp, string.Empty),
            CompressiveStrengthIndex = Value(derived.CsiMm2PerN, "mm2/N"),
            SectionModulus = Value(derived.SectionModulusCm3, "cm3"),
            BucklingRatio = Value(derived.BucklingRatio, string.Empty),
        };
    }

    /// <summary>Maps a domain eligibility result to the proto message.</summary>
    public static Eligibility ToProto(D.EligibilityResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var eligibility = new Eligibility
        {
            Eligible = result.IsEligible,
            FirstReason = result.FirstReason is { } first ? (ExclusionReason)(int)first : ExclusionReason.Unspecified,
        };
        eligibility.Reasons.AddRange(result.AllReasons.Select(r => (ExclusionReason)(int)r));
        return eligibility;
    }

    private static DerivedValue Value(D.Derived<double> derived, string unit) =>
        derived.Value is { } v ? new DerivedValue { Value = v, Unit = unit } : new DerivedValue { NotComputableReason = derived.Reason ?? "not computable", Unit = unit };

    private static Quantity? Lab(D.Quantity? quantity) => quantity is { } q
        ? new Quantity { Value = q.Value, Unit = D.UnitConversions.Symbol(q.Unit).Replace('µ', 'u') }
        : null;

    private static RegionMeasures Region(D.QctRegion region)
    {
        var r = new RegionMeasures();
        if (region.TotalVbmdMgPerCm3 is { } tv) { r.TotalVbmdMgCm3 = tv; }
        if (region.CorticalVbmdMgPerCm3 is { } cv) { r.CorticalVbmdMgCm3 = cv; }
        if (region.TrabecularVbmdMgPerCm3 is { } bv) { r.TrabecularVbmdMgCm3 = bv; }
        if (region.TotalVolumeCm3 is { } tvol) { r.TotalVolumeCm3 = tvol; }
        if (region.CorticalVolumeCm3 is { } cvol) { r.CorticalVolumeCm3 = cvol; }
        if (region.TrabecularVolumeCm3 is { } bvol) { r.TrabecularVolumeCm3 = bvol; }
        return r;
    }

    private static D.QctRegion Region(RegionMeasures? region) => region is null ? new D.QctRegion() : new D.QctRegion
    {
        TotalVbmdMgPerCm3 = region.HasTotalVbmdMgCm3 ? region.TotalVbmdMgCm3 : null,
        CorticalVbmdMgPerCm3 = region.HasCorticalVbmdMgCm3 ? region.CorticalVbmdMgCm3 : null,
        TrabecularVbmdMgPerCm3 = region.HasTrabecularVbmdMgCm3 ? region.TrabecularVbmdMgCm3 : null,
        TotalVolumeCm3 = region.HasTotalVolumeCm3 ? region.TotalVolumeCm3 : null,
        CorticalVolumeCm3 = region.HasCorticalVolumeCm3 ? region.CorticalVolumeCm3 : null,
        TrabecularVolumeCm3 = region.HasTrabecularVolumeCm3 ? region.TrabecularVolumeCm3 : null,
    };

    private static D.Quantity? Lab(Quantity? quantity, D.Analyte analyte, string path, List<FieldViolation> violations)
    {
        if (quantity is null)
        {
            return null;
        }

        var unit = quantity.Unit.Trim() switch
        {
            "" => D.UnitConversions.CanonicalUnit(analyte),
            "mg/dL" => D.LabUnit.MgPerDl,
            "mmol/L" => D.LabUnit.MmolPerL,
            "uIU/mL" or "µIU/mL" or "[iU]/mL" or "u[IU]/mL" or "mU/L" or "m[IU]/L" => D.LabUnit.MicroIuPerMl,
            "pmol/L" => D.LabUnit.PmolPerL,
            "umol/L" or "µmol/L" => D.LabUnit.MicromolPerL,
            "ng/mL" => D.LabUnit.NgPerMl,
            "nmol/L" => D.LabUnit.NmolPerL,
            "mg/L" => D.LabUnit.MgPerL,
            "%" => D.LabUnit.Percent,
            "mmol/mol" => D.LabUnit.MmolPerMol,
            _ => D.LabUnit.Unspecified,
        };
        if (unit == D.LabUnit.Unspecified || !D.UnitConversions.IsAccepted(analyte, unit))
        {
            var accepted = string.Join(", ", D.UnitConversions.AcceptedUnits(analyte).Select(D.UnitConversions.Symbol));
            var shown = quantity.Unit.Length > 16 ? quantity.Unit[..16] + "…" : quantity.Unit;
            violations.Add(new FieldViolation(path + ".unit", $"unit '{shown}' is not accepted; accepted: {accepted}"));
            return null;
        }

        return new D.Quantity(quantity.Value, unit);
    }

    private static string Snake(string camel)
    {
        var sb = new StringBuilder(camel.Length + 8);
        for (var i = 0; i < camel.Length; i++)
        {
            var c = camel[i];
            if (char.IsUpper(c))
            {
                if (i > 0)
                {
                    sb.Append('_');
                }

                sb.Append(char.ToLowerInvariant(c));
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
