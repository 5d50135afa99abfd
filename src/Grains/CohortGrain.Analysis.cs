using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using HomaBone.Analysis;
using HomaBone.Contracts.V1;
using HomaBone.Storage;
using Microsoft.Extensions.Logging;

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
    private const int MaxCachedVersions = 64;
    private const int CompactAfterBuildOf = 100_000;

    /// <summary>
    /// How long each phase of a version's publication takes (outbox drain; shards' changes taken and applied, or
    /// the state built; the six answers; the durable commit): operators see where a version's latency goes. Labels
    /// name the phase only (no cohort or participant).
    /// </summary>
    private static readonly System.Diagnostics.Metrics.Histogram<double> PublicationSeconds =
        new System.Diagnostics.Metrics.Meter("HomaBone").CreateHistogram<double>("homabone.cohort.publication.duration", "s", "Duration of each phase of a cohort version's publication");

    private readonly List<PublishedVersion> _versions = [];
    private readonly Dictionary<string, byte[]> _answers = new(StringComparer.Ordinal);
    private readonly Dictionary<long, byte[][]> _versionAnswers = [];
    private readonly Guid[] _epochs = new Guid[ParticipantGrain.ShardCount];
    private Task? _publishing;
    private StoredCohort? _settingsOf;
    private (CohortSettings Settings, byte[] Bytes) _settings;
    private LiveStudy? _live;
    private uint _changedShards;

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

        var bytes = await FromPublishedAsync(version, message);
        if (bytes is null)
        {
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
            bytes = answer.ToByteArray();
        }

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

    /// <inheritdoc />
    public Task ShardChangedAsync(int shard)
    {
        if (shard is >= 0 and < ParticipantGrain.ShardCount)
        {
            _changedShards |= 1u << shard;
        }

        return Task.CompletedTask;
    }

    /// <summary>The flow diagram's order of exclusion criteria (study.md).</summary>
    public static IReadOnlyList<ExclusionReason> FlowOrder { get; } =
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
        var (settings, settingsBytes) = CurrentSettings();
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
        var started = time.GetTimestamp();
        await DrainOutboxAsync(cohortId, settings);
        var drained = time.GetTimestamp();
        var version = (last?.Version ?? 0) + 1;
        DateTimeOffset dataTime;
        byte[][]? answers;
        var advanced = drained;
        var computed = drained;
        try
        {
            var live = await AdvanceLiveAsync(cohortId, settings, seq);
            advanced = time.GetTimestamp();
            dataTime = live.MaxUpdateTicks == 0 ? time.GetUtcNow() : new DateTimeOffset(live.MaxUpdateTicks, TimeSpan.Zero);

            // The version's answers, computed once from the incremental state and kept with the version (before it
            // is published: the version row is the commit point), so asking the version again returns these bytes.
            answers = ComputeAnswers(live, settings, version, Timestamp.FromDateTimeOffset(dataTime));
            computed = time.GetTimestamp();
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or TimeoutException or OrleansException))
        {
            // A fault of the incremental path must not stop publication: drop the state (rebuilt at the next
            // version) and answer this version from its rows by the batch path, which is deterministic.
            LogLivePathFailed(logger, ex.GetType().Name);
            _live = null;
            answers = null;
            var rows = await store.ListAsOfAsync(cohortId, seq);
            dataTime = rows.Count == 0 ? time.GetUtcNow() : rows.Max(r => r.UpdateTime);
        }

        // Both writes go to the group commit together (usually one fsync). Either order is safe: nothing of this
        // version is answered before both are durable, and a version row without answers (a crash between two
        // commits) is answered from the rows as of its seq.
        var published = new PublishedVersion(cohortId, version, seq, dataTime, time.GetUtcNow(), settingsBytes);
        await Task.WhenAll(
            store is IAnswerArchive archive && answers is not null ? archive.StoreAnswersAsync(cohortId, version, PublishedAnswers.Pack(answers)) : Task.CompletedTask,
            store.PublishVersionAsync(published));
        _versions.Add(published);
        if (answers is not null)
        {
            RememberAnswers(version, answers);
            var committed = time.GetTimestamp();
            PublicationSeconds.Record(time.GetElapsedTime(started, drained).TotalSeconds, new KeyValuePair<string, object?>("phase", "drain"));
            PublicationSeconds.Record(time.GetElapsedTime(drained, advanced).TotalSeconds, new KeyValuePair<string, object?>("phase", "advance"));
            PublicationSeconds.Record(time.GetElapsedTime(advanced, computed).TotalSeconds, new KeyValuePair<string, object?>("phase", "answers"));
            PublicationSeconds.Record(time.GetElapsedTime(computed, committed).TotalSeconds, new KeyValuePair<string, object?>("phase", "commit"));
        }
    }


    /// <summary>
    /// The six default answers of a version, computed on every core: the state is only read here (the grain's turn
    /// does not yield while they run), each part has its own <see cref="StudyAnalysis"/> (they record disclosure
    /// actions), and models 1–3 are computed per model set and joined in the settings' order, so the bytes equal
    /// one sequential <see cref="StudyAnalysis.Associations"/>.
    /// </summary>
    internal static byte[][] ComputeAnswers(LiveStudy live, CohortSettings settings, long version, Timestamp dataTime)
    {
        var labels = settings.Models.Select(m => m.Label).ToArray();
        var bySet = labels.Length > 1 && labels.Distinct(StringComparer.Ordinal).Count() == labels.Length;
        var sets = bySet ? labels.Length : 1;
        var answers = new byte[6][];
        var fits = new GetAssociationsResponse[sets];
        var parts = new List<Action>
        {
            () => fits[0] = new StudyAnalysis(live, version, dataTime).Associations(bySet ? [labels[0]] : [], [], []),
            () => answers[3] = new StudyAnalysis(live, version, dataTime).GroupDifferences(GroupComparison.TopHalfVsBottomHalf, []).ToByteArray(),
            () => answers[4] = new StudyAnalysis(live, version, dataTime).GroupDifferences(GroupComparison.EachVsLowest, []).ToByteArray(),
            () => answers[2] = new StudyAnalysis(live, version, dataTime).Characteristics().ToByteArray(),
            () =>
            {
                var analysis = new StudyAnalysis(live, version, dataTime);
                answers[0] = analysis.Flow(FlowOrder).ToByteArray();
                answers[1] = analysis.Quartiles().ToByteArray();
            },
        };
        for (var s = 1; s < sets; s++)
        {
            var set = s;
            parts.Insert(set, () => fits[set] = new StudyAnalysis(live, version, dataTime).Associations([labels[set]], [], []));
        }

        // The default scheduler, not the grain's: the grain's turn blocks here until every part is done.
        Parallel.Invoke(new ParallelOptions { TaskScheduler = TaskScheduler.Default }, [.. parts]);
        var associations = fits[0];
        for (var s = 1; s < sets; s++)
        {
            associations.Fits.AddRange(fits[s].Fits);
        }

        answers[5] = associations.ToByteArray();
        return answers;
    }

    /// <summary>The stored cohort's settings and their bytes, parsed once per stored revision of the cohort (every request checks them).</summary>
    private (CohortSettings Settings, byte[] Bytes) CurrentSettings()
    {
        if (!ReferenceEquals(_settingsOf, _stored))
        {
            var settings = Cohort.Parser.ParseFrom(_stored!.Payload).Settings;
            _settings = (settings, settings.ToByteArray());
            _settingsOf = _stored;
        }

        return _settings;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The shards' rows do not hold every participant of the cohort; the state is rebuilt from the store's records")]
    private static partial void LogShardRowsIncomplete(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "The incremental analysis failed ({ExceptionType}); this version is answered from its rows and the state is rebuilt")]
    private static partial void LogLivePathFailed(ILogger logger, string exceptionType);

    /// <summary>
    /// Brings the incremental state to change <paramref name="seq"/>: the shards' changes since the state's seq,
    /// or, when the state is new, built for other settings or a shard cannot hand over a complete change log, a
    /// rebuild from the shards' rows as of seq (or the store's).
    /// </summary>
    private async Task<LiveStudy> AdvanceLiveAsync(string cohortId, CohortSettings settings, long seq)
    {
        var shards = Enumerable.Range(0, ParticipantGrain.ShardCount).Select(k => GrainFactory.GetGrain<ICohortShardGrain>(ShardKey.For(cohortId, k))).ToArray();
        if (_live is not null && _live.Settings.Equals(settings) && _live.Seq <= seq)
        {
            var live = _live;
            var changes = await TakeChangesAsync(shards, live.Seq, seq);
            if (changes.All(c => c.Complete))
            {
                IEnumerable<ShardRow> taken = changes.SelectMany(c => c.Rows);
                if (!HoldEverySeq(changes, live.Seq, seq))
                {
                    taken = await ChangesFromStoreAsync(cohortId, settings, shards, live.Seq, seq, [.. taken]);
                }

                foreach (var row in taken.OrderBy(r => r.Seq))
                {
                    live.Apply(AnalysisRows.ToAnalysis(row), row.UpdateTicks, row.PackedValues);
                }

                live.Seq = seq;
                live.Complete();
                return live;
            }
        }

        _live = null;
        var snapshots = await Task.WhenAll(shards.Select(shard => shard.SnapshotAsync(seq)));
        for (var k = 0; k < snapshots.Length; k++)
        {
            _epochs[k] = snapshots[k].Epoch;
        }

        // The shards' rows must be every participant of the cohort as of seq. A shard activation that missed a row
        // (say, a row applied to another activation of the same shard while a silo left: its outbox entry was then
        // acknowledged, so no drain delivers it again) would otherwise leave the participant out of every version
        // until the next rebuild. The store's count is cheap next to a rebuild; on a mismatch the store's rows win.
        var fromShards = snapshots.All(s => s.Rows is not null);
        if (fromShards && snapshots.Sum(s => (long)s.Rows!.Count) != await store.CountAsOfAsync(cohortId, seq))
        {
            LogShardRowsIncomplete(logger);
            fromShards = false;
        }

        var rows = fromShards
            ? snapshots.SelectMany(s => s.Rows!)
            : (await store.ListAsOfAsync(cohortId, seq)).Select(r => AnalysisRows.FromStored(r, settings));
        var built = LiveStudy.Build(settings, rows.OrderBy(r => r.ParticipantId, StringComparer.Ordinal).Select(r => (AnalysisRows.ToAnalysis(r), r.UpdateTicks, (byte[]?)r.PackedValues)));
        built.Seq = seq;
        _live = built;
        if (built.Count >= CompactAfterBuildOf)
        {
            // A large build leaves its garbage (the rows' transient copies, the import's buffers) in gen 2 and the
            // large-object heap, where a server GC may keep it, and its pages, for a long time: one blocking,
            // compacting collection that returns free memory to the OS, once per large build (seconds of work
            // already), keeps the resident set close to the live state.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        return built;
    }

    /// <summary>
    /// The shards' changes in (<paramref name="afterSeq"/>, <paramref name="upToSeq"/>]: first from the shards that
    /// announced changes (<see cref="ShardChangedAsync"/>); the cohort's seq counts every revision once, so when
    /// those changes are upToSeq − afterSeq rows the other shards hold none in the range and are not asked. Otherwise
    /// (an announcement still in flight or lost, a late revision that was not logged) every other shard is asked too,
    /// as every shard was before.
    /// </summary>
    private async Task<List<ShardChanges>> TakeChangesAsync(ICohortShardGrain[] shards, long afterSeq, long upToSeq)
    {
        var announced = _changedShards;
        _changedShards = 0;
        var first = Enumerable.Range(0, shards.Length).Where(k => (announced & (1u << k)) != 0).ToArray();
        var changes = new List<ShardChanges>(await Task.WhenAll(first.Select(k => shards[k].TakeChangesAsync(_epochs[k], afterSeq, upToSeq))));
        if (changes.All(c => c.Complete) && HoldEverySeq(changes, afterSeq, upToSeq))
        {
            return changes;
        }

        var rest = Enumerable.Range(0, shards.Length).Where(k => (announced & (1u << k)) == 0);
        changes.AddRange(await Task.WhenAll(rest.Select(k => shards[k].TakeChangesAsync(_epochs[k], afterSeq, upToSeq))));
        return changes;
    }

    /// <summary>Whether the rows are one per revision in (afterSeq, upToSeq]: the cohort's seq counts every revision once.</summary>
    private static bool HoldEverySeq(IEnumerable<ShardChanges> changes, long afterSeq, long upToSeq) =>
        changes.Sum(c => (long)c.Rows.Count) == upToSeq - afterSeq;

    /// <summary>
    /// The shards handed over fewer rows than there are revisions in (<paramref name="afterSeq"/>,
    /// <paramref name="upToSeq"/>]. Usually harmless (a participant's intermediate revision that arrived before a
    /// snapshot, superseded by a later one that was handed over), but a row missing from every shard (applied to an
    /// activation that was lost) must not leave the participant out: the store's revisions of the range are applied
    /// instead, and any a shard does not hold yet is delivered to it (idempotent; an older revision is ignored).
    /// </summary>
    private async Task<IReadOnlyList<ShardRow>> ChangesFromStoreAsync(string cohortId, CohortSettings settings, ICohortShardGrain[] shards, long afterSeq, long upToSeq, IReadOnlyList<ShardRow> taken)
    {
        var stored = await store.ListChangesAsync(cohortId, afterSeq, upToSeq);
        var handed = taken.Select(r => (r.ParticipantId, r.Revision)).ToHashSet();
        var rows = stored.Select(r => AnalysisRows.FromStored(r, settings)).ToList();
        var missing = rows.Where(r => !handed.Contains((r.ParticipantId, r.Revision))).ToList();
        await Task.WhenAll(missing.Select(r => shards[ResourceNames.ShardOf(r.ParticipantId, ParticipantGrain.ShardCount)].ApplyAsync(r)));
        return rows;
    }

    private void RememberAnswers(long version, byte[][] answers)
    {
        if (_versionAnswers.Count >= MaxCachedVersions)
        {
            _versionAnswers.Remove(_versionAnswers.Keys.Min());
        }

        _versionAnswers[version] = answers;
    }

    /// <summary>
    /// The answer from the version's published answers: as published for the settings' own requests, filtered
    /// for a subset of outcomes or models, with user-specified models computed from the rows; null when the
    /// request asks for something the published answers do not hold (unknown outcomes), or for an old version
    /// published before answers were kept.
    /// </summary>
    private async Task<byte[]?> FromPublishedAsync(PublishedVersion version, IMessage request)
    {
        if (!_versionAnswers.TryGetValue(version.Version, out var answers))
        {
            var packed = store is IAnswerArchive archive ? await archive.GetAnswersAsync(this.GetPrimaryKeyString(), version.Version) : null;
            if (packed is null)
            {
                return null;
            }

            answers = PublishedAnswers.Unpack(packed);
            RememberAnswers(version.Version, answers);
        }

        var settings = CohortSettings.Parser.ParseFrom(version.Settings);
        switch (request)
        {
            case GetFlowRequest:
                return answers[0];
            case GetQuartilesRequest:
                return answers[1];
            case GetCharacteristicsRequest:
                return answers[2];
            case GetGroupDifferencesRequest g:
                {
                    var published = answers[g.Comparison == GroupComparison.EachVsLowest ? 4 : 3];
                    if (g.Outcomes.Count == 0)
                    {
                        return published;
                    }

                    if (!g.Outcomes.All(settings.Outcomes.Contains))
                    {
                        return null;
                    }

                    var all = GetGroupDifferencesResponse.Parser.ParseFrom(published);
                    var filtered = new GetGroupDifferencesResponse { Metadata = all.Metadata };
                    filtered.Covariates.AddRange(all.Covariates);
                    filtered.Differences.AddRange(g.Outcomes.SelectMany(o => all.Differences.Where(d => d.Outcome == o)));
                    return filtered.ToByteArray();
                }

            case GetAssociationsRequest a:
                {
                    if (a.Models.Count == 0 && a.Outcomes.Count == 0 && a.CustomModels.Count == 0)
                    {
                        return answers[5];
                    }

                    if (!a.Outcomes.All(settings.Outcomes.Contains))
                    {
                        return null;
                    }

                    var all = GetAssociationsResponse.Parser.ParseFrom(answers[5]);
                    var filtered = new GetAssociationsResponse { Metadata = all.Metadata };
                    foreach (var set in settings.Models.Where(m => a.Models.Count == 0 || a.Models.Contains(m.Label)))
                    {
                        foreach (var outcome in a.Outcomes.Count > 0 ? a.Outcomes : settings.Outcomes)
                        {
                            filtered.Fits.AddRange(all.Fits.Where(f => f.Model == set.Label && f.Outcome == outcome).Take(1));
                        }
                    }

                    if (a.CustomModels.Count > 0)
                    {
                        filtered.Fits.AddRange((await BuildAnalysisAsync(version)).CustomFits([.. a.CustomModels]));
                    }

                    return filtered.ToByteArray();
                }

            default:
                return null;
        }
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

/// <summary>The packed answers of a published version: a count, then a length and the bytes of each.</summary>
internal static class PublishedAnswers
{
    public static byte[] Pack(IReadOnlyList<byte[]> answers)
    {
        using var buffer = new MemoryStream();
        using var writer = new BinaryWriter(buffer);
        writer.Write(answers.Count);
        foreach (var answer in answers)
        {
            writer.Write(answer.Length);
            writer.Write(answer);
        }

        writer.Flush();
        return buffer.ToArray();
    }

    public static byte[][] Unpack(byte[] packed)
    {
        using var reader = new BinaryReader(new MemoryStream(packed));
        var answers = new byte[reader.ReadInt32()][];
        for (var i = 0; i < answers.Length; i++)
        {
            answers[i] = reader.ReadBytes(reader.ReadInt32());
        }

        return answers;
    }
}
