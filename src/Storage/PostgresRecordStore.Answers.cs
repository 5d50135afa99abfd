using Npgsql;
using NpgsqlTypes;

namespace HomaBone.Storage;

/// <summary>The answers of published versions (table <c>cohort_answers</c>), written through the group commit.</summary>
public sealed partial class PostgresRecordStore : IAnswerArchive
{
    private const string AnswersSchema = """
        CREATE TABLE IF NOT EXISTS cohort_answers (
            cohort_id text COLLATE "C" NOT NULL,
            version bigint NOT NULL,
            answers bytea NOT NULL,
            PRIMARY KEY (cohort_id, version));
        """;

    private Task? _answersSchema;

    private Task AnswersSchemaReady => LazyInitializer.EnsureInitialized(ref _answersSchema, async () =>
    {
        await using var command = _dataSource.CreateCommand(AnswersSchema);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    });

    /// <inheritdoc />
    public async Task StoreAnswersAsync(string cohortId, long version, byte[] answers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answers);
        await AnswersSchemaReady.WaitAsync(cancellationToken).ConfigureAwait(false);
        await EnqueueAsync<int>(
            async (connection, transaction, ct) =>
            {
                await using var command = new NpgsqlCommand(
                    "INSERT INTO cohort_answers(cohort_id, version, answers) VALUES ($1, $2, $3) ON CONFLICT (cohort_id, version) DO UPDATE SET answers = EXCLUDED.answers;",
                    connection,
                    transaction);
                command.Parameters.Add(Text(cohortId));
                command.Parameters.Add(Long(version));
                command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = answers, NpgsqlDbType = NpgsqlDbType.Bytea });
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cohortIds: null,
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAnswersAsync(string cohortId, long version, CancellationToken cancellationToken = default)
    {
        await AnswersSchemaReady.WaitAsync(cancellationToken).ConfigureAwait(false);
        await using var command = _dataSource.CreateCommand("SELECT answers FROM cohort_answers WHERE cohort_id = $1 AND version = $2;");
        command.Parameters.Add(Text(cohortId));
        command.Parameters.Add(Long(version));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
    }
}
