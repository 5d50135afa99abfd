using HomaBone.Domain;

namespace HomaBone.Synthetic;

/// <summary>One generated participant.</summary>
/// <param name="ParticipantId">Identifier (valid per <see cref="ParticipantValidator.IsValidIdentifier"/>).</param>
/// <param name="Record">The domain record (canonical units unless <see cref="SyntheticCohortOptions.AlternativeUnitFraction"/> &gt; 0).</param>
/// <param name="IntendedExclusion">The reason the generator built this participant to fail first (paper order); null for eligible.</param>
public sealed record SyntheticParticipant(string ParticipantId, Participant Record, ExclusionReason? IntendedExclusion);

/// <summary>Options of <see cref="SyntheticCohort.Generate"/>.</summary>
public sealed record SyntheticCohortOptions
{
    /// <summary>The flow diagram's exclusion counts (Yang et al. 2018, Fig. 1).</summary>
    public static IReadOnlyDictionary<ExclusionReason, int> PaperExclusionCounts { get; } = new Dictionary<ExclusionReason, int>
    {
        [ExclusionReason.MenstrualFlowWithin12Months] = 796,
        [ExclusionReason.AgeUnder50] = 51,
        [ExclusionReason.Diabetes] = 123,
        [ExclusionReason.GlucoseOrInsulinMissing] = 2,
        [ExclusionReason.QctMissing] = 2,
        [ExclusionReason.OsteoporosisTreatment] = 64,
        [ExclusionReason.CurrentGlucocorticoid] = 2,
        [ExclusionReason.LiverCirrhosis] = 1,
        [ExclusionReason.EstrogenReplacementTherapy] = 129,
    };

    /// <summary>Number of eligible participants (paper: 1,008).</summary>
    public int Eligible { get; init; } = 1008;

    /// <summary>
    /// Excluded participants per first reason in the paper's order (default: the flow diagram's counts; they do not
    /// scale with <see cref="Eligible"/>). Reasons absent from the dictionary get none.
    /// </summary>
    public IReadOnlyDictionary<ExclusionReason, int> Excluded { get; init; } = PaperExclusionCounts;

    /// <summary>Leave realistic gaps (25(OH)D ≈ 2.5 %, hs-CRP ≈ 1.5 %, IPAQ ≈ 1.2 %, …) in fields eligibility does not use.</summary>
    public bool IncludeMissingValues { get; init; } = true;

    /// <summary>Fraction of participants whose laboratory values are expressed in SI units (mmol/L, pmol/L, µmol/L, nmol/L).</summary>
    public double AlternativeUnitFraction { get; init; }

    /// <summary>Prefix of generated identifiers.</summary>
    public string IdPrefix { get; init; } = "P";
}

/// <summary>
/// A deterministic synthetic cohort shaped on Yang et al., J Bone Metab 2018;25:123 (Table 1 by HOMA-IR quartile and the
/// Fig. 1 flow). Same seed and options → identical output on every run and platform (own PRNG and ln/exp). Streaming:
/// O(1) memory per participant, no quadratic step; the order interleaves eligible and excluded participants by a
/// seeded affine permutation.
/// </summary>
public static class SyntheticCohort
{
    /// <summary>Generates the cohort lazily.</summary>
    /// <param name="seed">Seed.</param>
    /// <param name="options">Options; defaults reproduce the paper's counts.</param>
    /// <returns>The participants, ids P0000001… in output order.</returns>
    public static IEnumerable<SyntheticParticipant> Generate(int seed, SyntheticCohortOptions? options = null)
    {
        options ??= new SyntheticCohortOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(options.Eligible);
        if (!(options.AlternativeUnitFraction is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), "AlternativeUnitFraction must be in [0, 1].");
        }

        if (!ParticipantValidator.IsValidIdentifier(options.IdPrefix + "0"))
        {
            throw new ArgumentException("IdPrefix must be made of [A-Za-z0-9._-].", nameof(options));
        }

        // Role boundaries: [0, Eligible) eligible, then each reason's block in the paper's order.
        var boundaries = new List<(long End, ExclusionReason Reason)>();
        long total = options.Eligible;
        foreach (var reason in EligibilityOptions.PaperOrder)
        {
            var count = options.Excluded.TryGetValue(reason, out var c) ? c : 0;
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            total += count;
            boundaries.Add((total, reason));
        }

        return GenerateCore(seed, options, total, boundaries);
    }

    private static IEnumerable<SyntheticParticipant> GenerateCore(
        int seed, SyntheticCohortOptions options, long total, List<(long End, ExclusionReason Reason)> boundaries)
    {
        if (total == 0)
        {
            yield break;
        }

        var permutationRng = new Prng(seed, -1);
        var multiplier = Multiplier(total, permutationRng);
        var offset = (long)(permutationRng.NextUInt64() % (ulong)total);
        var digits = Math.Max(7, total.ToString(System.Globalization.CultureInfo.InvariantCulture).Length);
        for (long i = 0; i < total; i++)
        {
            var position = (long)(((UInt128)(ulong)i * (ulong)multiplier + (ulong)offset) % (ulong)total);
            ExclusionReason? reason = null;
            if (position >= options.Eligible)
            {
                foreach (var (end, r) in boundaries)
                {
                    if (position < end)
                    {
                        reason = r;
                        break;
                    }
                }
            }

            var rng = new Prng(seed, position);
            var record = ParticipantFactory.Create(rng, reason, options);
            var id = options.IdPrefix + (i + 1).ToString("D" + digits.ToString(System.Globalization.CultureInfo.InvariantCulture),
                System.Globalization.CultureInfo.InvariantCulture);
            yield return new SyntheticParticipant(id, record, reason);
        }
    }

    private static long Multiplier(long n, Prng rng)
    {
        if (n <= 2)
        {
            return 1;
        }

        // A multiplier near n·0.618 (well spread), coprime with n so i ↦ a·i + b (mod n) is a permutation.
        var a = (long)(n * 0.6180339887498949) + (long)(rng.NextUInt64() % 97);
        a = Math.Clamp(a, 1, n - 1);
        while (Gcd(a, n) != 1)
        {
            a = a % (n - 1) + 1;
        }

        return a;
    }

    private static long Gcd(long a, long b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
