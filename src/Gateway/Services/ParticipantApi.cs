using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;

namespace HomaBone.Gateway.Services;

/// <summary>ParticipantService: validates request shape, routes to the participant grain, maps errors.</summary>
internal sealed class ParticipantApi(IGrainFactory grains) : ParticipantService.ParticipantServiceBase
{
    private const int MaxImportBatch = 1000;
    private const int MaxRequestIdLength = 128;

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

        CheckRequestId(request.RequestId, "request_id", violations);
        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", violations);
        }

        var record = request.Participant!.Record ?? new ParticipantRecord();
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
        CheckRequestId(request.RequestId, "request_id", violations);
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
        await foreach (var batch in requestStream.ReadAllAsync(context.CancellationToken))
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

            var tasks = new Task<ImportResult>[batch.Entries.Count];
            for (var i = 0; i < batch.Entries.Count; i++)
            {
                tasks[i] = ImportOneAsync(cohortId, batch.Entries[i], index + i);
            }

            var response = new ImportParticipantsResponse();
            response.Results.AddRange(await Task.WhenAll(tasks));
            index += batch.Entries.Count;
            await responseStream.WriteAsync(response, context.CancellationToken);
        }
    }

    private async Task<ImportResult> ImportOneAsync(string cohortId, ImportEntry entry, long index)
    {
        var result = new ImportResult { Index = index };
        var violations = new List<Grains.FieldViolation>();
        if (!ResourceNames.IsValidParticipantId(entry.ParticipantId))
        {
            violations.Add(new("participant_id", $"must be {ResourceNames.ParticipantIdRule}"));
        }

        CheckRequestId(entry.RequestId, "request_id", violations);
        if (violations.Count > 0)
        {
            result.Status = GrpcErrors.Invalid("the record is invalid", violations).GetRpcStatus() ?? new Google.Rpc.Status { Code = (int)Code.InvalidArgument };
            return result;
        }

        result.Name = ResourceNames.Participant(cohortId, entry.ParticipantId);
        try
        {
            var reply = await grains.GetGrain<IParticipantGrain>(ParticipantKey.For(cohortId, entry.ParticipantId))
                .UpsertAsync(new UpsertParticipantCommand((entry.Record ?? new ParticipantRecord()).ToByteArray(), entry.RequestId, string.Empty));
            if (reply.Status == ReplyStatus.Ok && reply.Payload is not null)
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
        catch (Exception ex) when (ex is TimeoutException or Orleans.Runtime.OrleansException)
        {
            result.Status = new Google.Rpc.Status { Code = (int)Code.Unavailable, Message = "the cluster did not store this record; retry it with the same request_id" };
        }

        return result;
    }

    private async Task EnsureCohortAsync(string cohortId)
    {
        if (!await grains.GetGrain<ICohortGrain>(cohortId).ExistsAsync())
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

    private static void CheckRequestId(string requestId, string field, List<Grains.FieldViolation> violations)
    {
        if (requestId.Length > MaxRequestIdLength)
        {
            violations.Add(new(field, $"must be at most {MaxRequestIdLength} characters; got {requestId.Length}"));
        }
    }
}
