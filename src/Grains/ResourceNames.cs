using System.Text.RegularExpressions;

namespace HomaBone.Grains;

/// <summary>Parses and formats resource names (AIP-122): cohorts/{cohort}/participants/{participant}.</summary>
public static partial class ResourceNames
{
    /// <summary>Cohort ids: 1-64 of lower-case letters, digits and '-', starting with a letter or digit.</summary>
    public const string CohortIdRule = "1-64 characters of [a-z0-9-], starting with a letter or digit";

    /// <summary>Participant ids: 1-64 of letters, digits, '.', '_' and '-'.</summary>
    public const string ParticipantIdRule = "1-64 characters of [A-Za-z0-9._-]";

    /// <summary>True when <paramref name="id"/> is a valid cohort id.</summary>
    public static bool IsValidCohortId(string? id) => id is not null && CohortIdPattern().IsMatch(id);

    /// <summary>True when <paramref name="id"/> is a valid participant id.</summary>
    public static bool IsValidParticipantId(string? id) => id is not null && ParticipantIdPattern().IsMatch(id);

    /// <summary>cohorts/{cohort}.</summary>
    public static string Cohort(string cohortId) => "cohorts/" + cohortId;

    /// <summary>cohorts/{cohort}/participants/{participant}.</summary>
    public static string Participant(string cohortId, string participantId) => "cohorts/" + cohortId + "/participants/" + participantId;

    /// <summary>Parses cohorts/{cohort}; false when malformed.</summary>
    public static bool TryParseCohort(string? name, out string cohortId)
    {
        cohortId = string.Empty;
        if (name is null || !name.StartsWith("cohorts/", StringComparison.Ordinal))
        {
            return false;
        }

        var id = name["cohorts/".Length..];
        if (!IsValidCohortId(id))
        {
            return false;
        }

        cohortId = id;
        return true;
    }

    /// <summary>Parses cohorts/{cohort}/participants/{participant}; false when malformed.</summary>
    public static bool TryParseParticipant(string? name, out string cohortId, out string participantId)
    {
        cohortId = string.Empty;
        participantId = string.Empty;
        if (name is null)
        {
            return false;
        }

        var parts = name.Split('/');
        if (parts.Length != 4 || parts[0] != "cohorts" || parts[2] != "participants" || !IsValidCohortId(parts[1]) || !IsValidParticipantId(parts[3]))
        {
            return false;
        }

        cohortId = parts[1];
        participantId = parts[3];
        return true;
    }

    /// <summary>The cohort shard of a participant: a stable FNV-1a hash of the id, so every process agrees.</summary>
    public static int ShardOf(string participantId, int shardCount)
    {
        ArgumentNullException.ThrowIfNull(participantId);
        var hash = 2166136261u;
        foreach (var ch in participantId)
        {
            hash = unchecked((hash ^ ch) * 16777619u);
        }

        return (int)(hash % (uint)shardCount);
    }

    // \z, not $: '$' also matches before a final '\n', which would let "p\n" through as an id.
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex CohortIdPattern();

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex ParticipantIdPattern();
}
