using System.Collections.Frozen;

namespace HomaBone.Gateway.Security;

/// <summary>Who may call a method.</summary>
/// <param name="Anonymous">Callable without any identity (health checks only).</param>
/// <param name="AnyAuthenticated">Callable by any authenticated principal, whatever its roles.</param>
/// <param name="Roles">Otherwise: the roles of which the principal needs at least one.</param>
public sealed record RpcRule(bool Anonymous, bool AnyAuthenticated, IReadOnlyList<string> Roles);

/// <summary>
/// THE authorization table: every gRPC method of the service and who may call it. A method that is not in
/// this table is denied to everyone (default deny), so a new RPC is unreachable until it gets a line here.
/// docs/security.md shows the same table; the end-to-end tests check every role against every line.
/// </summary>
public static class RpcPolicy
{
    private const string Participants = "/homabone.v1.ParticipantService/";
    private const string Cohorts = "/homabone.v1.CohortService/";

    /// <summary>Method full name ("/package.Service/Method") → rule.</summary>
    public static readonly FrozenDictionary<string, RpcRule> Table = new Dictionary<string, RpcRule>(StringComparer.Ordinal)
    {
        // Writes of participant records.
        [Participants + "UpsertParticipant"] = Require(Roles.Ingest),
        [Participants + "ImportParticipants"] = Require(Roles.Ingest),
        [Participants + "WithdrawParticipant"] = Require(Roles.Ingest),
        ["/homabone.v1.QctService/AnalyzeSeries"] = Require(Roles.Ingest),

        // Reads of participant records: never analysts.
        [Participants + "GetParticipant"] = Require(Roles.Admin),
        [Participants + "ListParticipants"] = Require(Roles.Admin),

        // Cohort settings.
        [Cohorts + "CreateCohort"] = Require(Roles.Admin),
        [Cohorts + "UpdateCohort"] = Require(Roles.Admin),
        [Cohorts + "GetCohort"] = Require(Roles.Analyst, Roles.Admin),

        // Aggregates.
        [Cohorts + "GetFlow"] = Require(Roles.Analyst),
        [Cohorts + "GetQuartiles"] = Require(Roles.Analyst),
        [Cohorts + "GetCharacteristics"] = Require(Roles.Analyst),
        [Cohorts + "GetGroupDifferences"] = Require(Roles.Analyst),
        [Cohorts + "GetAssociations"] = Require(Roles.Analyst),
        [Cohorts + "WatchCohort"] = Require(Roles.Analyst),

        // The audit log.
        ["/homabone.v1.AuditService/ListAuditEntries"] = Require(Roles.Auditor),

        // Health: anonymous, so orchestrator probes need no credentials; it reveals only SERVING or not.
        ["/grpc.health.v1.Health/Check"] = new(Anonymous: true, AnyAuthenticated: true, []),
        ["/grpc.health.v1.Health/Watch"] = new(Anonymous: true, AnyAuthenticated: true, []),
        ["/grpc.health.v1.Health/List"] = new(Anonymous: true, AnyAuthenticated: true, []),

        // Reflection: the schema only (no data), but not to strangers.
        ["/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"] = new(Anonymous: false, AnyAuthenticated: true, []),
        ["/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"] = new(Anonymous: false, AnyAuthenticated: true, []),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The rule of <paramref name="method"/>, or null: not in the table, so denied.</summary>
    public static RpcRule? Find(string method) => Table.GetValueOrDefault(method);

    private static RpcRule Require(params string[] roles) => new(Anonymous: false, AnyAuthenticated: false, roles);
}
