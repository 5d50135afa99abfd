namespace HomaBone.Gateway.Security;

/// <summary>The roles of the public API.</summary>
public static class Roles
{
    /// <summary>Writes participants (upsert, import, withdraw, QCT uploads).</summary>
    public const string Ingest = "ingest";

    /// <summary>Reads aggregates only: cohort, flow, quartiles, Table 1, group differences, models, watch.</summary>
    public const string Analyst = "analyst";

    /// <summary>Cohort settings (create, update), exports and reads of participant records.</summary>
    public const string Admin = "admin";

    /// <summary>Reads the audit log.</summary>
    public const string Auditor = "auditor";

    /// <summary>Every role (the development principal has them all).</summary>
    public static readonly IReadOnlyList<string> All = [Ingest, Analyst, Admin, Auditor];
}
