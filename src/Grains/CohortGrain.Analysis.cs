using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Storage;

namespace HomaBone.Grains;

/// <summary>
/// The live analysis. Versions: a new version is published when at least
/// <c>disclosure.min_changes_per_version</c> participant changes (revisions) accumulated since the last one, or
/// the settings changed; each version records its change sequence number and settings, so any RPC asked at
/// that version recomputes the same canonical row set with the same settings and returns the same bytes.
/// Rows come from the shards (exact for recent versions, after the outbox is drained) or from the store.
/// </summary>
public sealed partial class CohortGrain
{
    private const int MaxCachedAnswers = 512;
    private readonly List<PublishedVersion> _versions = [];
    private readonly Dictionary<string, byte[]> _answers = new(StringComparer.Ordinal);
    private Task? _publishing;

    /// <inheritdoc />
    public async Task<GrainReply> AnalyzeAsync(AnalysisKind kind, byte[] request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_stored is null)
        {
            return GrainReply.Fail(ReplyStatus.NotFound, $"cohort '{this.GetPrimaryKeyString()}' does not exist");
        }

        IMessage message = kind switch
        {
            AnalysisKind.Flow => GetFlowRequest.Parser.ParseFrom(request),
            AnalysisKind.Quartiles => GetQuartilesRequest.Parser.ParseFrom(request),
            AnalysisKind.Characteristics => GetCharacteristicsRequest.Parser.ParseFrom(request),
            AnalysisKind.GroupDifferences => GetGroupDifferencesRequest.Parser.ParseFrom(request),
            _ => GetAssociationsRequest.Parser.ParseFrom(request),
        };
        var requested = (long)message.Descriptor.FindFieldByName("version").Accessor.GetValue(message);
        await PublishIfDueAsync();
        PublishedVersion? version;
        if (requested == 0)
        {
            version = _versions.Count > 0 ? _versions[^1] : null;
            if (version is null)
            {
                return GrainReply.Fail(ReplyStatus.FailedPrecondition, "no version is published yet: a version is published after enough participant changes (disclosure.min_changes_per_version)");
            }
        }
        else
        {
            version = _versions.Find(v => v.Version == requested);
            if (version is null)
            {
                return GrainReply.Fail(ReplyStatus.NotFound, $"version {requested} is not a published version of this cohort (latest: {(_versions.Count > 0 ? _versions[^1].Version : 0)})");
            }
        }

        message.Descriptor.FindFieldByName("version").Accessor.SetValue(message, 0L);
        var cacheKey = $"{(int)kind}:{version.Version}:{Convert.ToBase64String(message.ToByteArray())}";
        if (_answers.TryGetValue(cacheKey, out var cached))
        {
            return GrainReply.Ok(cached);
        }

        var analysis = await BuildAnalysisAsync(version);
        IMessage answer = message switch
        {
            GetFlowRequest => analysis.Flow(FlowOrder),
            GetQuartilesRequest => analysis.Quartiles(),
            GetCharacteristicsRequest => analysis.Characteristics(),
            GetGroupDifferencesRequest g => analysis.GroupDifferences(g.Comparison, [.. g.Outcomes]),
            GetAssociationsRequest a => analysis.Associations([.. a.Models], [.. a.Outcomes], [.. a.CustomModels]),
            _ => throw new InvalidOperationException("unknown analysis"),
        };
        var bytes = answer.ToByteArray();
        if (_answers.Count >= MaxCachedAnswers)
        {
            _answers.Clear();
        }

        _answers[cacheKey] = bytes;
        return GrainReply.Ok(bytes);
    }

    /// <inheritdoc />
    public async Task<long> WaitForVersionAsync(long afterVersion, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await PublishIfDueAsync();
            var latest = _versions.Count > 0 ? _versions[^1].Version : 0;
            if (latest > afterVersion || DateTime.UtcNow >= deadline)
            {
                return latest;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(250, Math.Max(1, (deadline - DateTime.UtcNow).TotalMilliseconds))));
        }
    }

    /// <summary>The flow diagram's order of exclusion criteria (study.md).</summary>
    internal static IReadOnlyList<ExclusionReason> FlowOrder { get; } =
    [
        ExclusionReason.MenstrualFlowWithin12Months, ExclusionReason.AgeUnder50, ExclusionReason.Diabetes,
        ExclusionReason.GlucoseOrInsulinMissing, ExclusionReason.QctMissing, ExclusionReason.OsteoporosisTreatment,
        ExclusionReason.Glucocorticoid, ExclusionReason.LiverCirrhosis, ExclusionReason.EstrogenReplacement,
    ];

    private async Task LoadVersionsAsync()
    {
        _versions.Clear();
        _versions.AddRange(await store.ListPublishedVersionsAsync(this.GetPrimaryKeyString()));
    }

    private Task PublishIfDueAsync()
    {
        // Interleaved callers share one publication in flight.
        if (_publishing is { IsCompleted: false })
        {
            return _publishing;
        }

        _publishing = PublishCoreAsync();
        return _publishing;
    }

    private async Task PublishCoreAsync()
    {
        var cohortId = this.GetPrimaryKeyString();
        var settings = Cohort.Parser.ParseFrom(_stored!.Payload).Settings;
        var settingsBytes = settings.ToByteArray();
        var seq = await store.CurrentSeqAsync(cohortId);
        var last = _versions.Count > 0 ? _versions[^1] : null;
        var minChanges = settings.Disclosure is { Disabled: false } d ? Math.Max(1, d.MinChangesPerVersion) : 1;
        var settingsChanged = last is not null && !last.Settings.AsSpan().SequenceEqual(settingsBytes);
        var due = last is null ? seq >= minChanges : seq - last.Seq >= minChanges || (settingsChanged && seq > 0);
        if (!due)
        {
            return;
        }

        // Every revision up to seq is in its shard once the outbox is drained: entries are acknowledged only
        // after delivery, and every revision writes its entry in the same transaction.
        await DrainOutboxAsync(cohortId, settings);
        var rows = await store.ListAsOfAsync(cohortId, seq);
        var dataTime = rows.Count == 0 ? time.GetUtcNow() : rows.Max(r => r.UpdateTime);
        var published = new PublishedVersion(cohortId, (last?.Version ?? 0) + 1, seq, dataTime, time.GetUtcNow(), settingsBytes);
        await store.PublishVersionAsync(published);
        _versions.Add(published);
    }

    private async Task DrainOutboxAsync(string cohortId, CohortSettings settings)
    {
        while (true)
        {
            var pending = await store.PendingOutboxAsync(cohortId, 1000);
            if (pending.Count == 0)
            {
                return;
            }

            foreach (var entry in pending)
            {
                var stored = await store.GetRevisionAsync(cohortId, entry.ParticipantId, entry.Revision);
                if (stored is not null)
                {
                    await GrainFactory.GetGrain<ICohortShardGrain>(ShardKey.For(cohortId, entry.Shard)).ApplyAsync(AnalysisRows.FromStored(stored, settings));
                }
            }

            await store.AcknowledgeOutboxAsync(pending);
        }
    }

    private async Task<StudyAnalysis> BuildAnalysisAsync(PublishedVersion version)
    {
        var cohortId = this.GetPrimaryKeyString();
        var settings = CohortSettings.Parser.ParseFrom(version.Settings);
        var shards = await Task.WhenAll(Enumerable.Range(0, ParticipantGrain.ShardCount)
            .Select(k => GrainFactory.GetGrain<ICohortShardGrain>(ShardKey.For(cohortId, k)).GetRowsAsync(version.Seq)));
        List<AnalysisRow> rows;
        if (shards.All(s => s is not null))
        {
            rows = [.. shards.SelectMany(s => s!).Select(AnalysisRows.ToAnalysis)];
        }
        else
        {
            rows = [.. (await store.ListAsOfAsync(cohortId, version.Seq)).Select(r => AnalysisRows.ToAnalysis(AnalysisRows.FromStored(r, settings)))];
        }

        // The canonical order: ordinal participant id. The same rows always give the same bytes.
        rows.Sort((a, b) => string.CompareOrdinal(a.ParticipantId, b.ParticipantId));
        return new StudyAnalysis(rows, settings, version.Version, Timestamp.FromDateTimeOffset(version.DataTime));
    }
}
