namespace HomaBone.Domain;

/// <summary>IPAQ categorical score (the study's labels = the 2005 protocol's older labels).</summary>
public enum IpaqCategory
{
    /// <summary>Not scored.</summary>
    Unspecified = 0,

    /// <summary>Category 1, "low".</summary>
    Inactive = 1,

    /// <summary>Category 2, "moderate".</summary>
    MinimallyActive = 2,

    /// <summary>Category 3, "high" (health-enhancing physical activity).</summary>
    HepaActive = 3,
}

/// <summary>
/// Readings of the ambiguous category-2 criterion (b) of the IPAQ 2005 protocol, "5 or more days of moderate-intensity
/// activity and/or walking of at least 30 minutes per day" (methods.md §1.4, §9.4).
/// </summary>
public enum IpaqModerateWalkingRule
{
    /// <summary>Default: <see cref="Union"/>.</summary>
    Unspecified = 0,

    /// <summary>(moderate days ≥ 5 ∧ moderate min ≥ 30) ∨ (walking days ≥ 5 ∧ walking min ≥ 30).</summary>
    Separate = 1,

    /// <summary>moderate days·[moderate min ≥ 30] + walking days·[walking min ≥ 30] ≥ 5.</summary>
    CombinedCount = 2,

    /// <summary>
    /// <see cref="Separate"/> ∨ <see cref="CombinedCount"/> (the default). Because the combined count is ≥ 5 whenever a
    /// single domain qualifies, the union coincides with <see cref="CombinedCount"/>; it is kept as its own name so
    /// the chosen reading is explicit in configuration and output.
    /// </summary>
    Union = 3,
}

/// <summary>IPAQ scoring options.</summary>
public sealed record IpaqOptions
{
    /// <summary>Default options (union reading of criterion 2(b)).</summary>
    public static IpaqOptions Default { get; } = new();

    /// <summary>Reading of category-2 criterion (b).</summary>
    public IpaqModerateWalkingRule ModerateWalkingRule { get; init; } = IpaqModerateWalkingRule.Union;
}

/// <summary>The IPAQ-SF score of one participant after the protocol's cleaning rules.</summary>
/// <param name="WalkingMetMinPerWeek">3.3 × walking min/day × days.</param>
/// <param name="ModerateMetMinPerWeek">4.0 × moderate min/day × days.</param>
/// <param name="VigorousMetMinPerWeek">8.0 × vigorous min/day × days.</param>
/// <param name="TotalMetMinPerWeek">Sum of the three.</param>
/// <param name="Category">Categorical score.</param>
public readonly record struct IpaqScore(
    double WalkingMetMinPerWeek,
    double ModerateMetMinPerWeek,
    double VigorousMetMinPerWeek,
    double TotalMetMinPerWeek,
    IpaqCategory Category);

/// <summary>The IPAQ short form scoring protocol.</summary>
public static class Ipaq
{
    /// <summary>MET value of walking.</summary>
    public const double WalkingMet = 3.3;

    /// <summary>MET value of moderate activity.</summary>
    public const double ModerateMet = 4.0;

    /// <summary>MET value of vigorous activity.</summary>
    public const double VigorousMet = 8.0;

    /// <summary>
    /// Scores the IPAQ short form per the <i>Guidelines for Data Processing and Analysis of the International Physical
    /// Activity Questionnaire (IPAQ) – Short and Long Forms</i>, revised November 2005 (methods.md §1.4). Rules, in order:
    /// (1) days or minutes missing → case excluded (a domain answered with 0 days needs no minutes, as in the
    /// questionnaire's skip pattern; days must be 0–7); (2) walking + moderate + vigorous minutes/day over the domains
    /// with days &gt; 0, before truncation, &gt; 960 → excluded; (3) a daily time &lt; 10 min → 0 and its days → 0;
    /// (4) a daily time &gt; 180 min → 180. Then MET-min/week = MET × min/day × days, and the category:
    /// HEPA active if (a) vigorous days ≥ 3 ∧ total ≥ 1500 or (b) days of any combination ≥ 7 ∧ total ≥ 3000;
    /// else minimally active if (a) vigorous days ≥ 3 ∧ vigorous min ≥ 20, (b) per <see cref="IpaqOptions.ModerateWalkingRule"/>,
    /// or (c) days of any combination ≥ 5 ∧ total ≥ 600; else inactive. "Days of any combination" is the sum of the
    /// three domains' days after rule 3 (domain-days; may exceed 7). IPAQ was validated for ages 15–69; older
    /// participants are scored anyway.
    /// </summary>
    /// <param name="responses">The answers (minutes per day, days per week).</param>
    /// <param name="options">Scoring options; <see cref="IpaqOptions.Default"/> if null.</param>
    /// <returns>The score, or not computable with the rule that excluded the case.</returns>
    public static Derived<IpaqScore> Score2005(IpaqResponses responses, IpaqOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(responses);
        options ??= IpaqOptions.Default;

        // Rule 1: missing / out-of-range answers exclude the case.
        if (!Domain(responses.VigorousDays, responses.VigorousMinutesPerDay, "vigorous", out var vigDays, out var vigMin, out var why)
            || !Domain(responses.ModerateDays, responses.ModerateMinutesPerDay, "moderate", out var modDays, out var modMin, out why)
            || !Domain(responses.WalkingDays, responses.WalkingMinutesPerDay, "walking", out var walkDays, out var walkMin, out why))
        {
            return Derived.NotComputable<IpaqScore>(why!);
        }

        // Rule 2: more than 16 h/day of activity before truncation.
        if (vigMin + modMin + walkMin > 960.0)
        {
            return Derived.NotComputable<IpaqScore>("IPAQ excluded: more than 960 min/day of activity in total (rule 2)");
        }

        // Rule 3 then rule 4.
        (vigDays, vigMin) = Clean(vigDays, vigMin);
        (modDays, modMin) = Clean(modDays, modMin);
        (walkDays, walkMin) = Clean(walkDays, walkMin);

        var walking = WalkingMet * walkMin * walkDays;
        var moderate = ModerateMet * modMin * modDays;
        var vigorous = VigorousMet * vigMin * vigDays;
        var total = walking + moderate + vigorous;
        var anyDays = vigDays + modDays + walkDays;

        IpaqCategory category;
        if ((vigDays >= 3 && total >= 1500.0) || (anyDays >= 7 && total >= 3000.0))
        {
            category = IpaqCategory.HepaActive;
        }
        else if ((vigDays >= 3 && vigMin >= 20.0)
            || ModerateOrWalking(options.ModerateWalkingRule, modDays, modMin, walkDays, walkMin)
            || (anyDays >= 5 && total >= 600.0))
        {
            category = IpaqCategory.MinimallyActive;
        }
        else
        {
            category = IpaqCategory.Inactive;
        }

        return Derived.Of(new IpaqScore(walking, moderate, vigorous, total, category));
    }

    private static bool ModerateOrWalking(IpaqModerateWalkingRule rule, int modDays, double modMin, int walkDays, double walkMin)
    {
        var separate = (modDays >= 5 && modMin >= 30.0) || (walkDays >= 5 && walkMin >= 30.0);
        var combined = (modMin >= 30.0 ? modDays : 0) + (walkMin >= 30.0 ? walkDays : 0) >= 5;
        return rule switch
        {
            IpaqModerateWalkingRule.Separate => separate,
            IpaqModerateWalkingRule.CombinedCount => combined,
            _ => separate || combined,
        };
    }

    private static bool Domain(int? days, double? minutes, string name, out int d, out double m, out string? why)
    {
        d = 0;
        m = 0;
        why = null;
        if (days is null)
        {
            why = $"IPAQ excluded: {name} days missing (rule 1)";
            return false;
        }

        if (days is < 0 or > 7)
        {
            why = $"IPAQ excluded: {name} days outside 0–7 (rule 1)";
            return false;
        }

        d = days.Value;
        if (d == 0)
        {
            // The time question is skipped after "0 days"; any time given is not part of the score.
            return true;
        }

        if (minutes is not { } mins)
        {
            why = $"IPAQ excluded: {name} minutes missing (rule 1)";
            return false;
        }

        if (!double.IsFinite(mins) || mins < 0 || mins > 1440.0)
        {
            why = $"IPAQ excluded: {name} minutes outside 0–1440 (rule 1)";
            return false;
        }

        m = mins;
        return true;
    }

    private static (int Days, double Minutes) Clean(int days, double minutes)
    {
        if (minutes < 10.0)
        {
            return (0, 0.0);
        }

        return (days, Math.Min(minutes, 180.0));
    }
}
