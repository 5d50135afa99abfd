using HomaBone.Domain;

namespace HomaBone.Synthetic;

/// <summary>
/// Builds one synthetic participant. Eligible women follow Table 1 of Yang et al. 2018 by HOMA-IR quartile: ln HOMA-IR
/// is drawn so its quartiles fall near ln 1.37 / ln 1.74 / ln 2.27 (0.551 + 0.3727 z + 0.0334 z², z ~ N(0,1)); glucose,
/// weight (via BMI), waist, thigh, age, triglycerides and hs-CRP rise and HDL falls with z as in Table 1; insulin is
/// HOMA × 405 / glucose. Bone outcomes depend on height, weight, a shared bone-quality factor and a mild direct negative
/// effect of HOMA-IR on volumes (so adjusted models have signal). Excluded participants are eligible-like except for
/// the criterion they were built to fail (and, for premenopausal women, an age that may also be &lt; 50).
/// </summary>
internal static class ParticipantFactory
{
    private static readonly (string Name, double TotVbmd, double TotSd, double Cort, double CortSd, double Trab, double TrabSd, double Vol, double VolSd)[] RegionShapes =
    [
        ("neck", 286, 45, 990, 50, 150, 32, 6.8, 0.9),
        ("trochanter", 200, 32, 850, 50, 130, 25, 28.0, 4.5),
        ("intertrochanter", 328, 50, 900, 50, 185, 33, 40.0, 6.0),
    ];

    public static Participant Create(Prng rng, ExclusionReason? reason, SyntheticCohortOptions options)
    {
        // Latent insulin-resistance score and HOMA-IR.
        var z = rng.Normal();
        var lnHoma = 0.551 + (0.3727 * z) + (0.0334 * z * z);
        var homa = DeterministicMath.Exp(lnHoma);
        var zHoma = (lnHoma - 0.551) / 0.373;

        var glucose = Math.Clamp(Math.Round(rng.Normal(88.1 + (4.6 * z), 7.0)), 65, 125);
        var insulin = Math.Max(1.0, Round1(homa * 405.0 / glucose));

        var age = Math.Clamp(Math.Round(rng.Normal(57.3 + (0.45 * z), 3.4)), 50, 80);
        var height = Round1(Math.Clamp(rng.Normal(155.5, 5.2), 135, 180));
        var bmi = Math.Clamp(rng.Normal(23.6 + (1.25 * z), 2.2), 16, 40);
        var weight = Round1(bmi * (height / 100.0) * (height / 100.0));
        bmi = weight / (height / 100.0 * (height / 100.0));
        var waist = Round1(Math.Clamp(rng.Normal(78.8 + (2.4 * (bmi - 23.6)), 4.2), 55, 130));
        var thigh = Round1(Math.Clamp(rng.Normal(46.5 + (0.6 * (bmi - 23.6)), 3.6), 32, 70));

        var tg = Math.Clamp(Math.Round(DeterministicMath.Exp(rng.Normal(4.68 + (0.17 * z), 0.42))), 30, 900);
        var hdl = Math.Clamp(Math.Round(rng.Normal(60.6 - (3.0 * z), 13.0)), 25, 130);
        var totalChol = Math.Max(Math.Round(rng.Normal(205, 33)), hdl + 40);
        var ldl = Math.Max(20, Math.Round(totalChol - hdl - (tg / 5.0)));
        var hba1c = Math.Clamp(Round1(rng.Normal(5.6 + (0.1 * z), 0.25)), 4.5, 6.4);
        var vitD = Math.Clamp(Round1(DeterministicMath.Exp(rng.Normal(2.690, 0.487))), 3, 90);
        var creatinine = Math.Clamp(Math.Round(rng.Normal(0.82, 0.11) * 100) / 100, 0.4, 1.4);
        var crp = Math.Clamp(Math.Round(DeterministicMath.Exp(rng.Normal(-0.56 + (0.17 * z), 0.85)) * 100) / 100, 0.02, 30);

        var alcoholDraw = rng.NextDouble();
        var alcohol = alcoholDraw < 0.70 ? 0.0 : alcoholDraw < 0.94 ? Round1(rng.Uniform(0.1, 0.95)) : Round1(rng.Uniform(1.0, 3.0));
        var smoking = rng.Bernoulli(0.015);
        var menopauseAge = Math.Clamp(rng.Normal(50, 3), 40, age - 1.1);
        var monthsSince = Math.Max(12, Math.Round((age - menopauseAge) * 12));

        var demographics = new Demographics
        {
            Sex = Sex.Female,
            AgeYears = age,
            MonthsSinceLastMenses = monthsSince,
            AnyMenstrualFlowWithin12Months = false,
            AntiDiabeticMedication = false,
            OsteoporosisTreatment = false,
            CurrentGlucocorticoid = false,
            EstrogenReplacementTherapy = false,
            LiverCirrhosis = false,
            CurrentSmoking = smoking,
            AlcoholUnitsPerDay = alcohol,
            Black = false,
        };

        var labs = new LabResults
        {
            Glucose = new(glucose, LabUnit.MgPerDl),
            Insulin = new(insulin, LabUnit.MicroIuPerMl),
            HbA1c = new(hba1c, LabUnit.Percent),
            TotalCholesterol = new(totalChol, LabUnit.MgPerDl),
            HdlCholesterol = new(hdl, LabUnit.MgPerDl),
            LdlCholesterol = new(ldl, LabUnit.MgPerDl),
            Triglycerides = new(tg, LabUnit.MgPerDl),
            HsCrp = new(crp, LabUnit.MgPerL),
            VitaminD = new(vitD, LabUnit.NgPerMl),
            Creatinine = new(creatinine, LabUnit.MgPerDl),
        };

        var anthropometry = new Anthropometry { HeightCm = height, WeightKg = weight, WaistCm = waist, ThighCm = thigh };
        var ipaq = Activity(rng);
        var qct = Bone(rng, height, weight, zHoma);

        var participant = new Participant
        {
            Demographics = demographics,
            Anthropometry = anthropometry,
            Labs = labs,
            PhysicalActivity = ipaq,
            Qct = qct,
        };

        if (reason is { } r)
        {
            participant = Exclude(rng, participant, r);
        }

        if (options.IncludeMissingValues)
        {
            participant = Gaps(rng, participant);
        }

        if (options.AlternativeUnitFraction > 0 && rng.NextDouble() < options.AlternativeUnitFraction)
        {
            participant = participant with { Labs = ToSi(participant.Labs) };
        }

        return participant;
    }

    private static IpaqResponses Activity(Prng rng)
    {
        var draw = rng.NextDouble();
        if (draw < 0.29)
        {
            // Built to be HEPA active (criterion a).
            return new IpaqResponses
            {
                VigorousDays = rng.Integer(3, 6),
                VigorousMinutesPerDay = 10 * rng.Integer(6, 12),
                ModerateDays = rng.Integer(0, 3),
                ModerateMinutesPerDay = 10 * rng.Integer(3, 6),
                WalkingDays = rng.Integer(5, 7),
                WalkingMinutesPerDay = 10 * rng.Integer(3, 6),
            };
        }

        if (draw < 0.73)
        {
            // Minimally active (walking ≥ 5 days × ≥ 30 min).
            return new IpaqResponses
            {
                VigorousDays = 0,
                ModerateDays = rng.Integer(0, 2),
                ModerateMinutesPerDay = 10 * rng.Integer(2, 4),
                WalkingDays = rng.Integer(5, 7),
                WalkingMinutesPerDay = 10 * rng.Integer(3, 6),
            };
        }

        return new IpaqResponses
        {
            VigorousDays = 0,
            ModerateDays = rng.Integer(0, 1),
            ModerateMinutesPerDay = 5 * rng.Integer(1, 6),
            WalkingDays = rng.Integer(0, 4),
            WalkingMinutesPerDay = 5 * rng.Integer(1, 5),
        };
    }

    private static QctMeasures Bone(Prng rng, double height, double weight, double zHoma)
    {
        var hz = (height - 155.5) / 5.2;
        var wz = (weight - 57.0) / 7.0;
        var bone = rng.Normal();
        var regions = new QctRegion[3];
        double volSum = 0, massSum = 0, cortVolSum = 0, cortMassSum = 0, trabVolSum = 0, trabMassSum = 0;
        for (var k = 0; k < RegionShapes.Length; k++)
        {
            var s = RegionShapes[k];
            var totVbmd = s.TotVbmd + (s.TotSd * ((0.65 * bone) + (0.25 * wz) + (0.05 * zHoma) + (0.6 * rng.Normal())));
            var cort = s.Cort + (s.CortSd * ((0.4 * bone) + (0.15 * wz) + (0.1 * zHoma) + (0.85 * rng.Normal())));
            var trab = s.Trab + (s.TrabSd * ((0.7 * bone) + (0.15 * wz) + (0.65 * rng.Normal())));
            totVbmd = Math.Clamp(totVbmd, 0.45 * s.TotVbmd, 1.8 * s.TotVbmd);
            trab = Math.Clamp(trab, 20, totVbmd - 30);
            cort = Math.Max(cort, totVbmd + 150);
            var volume = Math.Max(0.4 * s.Vol, s.Vol + (s.VolSd * ((0.35 * hz) + (0.3 * wz) - (0.15 * zHoma) + (0.75 * rng.Normal()))));
            var cortFraction = (totVbmd - trab) / (cort - trab);
            var cortVolume = volume * cortFraction;
            var trabVolume = volume - cortVolume;
            regions[k] = new QctRegion
            {
                TotalVbmdMgPerCm3 = Round1(totVbmd),
                CorticalVbmdMgPerCm3 = Round1(cort),
                TrabecularVbmdMgPerCm3 = Round1(trab),
                TotalVolumeCm3 = Round2(volume),
                CorticalVolumeCm3 = Round2(cortVolume),
                TrabecularVolumeCm3 = Round2(trabVolume),
            };
            volSum += volume;
            massSum += volume * totVbmd;
            cortVolSum += cortVolume;
            cortMassSum += cortVolume * cort;
            trabVolSum += trabVolume;
            trabMassSum += trabVolume * trab;
        }

        var total = new QctRegion
        {
            TotalVbmdMgPerCm3 = Round1(massSum / volSum),
            CorticalVbmdMgPerCm3 = Round1(cortMassSum / cortVolSum),
            TrabecularVbmdMgPerCm3 = Round1(trabMassSum / trabVolSum),
            TotalVolumeCm3 = Round2(volSum),
            CorticalVolumeCm3 = Round2(cortVolSum),
            TrabecularVolumeCm3 = Round2(trabVolSum),
        };

        var geometry = new FemoralNeckGeometry
        {
            ProjectedAbmdGPerCm2 = Math.Round(Math.Clamp(0.68 + (0.09 * ((0.6 * bone) + (0.3 * wz) - (0.08 * zHoma) + (0.6 * rng.Normal()))), 0.3, 1.3) * 1000) / 1000,
            NeckWidthCm = Round2(Math.Clamp(2.95 + (0.22 * ((0.4 * hz) + (0.15 * wz) + (0.85 * rng.Normal()))), 2.2, 4.0)),
            CorticalDepthMm = Round2(Math.Clamp(0.57 + (0.17 * ((0.5 * bone) + (0.2 * wz) - (0.1 * zHoma) + (0.8 * rng.Normal()))), 0.15, 1.5)),
            HipAxisLengthMm = Round1(Math.Clamp(104.2 + (12.0 * ((0.5 * hz) + (0.85 * rng.Normal()))), 70, 150)),
            NeckAngleDeg = Round1(Math.Clamp(rng.Normal(37.7, 6.0), 15, 60)),
        };

        return new QctMeasures
        {
            L1L2VbmdMgPerCm3 = Round1(Math.Clamp(115 + (30 * ((0.6 * bone) + (0.8 * rng.Normal()))), 20, 300)),
            FemoralNeck = regions[0],
            Trochanter = regions[1],
            Intertrochanter = regions[2],
            TotalProximalFemur = total,
            NeckGeometry = geometry,
        };
    }

    private static Participant Exclude(Prng rng, Participant p, ExclusionReason reason)
    {
        var d = p.Demographics;
        switch (reason)
        {
            case ExclusionReason.MenstrualFlowWithin12Months:
                var premenopausalAge = Math.Clamp(Math.Round(rng.Normal(49, 3.5)), 40, 58);
                return p with
                {
                    Demographics = d with
                    {
                        AgeYears = premenopausalAge,
                        AnyMenstrualFlowWithin12Months = true,
                        MonthsSinceLastMenses = rng.Integer(0, 11),
                    },
                };
            case ExclusionReason.AgeUnder50:
                var youngAge = rng.Integer(45, 49);
                return p with { Demographics = d with { AgeYears = youngAge, MonthsSinceLastMenses = rng.Integer(12, 48) } };
            case ExclusionReason.Diabetes:
                var glucose = Math.Round(rng.Uniform(105, 190));
                var medicated = rng.Bernoulli(0.4);
                var hba1c = medicated ? Round1(rng.Uniform(5.8, 8.5)) : Round1(rng.Uniform(6.5, 9.5));
                var insulin = p.Labs.Insulin!.Value.Value;
                return p with
                {
                    Demographics = d with { AntiDiabeticMedication = medicated },
                    Labs = p.Labs with
                    {
                        Glucose = new(glucose, LabUnit.MgPerDl),
                        HbA1c = new(hba1c, LabUnit.Percent),
                        Insulin = new(Round1(insulin * 1.3), LabUnit.MicroIuPerMl),
                    },
                };
            case ExclusionReason.GlucoseOrInsulinMissing:
                return p with { Labs = rng.Bernoulli(0.5) ? p.Labs with { Glucose = null } : p.Labs with { Insulin = null } };
            case ExclusionReason.QctMissing:
                return p with { Qct = new QctMeasures() };
            case ExclusionReason.OsteoporosisTreatment:
                return p with { Demographics = d with { OsteoporosisTreatment = true } };
            case ExclusionReason.CurrentGlucocorticoid:
                return p with { Demographics = d with { CurrentGlucocorticoid = true } };
            case ExclusionReason.LiverCirrhosis:
                return p with { Demographics = d with { LiverCirrhosis = true } };
            case ExclusionReason.EstrogenReplacementTherapy:
                return p with { Demographics = d with { EstrogenReplacementTherapy = true } };
            default:
                return p;
        }
    }

    /// <summary>Missing values in fields no eligibility criterion reads.</summary>
    private static Participant Gaps(Prng rng, Participant p)
    {
        var labs = p.Labs;
        var missVitD = rng.Bernoulli(0.025);
        var missCrp = rng.Bernoulli(0.015);
        var missLdl = rng.Bernoulli(0.01);
        var missCreatinine = rng.Bernoulli(0.005);
        labs = labs with
        {
            VitaminD = missVitD ? null : labs.VitaminD,
            HsCrp = missCrp ? null : labs.HsCrp,
            LdlCholesterol = missLdl ? null : labs.LdlCholesterol,
            Creatinine = missCreatinine ? null : labs.Creatinine,
        };

        var ipaq = p.PhysicalActivity;
        var ipaqDraw = rng.NextDouble();
        if (ipaqDraw < 0.006)
        {
            ipaq = new IpaqResponses();
        }
        else if (ipaqDraw < 0.012)
        {
            ipaq = ipaq with { WalkingDays = 3, WalkingMinutesPerDay = null };
        }

        var a = p.Anthropometry;
        var missWaist = rng.Bernoulli(0.003);
        var missThigh = rng.Bernoulli(0.003);
        a = a with { WaistCm = missWaist ? null : a.WaistCm, ThighCm = missThigh ? null : a.ThighCm };

        var d = p.Demographics;
        var missSmoking = rng.Bernoulli(0.003);
        var missAlcohol = rng.Bernoulli(0.003);
        d = d with { CurrentSmoking = missSmoking ? null : d.CurrentSmoking, AlcoholUnitsPerDay = missAlcohol ? null : d.AlcoholUnitsPerDay };

        var q = p.Qct;
        if (!q.IsEmpty && rng.Bernoulli(0.01))
        {
            q = q with { L1L2VbmdMgPerCm3 = null };
        }

        return p with { Labs = labs, PhysicalActivity = ipaq, Anthropometry = a, Demographics = d, Qct = q };
    }

    private static LabResults ToSi(LabResults labs)
    {
        static Quantity? Si(Analyte analyte, Quantity? q, LabUnit unit) =>
            q is { } v ? UnitConversions.FromCanonical(analyte, v.Value, unit) : null;

        return labs with
        {
            Glucose = Si(Analyte.Glucose, labs.Glucose, LabUnit.MmolPerL),
            Insulin = Si(Analyte.Insulin, labs.Insulin, LabUnit.PmolPerL),
            TotalCholesterol = Si(Analyte.TotalCholesterol, labs.TotalCholesterol, LabUnit.MmolPerL),
            HdlCholesterol = Si(Analyte.HdlCholesterol, labs.HdlCholesterol, LabUnit.MmolPerL),
            LdlCholesterol = Si(Analyte.LdlCholesterol, labs.LdlCholesterol, LabUnit.MmolPerL),
            Triglycerides = Si(Analyte.Triglycerides, labs.Triglycerides, LabUnit.MmolPerL),
            VitaminD = Si(Analyte.VitaminD, labs.VitaminD, LabUnit.NmolPerL),
            Creatinine = Si(Analyte.Creatinine, labs.Creatinine, LabUnit.MicromolPerL),
        };
    }

    private static double Round1(double x) => Math.Round(x * 10) / 10;

    private static double Round2(double x) => Math.Round(x * 100) / 100;
}
