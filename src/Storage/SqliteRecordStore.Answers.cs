using Microsoft.Data.Sqlite;

namespace HomaBone.Storage;

/// <summary>The answers of published versions (table <c>cohort_answers</c>), written through the single writer.</summary>
public sealed partial class SqliteRecordStore : IAnswerArchive
{
    private const string AnswersSchema = """
        CREATE TABLE IF NOT EXISTS cohort_answers (
            cohort_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            answers BLOB NOT NULL,
            PRIMARY KEY (cohort_id, version)) WITHOUT ROWID;
        """;

    private Task? _answersSchema;

    private Task AnswersSchemaReady => LazyInitializer.EnsureInitialized(ref _answersSchema, () => EnqueueAsync<int>(
        (connection, transaction) =>
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = AnswersSchema;
            return command.ExecuteNonQuery();
        },
        CancellationToken.None));

    /// <inheritdoc />
    public async Task StoreAnswersAsync(string cohortId, long version, byte[] answers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answers);
        await AnswersSchemaReady.WaitAsync(cancellationToken).ConfigureAwait(false);
        await EnqueueAsync<int>(
            (connection, transaction) =>
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = "INSERT OR REPLACE INTO cohort_answers(cohort_id, version, answers) VALUES ($c, $v, $a);";
                command.Parameters.AddWithValue("$c", cohortId);
                command.Parameters.AddWithValue("$v", version);
                command.Parameters.Add("$a", SqliteType.Blob).Value = answers;
                return command.ExecuteNonQuery();
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<byte[]?> GetAnswersAsync(string cohortId, long version, CancellationToken cancellationToken = default)
    {
        await AnswersSchemaReady.WaitAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT answers FROM cohort_answers WHERE cohort_id = $c AND version = $v;";
        command.Parameters.AddWithValue("$c", cohortId);
        command.Parameters.AddWithValue("$v", version);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as byte[];
    }
}
