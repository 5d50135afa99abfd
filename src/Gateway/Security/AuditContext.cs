using Grpc.Core;

namespace HomaBone.Gateway.Security;

/// <summary>
/// What an RPC handler adds to its call's audit entry. Get it with <see cref="AuditContextExtensions.Audit"/>:
/// <c>context.Audit().SetCohortVersion(version); context.Audit().AddDisclosureAction("suppressed 2 cells (n &lt; 3)");</c>.
/// Never pass a health value or a participant identifier.
/// </summary>
public interface IAuditContext
{
    /// <summary>The cohort the call concerns (the audit interceptor fills it from the request when it can).</summary>
    void SetCohort(string cohortId);

    /// <summary>The cohort version the answer used.</summary>
    void SetCohortVersion(long version);

    /// <summary>A disclosure-control action taken on the answer (suppression, rounding, refusal).</summary>
    void AddDisclosureAction(string action);

    /// <summary>A request parameter that is not a health value (a label, a count, a choice).</summary>
    void SetParameter(string name, string value);
}

/// <summary>Access to the audit entry of the current call.</summary>
public static class AuditContextExtensions
{
    /// <summary>The <see cref="ServerCallContext.UserState"/> key of the call's <see cref="IAuditContext"/>.</summary>
    public const string UserStateKey = "homabone.audit";

    /// <summary>The audit entry being built for this call (a no-op outside an audited call).</summary>
    public static IAuditContext Audit(this ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.UserState.TryGetValue(UserStateKey, out var value) && value is IAuditContext audit ? audit : NoAudit.Instance;
    }

    private sealed class NoAudit : IAuditContext
    {
        public static readonly NoAudit Instance = new();

        public void SetCohort(string cohortId)
        {
        }

        public void SetCohortVersion(long version)
        {
        }

        public void AddDisclosureAction(string action)
        {
        }

        public void SetParameter(string name, string value)
        {
        }
    }
}
