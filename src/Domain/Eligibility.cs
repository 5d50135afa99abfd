namespace HomaBone.Domain;

/// <summary>The exclusion criteria of the study's flow diagram (Yang et al. 2018, Fig. 1), in the paper's order.</summary>
public enum ExclusionReason
{
    /// <summary>Not a reason (never reported).</summary>
    Unspecified = 0,

    /// <summary>Any menstrual flow within the last 12 months (paper: 796).</summary>
    MenstrualFlowWithin12Months = 1,

    /// <summary>Age &lt; 50 years (51).</summary>
    AgeUnder50 = 2,

    /// <summary>HbA1c ≥ 6.5 % or anti-diabetic medication (123).</summary>
    Diabetes = 3,

    /// <summary>Fasting glucose or insulin missing (2).</summary>
    GlucoseOrInsulinMissing = 4,

    /// <summary>No QCT measure (2).</summary>
    QctMissing = 5,

    /// <summary>Osteoporosis treatment (64).</summary>
    OsteoporosisTreatment = 6,

    /// <summary>Current glucocorticoid use (2).</summary>
    CurrentGlucocorticoid = 7,

    /// <summary>Liver cirrhosis (1).</summary>
    LiverCirrhosis = 8,

    /// <summary>Estrogen replacement therapy (129).</summary>
    EstrogenReplacementTherapy = 9,
}

/// <summary>What a criterion whose input is missing does.</summary>
public enum MissingCriterionPolicy
{
    /// <summary>
    /// Default: the criterion counts as failed (eligibility must be shown, not assumed), and the criterion is also listed
    /// in <see cref="EligibilityResult.Undetermined"/> so the cause (missing data) stays visible.
    /// </summary>
    Exclude = 0,

    /// <summary>The criterion counts as passed (e.g. a missing medication answer read as "no"); still listed as undetermined.</summary>
    Include = 1,
}

/// <summary>Eligibility options.</summary>
public sealed record EligibilityOptions
{
    /// <summary>Default options: the paper's order, missing → excluded.</summary>
    public static EligibilityOptions Default { get; } = new();

    /// <summary>The paper's order (Fig. 1).</summary>
    public static IReadOnlyList<ExclusionReason> PaperOrder { get; } =
    [
        ExclusionReason.MenstrualFlowWithin12Months, ExclusionReason.AgeUnder50, ExclusionReason.Diabetes,
        ExclusionReason.GlucoseOrInsulinMissing, ExclusionReason.QctMissing, ExclusionReason.OsteoporosisTreatment,
        ExclusionReason.CurrentGlucocorticoid, ExclusionReason.LiverCirrhosis, ExclusionReason.EstrogenReplacementTherapy,
    ];

    /// <summary>
    /// Order in which reasons are tried for <see cref="EligibilityResult.FirstReason"/>. Reasons not listed are appended in
    /// the paper's order; duplicates and <see cref="ExclusionReason.Unspecified"/> are rejected.
    /// </summary>
    public IReadOnlyList<ExclusionReason> Order { get; init; } = PaperOrder;

    /// <summary>Policy for a criterion whose input is missing.</summary>
    public MissingCriterionPolicy MissingPolicy { get; init; } = MissingCriterionPolicy.Exclude;

    /// <summary>HbA1c threshold (%), inclusive: HbA1c ≥ threshold is diabetes.</summary>
    public double HbA1cDiabetesThresholdPercent { get; init; } = 6.5;

    /// <summary>Age threshold (years): age &lt; threshold is excluded.</summary>
    public double MinimumAgeYears { get; init; } = 50.0;
}

/// <summary>The outcome of the eligibility criteria for one participant.</summary>
/// <param name="FirstReason">The first failing reason in the configured order; null when eligible.</param>
/// <param name="AllReasons">Every failing reason, in the configured order.</param>
/// <param name="Undetermined">Criteria whose input was missing (failing or passing per the policy), in the configured order.</param>
public sealed record EligibilityResult(
    ExclusionReason? FirstReason,
    IReadOnlyList<ExclusionReason> AllReasons,
    IReadOnlyList<ExclusionReason> Undetermined)
{
    /// <summary>True when no criterion fails.</summary>
    public bool IsEligible => FirstReason is null;
}

/// <summary>The eligibility criteria of the flow diagram.</summary>
public static class EligibilityCriteria
{
    /// <summary>
    /// Evaluates every criterion. Definitions: menstrual flow within 12 months = <c>AnyMenstrualFlowWithin12Months</c>
    /// is true or <c>MonthsSinceLastMenses</c> &lt; 12 (undetermined when both are missing); age &lt; 50 (undetermined
    /// when missing); diabetes = HbA1c ≥ 6.5 % or anti-diabetic medication (fails on either; passes only when HbA1c is
    /// known &lt; 6.5 and medication is known "no"); glucose or insulin missing (never undetermined); QCT missing = no
    /// QCT measure at all; osteoporosis treatment, current glucocorticoid, liver cirrhosis, estrogen replacement =
    /// the flag is true (undetermined when missing). Undetermined criteria fail or pass per
    /// <see cref="EligibilityOptions.MissingPolicy"/>.
    /// </summary>
    /// <param name="participant">The record.</param>
    /// <param name="options">Options; <see cref="EligibilityOptions.Default"/> if null.</param>
    /// <param name="units">Unit constants for HbA1c in mmol/mol.</param>
    /// <returns>First reason, all reasons and the undetermined criteria.</returns>
    /// <exception cref="ArgumentException">The configured order has duplicates or Unspecified.</exception>
    public static EligibilityResult Evaluate(Participant participant, EligibilityOptions? options = null, UnitConversionOptions? units = null)
    {
        ArgumentNullException.ThrowIfNull(participant);
        options ??= EligibilityOptions.Default;
        var order = ResolveOrder(options.Order);
        var all = new List<ExclusionReason>();
        var undetermined = new List<ExclusionReason>();
        foreach (var reason in order)
        {
            var outcome = Check(reason, participant, options, units);
            if (outcome is null)
            {
                undetermined.Add(reason);
                if (options.MissingPolicy == MissingCriterionPolicy.Exclude)
                {
                    all.Add(reason);
                }
            }
            else if (outcome.Value)
            {
                all.Add(reason);
            }
        }

        return new EligibilityResult(all.Count > 0 ? all[0] : null, all, undetermined);
    }

    /// <summary>The full order used: the configured reasons then the missing ones in the paper's order.</summary>
    /// <param name="configured">Configured order.</param>
    /// <returns>A permutation of all reasons.</returns>
    /// <exception cref="ArgumentException">Duplicates or Unspecified.</exception>
    public static IReadOnlyList<ExclusionReason> ResolveOrder(IReadOnlyList<ExclusionReason>? configured)
    {
        var result = new List<ExclusionReason>();
        foreach (var reason in configured ?? [])
        {
            if (!EligibilityOptions.PaperOrder.Contains(reason))
            {
                throw new ArgumentException($"Unknown exclusion reason {reason} in the order.", nameof(configured));
            }

            if (result.Contains(reason))
            {
                throw new ArgumentException($"Exclusion reason {reason} appears twice in the order.", nameof(configured));
            }

            result.Add(reason);
        }

        result.AddRange(EligibilityOptions.PaperOrder.Where(r => !result.Contains(r)));
        return result;
    }

    /// <summary>true = criterion fails (exclude), false = passes, null = undetermined (input missing).</summary>
    private static bool? Check(ExclusionReason reason, Participant p, EligibilityOptions options, UnitConversionOptions? units)
    {
        var d = p.Demographics;
        return reason switch
        {
            ExclusionReason.MenstrualFlowWithin12Months => Flow(d),
            ExclusionReason.AgeUnder50 => d.AgeYears is { } age && double.IsFinite(age) ? age < options.MinimumAgeYears : null,
            ExclusionReason.Diabetes => Diabetes(p, options, units),
            ExclusionReason.GlucoseOrInsulinMissing =>
                p.Labs.CanonicalValue(Analyte.Glucose, units) is not { } g || !double.IsFinite(g)
                || p.Labs.CanonicalValue(Analyte.Insulin, units) is not { } i || !double.IsFinite(i),
            ExclusionReason.QctMissing => p.Qct.IsEmpty,
            ExclusionReason.OsteoporosisTreatment => d.OsteoporosisTreatment,
            ExclusionReason.CurrentGlucocorticoid => d.CurrentGlucocorticoid,
            ExclusionReason.LiverCirrhosis => d.LiverCirrhosis,
            ExclusionReason.EstrogenReplacementTherapy => d.EstrogenReplacementTherapy,
            _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Unknown exclusion reason."),
        };
    }

    private static bool? Flow(Demographics d)
    {
        if (d.AnyMenstrualFlowWithin12Months == true || (d.MonthsSinceLastMenses is { } m && m < 12))
        {
            return true;
        }

        if (d.AnyMenstrualFlowWithin12Months == false || d.MonthsSinceLastMenses is { } m2 && m2 >= 12)
        {
            return false;
        }

        return null;
    }

    private static bool? Diabetes(Participant p, EligibilityOptions options, UnitConversionOptions? units)
    {
        var hba1c = p.Labs.CanonicalValue(Analyte.HbA1c, units);
        var medication = p.Demographics.AntiDiabeticMedication;
        if (medication == true || (hba1c is { } h && h >= options.HbA1cDiabetesThresholdPercent))
        {
            return true;
        }

        return medication == false && hba1c is { } h2 && double.IsFinite(h2) ? false : null;
    }
}
