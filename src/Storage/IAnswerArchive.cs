namespace HomaBone.Storage;

/// <summary>
/// The answers of each published cohort version, kept so that a version asked again (also after a restart)
/// returns the bytes it returned when it was published. Written once per version, before the version is
/// published (the version row is the commit point); replaced if a crash left an unpublished one behind.
/// </summary>
public interface IAnswerArchive
{
    /// <summary>Stores (or replaces) the answers of a version; durable when the task completes.</summary>
    Task StoreAnswersAsync(string cohortId, long version, byte[] answers, CancellationToken cancellationToken = default);

    /// <summary>The stored answers of a version, or null.</summary>
    Task<byte[]?> GetAnswersAsync(string cohortId, long version, CancellationToken cancellationToken = default);
}
