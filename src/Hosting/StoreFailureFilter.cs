using HomaBone.Grains;
using Npgsql;

namespace HomaBone.Hosting;

/// <summary>
/// Grain calls that fail with a transient PostgreSQL error (IsTransient: connection loss, deadlock 40P01,
/// serialization failure 40001) answer <see cref="RecordStoreUnavailableException"/> instead: Orleans cannot serialize
/// the driver's exception (the caller would get a codec error, answered INTERNAL), and the transaction was rolled back,
/// so the caller may retry. Only the SQLSTATE crosses the boundary, no statement or value.
/// </summary>
internal sealed class StoreFailureFilter : IIncomingGrainCallFilter
{
    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (NpgsqlException ex) when (ex.IsTransient)
        {
            throw new RecordStoreUnavailableException($"transient record store failure{(ex is PostgresException p ? " (SQLSTATE " + p.SqlState + ")" : string.Empty)}; retry");
        }
        catch (NpgsqlException ex)
        {
            // Not transient: still an error Orleans can carry (answered INTERNAL).
            throw new InvalidOperationException($"record store failure{(ex is PostgresException p ? " (SQLSTATE " + p.SqlState + ")" : string.Empty)}");
        }
    }
}
