using System.Threading.Channels;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Hosting;

namespace HomaBone.Gateway.Services;

/// <summary>ParticipantService: validates request shape, routes to the participant grain, maps errors.</summary>
internal sealed class ParticipantApi(IGrainFactory grains, LostGatewayGuard lostGateway) : ParticipantService.ParticipantServiceBase
{
    private const int MaxImportBatch = 1000;
    private const int MaxBatchesInFlight = 2;

    public override async Task<UpsertParticipantResponse> UpsertParticipant(UpsertParticipantRequest request, ServerCallContext context)
    {
        var violations = new List<Grains.FieldViolation>();
        string cohortId = string.Empty, participantId = string.Empty;
        if (request.Participant is null)
        {
            violations.Add(new("participant", "is required"));
        }
        else if (!ResourceNames.TryParseParticipant(request.Participant.Name, out cohortId, out participantId))
        {
            violations.Add(new("participant.name", $"must be cohorts/{{cohort}}/participants/{{participant}} with a cohort id of {ResourceNames.CohortIdRule} and a participant id of {ResourceNames.ParticipantIdRule}"));
        }

        RequestIds.Check(request.RequestId, "request_id", violations);
        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", violations);
        }

        var record = request.Participant!.Record ?? new ParticipantRecord();
        // A timeout with a request id is answered UNAVAILABLE by the error mapping (RepeatableCall).
        var reply = await grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, participantId))
            .UpsertAsync(new UpsertParticipantCommand(record.ToByteArray(), request.RequestId, request.Etag));
        var participant = Participant.Parser.ParseFrom(GrpcErrors.Unwrap(reply));
        return new UpsertParticipantResponse { Participant = participant, Created = reply.Created };
    }

    public override async Task<GetParticipantResponse> GetParticipant(GetParticipantRequest request, ServerCallContext context)
    {
        var (cohortId, participantId) = ParseName(request.Name, "name");
        if (request.Revision < 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", [new("revision", $"must be 0 (current) or a positive revision; got {request.Revision}")]);
        }

        var reply = await grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, participantId)).GetAsync(request.Revision);
        return new GetParticipantResponse { Participant = Participant.Parser.ParseFrom(GrpcErrors.Unwrap(reply)) };
    }

    public override async Task<ListParticipantsResponse> ListParticipants(ListParticipantsRequest request, ServerCallContext context)
    {
        var violations = new List<Grains.FieldViolation>();
        if (!ResourceNames.TryParseCohort(request.Parent, out var cohortId))
        {
            violations.Add(new("parent", $"must be cohorts/{{cohort}} with a cohort id of {ResourceNames.CohortIdRule}"));
        }

        if (request.PageSize is < 0 or > 1000)
        {
            violations.Add(new("page_size", $"must be between 0 and 1000; got {request.PageSize}"));
        }

        var after = PageTokens.Decode(request.PageToken, cohortId, request.ShowWithdrawn);
        if (after is null)
        {
            violations.Add(new("page_token", "is not a token returned by this list with the same parent and filters"));
        }

        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", violations);
        }

        await EnsureCohortAsync(cohortId);
        var page = await grains.GetGrain<ICohortGrain>(cohortId).ListParticipantsAsync(after!, request.PageSize == 0 ? 100 : request.PageSize, request.ShowWithdrawn);
        var response = new ListParticipantsResponse();
        foreach (var payload in page.Participants)
        {
            response.Participants.Add(Participant.Parser.ParseFrom(payload));
        }

        if (page.LastParticipantId is { } last)
        {
            response.NextPageToken = PageTokens.Encode(last, cohortId, request.ShowWithdrawn);
        }

        return response;
    }

    public override async Task<WithdrawParticipantResponse> WithdrawParticipant(WithdrawParticipantRequest request, ServerCallContext context)
    {
        var (cohortId, participantId) = ParseName(request.Name, "name");
        var violations = new List<Grains.FieldViolation>();
        RequestIds.Check(request.RequestId, "request_id", violations);
        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", violations);
        }

        var reply = await grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, participantId))
            .WithdrawAsync(new WithdrawParticipantCommand(request.RequestId, request.Etag));
        return new WithdrawParticipantResponse { Participant = Participant.Parser.ParseFrom(GrpcErrors.Unwrap(reply)) };
    }

    public override async Task ImportParticipants(IAsyncStreamReader<ImportParticipantsRequest> requestStream, IServerStreamWriter<ImportParticipantsResponse> responseStream, ServerCallContext context)
    {
        string? streamCohort = null;
        long index = 0;

        // Up to MaxBatchesInFlight batches of a stream are imported at once (the store's group commit then takes
        // more records per fsync) while one loop answers them in stream order. A batch naming a participant of an
        // earlier batch still being imported waits for it, so a participant's records apply in stream order.
        using var slots = new SemaphoreSlim(MaxBatchesInFlight);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var answers = Channel.CreateUnbounded<(Task<ImportResult[]> Results, HashSet<string> ParticipantIds)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var unfinished = new List<(Task<ImportResult[]> Results, HashSet<string> ParticipantIds)>();
        var answering = Task.Run(async () =>
        {
            try
            {
                await foreach (var batch in answers.Reader.ReadAllAsync(CancellationToken.None))
                {
                    var response = new ImportParticipantsResponse();
                    response.Results.AddRange(await batch.Results);
                    await responseStream.WriteAsync(response, failed.Token);
                    slots.Release();
                }
            }
            catch
            {
                await failed.CancelAsync();
                throw;
            }
        });

        try
        {
            await foreach (var batch in requestStream.ReadAllAsync(failed.Token))
            {
                if (!ResourceNames.TryParseCohort(batch.Parent, out var cohortId))
                {
                    GrpcErrors.ThrowInvalid("the import batch is invalid", [new("parent", $"must be cohorts/{{cohort}} with a cohort id of {ResourceNames.CohortIdRule}")]);
                }

                if (streamCohort is null)
                {
                    await EnsureCohortAsync(cohortId);
                    streamCohort = cohortId;
                }
                else if (streamCohort != cohortId)
                {
                    GrpcErrors.ThrowInvalid("the import batch is invalid", [new("parent", "every message of an import stream must name the same cohort")]);
                }

                if (batch.Entries.Count > MaxImportBatch)
                {
                    GrpcErrors.ThrowInvalid("the import batch is invalid", [new("entries", $"at most {MaxImportBatch} entries per message; got {batch.Entries.Count}")]);
                }

                await slots.WaitAsync(failed.Token);
                var participantIds = batch.Entries.Select(e => e.ParticipantId).ToHashSet(StringComparer.Ordinal);
                unfinished.RemoveAll(f => f.Results.IsCompleted);
                foreach (var earlier in unfinished.Where(f => f.ParticipantIds.Overlaps(participantIds)).ToList())
                {
                    await earlier.Results;
                }

                var entry = (ImportBatchAsync(cohortId, batch, index), participantIds);
                unfinished.Add(entry);
                answers.Writer.TryWrite(entry);
                index += batch.Entries.Count;
            }
        }
        finally
        {
            // The batches already started are answered (or, when the stream failed, at least finished) before the
            // call ends.
            answers.Writer.TryComplete();
            await answering.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        await answering;
    }

    /// <summary>
    /// Checks each entry's shape, then sends the valid ones in one call to the silo's import worker, which routes each
    /// record through its participant grain. A bad record gets its own status; the others are imported.
    /// </summary>
    private async Task<ImportResult[]> ImportBatchAsync(string cohortId, ImportParticipantsRequest batch, long index)
    {
        var results = new ImportResult[batch.Entries.Count];
        var items = new List<ImportItem>(batch.Entries.Count);
        var positions = new List<int>(batch.Entries.Count);
        for (var i = 0; i < batch.Entries.Count; i++)
        {
            var entry = batch.Entries[i];
            var result = results[i] = new ImportResult { Index = index + i };
            var violations = new List<Grains.FieldViolation>();
            if (!ResourceNames.IsValidParticipantId(entry.ParticipantId))
            {
                violations.Add(new("participant_id", $"must be {ResourceNames.ParticipantIdRule}"));
            }

            RequestIds.Check(entry.RequestId, "request_id", violations);
            if (violations.Count > 0)
            {
                result.Status = GrpcErrors.Invalid("the record is invalid", violations).GetRpcStatus() ?? new Google.Rpc.Status { Code = (int)Code.InvalidArgument };
                continue;
            }

            result.Name = ResourceNames.Participant(cohortId, entry.ParticipantId);
            items.Add(new ImportItem(entry.ParticipantId, (entry.Record ?? new ParticipantRecord()).ToByteArray(), entry.RequestId));
            positions.Add(i);
        }

        if (items.Count == 0)
        {
            return results;
        }

        IReadOnlyList<GrainReply?> replies;
        try
        {
            // A batch stranded on a silo gateway that was declared dead is given up early: its records are answered
            // UNAVAILABLE (they all carry request ids) and the client sends them again through a live gateway.
            replies = await lostGateway.Watch(grains.GetGrain<IParticipantImportGrain>(0).ImportAsync(cohortId, items));
        }
        catch (Exception ex) when (ex is TimeoutException or Orleans.Runtime.OrleansException)
        {
            replies = new GrainReply?[items.Count];
        }

        for (var k = 0; k < positions.Count; k++)
        {
            var result = results[positions[k]];
            var reply = replies[k];
            if (reply is null)
            {
                result.Status = new Google.Rpc.Status { Code = (int)Code.Unavailable, Message = "the cluster did not store this record; retry it with the same request_id" };
            }
            else if (reply.Status == ReplyStatus.Ok && reply.Payload is not null)
            {
                var participant = Participant.Parser.ParseFrom(reply.Payload);
                result.Status = new Google.Rpc.Status { Code = (int)Code.Ok };
                result.Revision = participant.Revision;
                result.Etag = participant.Etag;
            }
            else
            {
                result.Status = GrpcErrors.ToStatus(reply);
            }
        }

        return results;
    }

    private async Task EnsureCohortAsync(string cohortId)
    {
        bool exists;
        try
        {
            // Also used by the import stream, which the unary give-up of stranded calls does not cover.
            exists = await lostGateway.Watch(grains.GetGrain<ICohortGrain>(cohortId).ExistsAsync());
        }
        catch (SiloGatewayLostException)
        {
            throw new RpcException(new Grpc.Core.Status(StatusCode.Unavailable, RepeatableCall.LostGatewayDetail));
        }

        if (!exists)
        {
            GrpcErrors.Throw(Code.NotFound, $"cohort '{cohortId}' does not exist");
        }
    }

    private static (string CohortId, string ParticipantId) ParseName(string name, string field)
    {
        if (!ResourceNames.TryParseParticipant(name, out var cohortId, out var participantId))
        {
            GrpcErrors.ThrowInvalid("the request is invalid", [new(field, $"must be cohorts/{{cohort}}/participants/{{participant}} with a cohort id of {ResourceNames.CohortIdRule} and a participant id of {ResourceNames.ParticipantIdRule}")]);
        }

        return (cohortId, participantId);
    }
}
