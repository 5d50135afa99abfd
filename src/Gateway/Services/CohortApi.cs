using Google.Protobuf;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;

namespace HomaBone.Gateway.Services;

/// <summary>CohortService: cohort settings and the live analysis (answered by the cohort grain at published versions).</summary>
internal sealed class CohortApi(IGrainFactory grains, IHostApplicationLifetime lifetime) : CohortService.CohortServiceBase
{
    public override async Task<CreateCohortResponse> CreateCohort(CreateCohortRequest request, ServerCallContext context)
    {
        var violations = new List<FieldViolation>();
        if (!ResourceNames.IsValidCohortId(request.CohortId))
        {
            violations.Add(new("cohort_id", $"must be {ResourceNames.CohortIdRule}; got '{Truncate(request.CohortId)}'"));
        }

        RequestIds.Check(request.RequestId, "request_id", violations);
        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", violations);
        }

        var reply = await grains.GetGrain<ICohortGrain>(request.CohortId).CreateAsync((request.Cohort ?? new Cohort()).ToByteArray(), request.RequestId);
        return new CreateCohortResponse { Cohort = Cohort.Parser.ParseFrom(GrpcErrors.Unwrap(reply)) };
    }

    public override async Task<GetCohortResponse> GetCohort(GetCohortRequest request, ServerCallContext context)
    {
        var reply = await grains.GetGrain<ICohortGrain>(ParseCohort(request.Name, "name")).GetAsync();
        return new GetCohortResponse { Cohort = Cohort.Parser.ParseFrom(GrpcErrors.Unwrap(reply)) };
    }

    public override async Task<UpdateCohortResponse> UpdateCohort(UpdateCohortRequest request, ServerCallContext context)
    {
        if (request.Cohort is null)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", [new("cohort", "is required")]);
        }

        var id = ParseCohort(request.Cohort.Name, "cohort.name");
        var violations = new List<FieldViolation>();
        RequestIds.Check(request.RequestId, "request_id", violations);
        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", violations);
        }

        var reply = await grains.GetGrain<ICohortGrain>(id).UpdateAsync(request.Cohort.ToByteArray(), request.UpdateMask?.Paths.ToList() ?? [], request.RequestId);
        return new UpdateCohortResponse { Cohort = Cohort.Parser.ParseFrom(GrpcErrors.Unwrap(reply)) };
    }

    public override async Task<GetFlowResponse> GetFlow(GetFlowRequest request, ServerCallContext context) =>
        Answer(GetFlowResponse.Parser, await AnalyzeAsync(AnalysisKind.Flow, request.Name, request.Version, request));

    public override async Task<GetQuartilesResponse> GetQuartiles(GetQuartilesRequest request, ServerCallContext context) =>
        Answer(GetQuartilesResponse.Parser, await AnalyzeAsync(AnalysisKind.Quartiles, request.Name, request.Version, request));

    public override async Task<GetCharacteristicsResponse> GetCharacteristics(GetCharacteristicsRequest request, ServerCallContext context) =>
        Answer(GetCharacteristicsResponse.Parser, await AnalyzeAsync(AnalysisKind.Characteristics, request.Name, request.Version, request));

    public override async Task<GetGroupDifferencesResponse> GetGroupDifferences(GetGroupDifferencesRequest request, ServerCallContext context)
    {
        CheckVariables(request.Outcomes, "outcomes");
        return Answer(GetGroupDifferencesResponse.Parser, await AnalyzeAsync(AnalysisKind.GroupDifferences, request.Name, request.Version, request));
    }

    public override async Task<GetAssociationsResponse> GetAssociations(GetAssociationsRequest request, ServerCallContext context)
    {
        CheckVariables(request.Outcomes, "outcomes");
        var violations = new List<Grains.FieldViolation>();
        for (var i = 0; i < request.CustomModels.Count; i++)
        {
            var model = request.CustomModels[i];
            var prefix = $"custom_models[{i}]";
            if (model.Outcome is null || !HomaBone.Analysis.Variables.TryGet(model.Outcome.Variable, out _))
            {
                violations.Add(new(prefix + ".outcome.variable", "must name a variable of the catalogue"));
            }

            if (model.Exposure is not null && !HomaBone.Analysis.Variables.TryGet(model.Exposure.Variable, out _))
            {
                violations.Add(new(prefix + ".exposure.variable", "must name a variable of the catalogue"));
            }

            for (var c = 0; c < model.Covariates.Count; c++)
            {
                if (!HomaBone.Analysis.Variables.TryGet(model.Covariates[c].Variable, out _))
                {
                    violations.Add(new($"{prefix}.covariates[{c}].variable", "must name a variable of the catalogue"));
                }
            }

            if (model.Covariates.Count > 30)
            {
                violations.Add(new(prefix + ".covariates", "at most 30 covariates"));
            }
        }

        if (violations.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the model is invalid", violations);
        }

        return Answer(GetAssociationsResponse.Parser, await AnalyzeAsync(AnalysisKind.Associations, request.Name, request.Version, request));
    }

    public override async Task WatchCohort(WatchCohortRequest request, IServerStreamWriter<WatchCohortResponse> responseStream, ServerCallContext context)
    {
        var id = ParseCohort(request.Name, "name");
        var interval = request.HeartbeatInterval?.ToTimeSpan() ?? TimeSpan.FromSeconds(15);
        if (request.HeartbeatInterval is not null && (interval < TimeSpan.FromSeconds(1) || interval > TimeSpan.FromSeconds(300)))
        {
            GrpcErrors.ThrowInvalid("the request is invalid", [new("heartbeat_interval", "must be between 1 and 300 seconds")]);
        }

        var cohort = grains.GetGrain<ICohortGrain>(id);
        if (!await cohort.ExistsAsync())
        {
            GrpcErrors.Throw(Google.Rpc.Code.NotFound, $"cohort '{id}' does not exist");
        }

        var after = request.AfterVersion;
        while (!context.CancellationToken.IsCancellationRequested)
        {
            long latest;
            try
            {
                latest = await cohort.WaitForVersionAsync(after, interval).WaitAsync(lifetime.ApplicationStopping);
            }
            catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
            {
                // A watch never ends on its own: end it at shutdown so the drain is not held until the timeout.
                // The client resumes on another gateway with after_version.
                throw new RpcException(new Status(StatusCode.Unavailable, "the gateway is shutting down; watch again with after_version"));
            }

            if (latest > after)
            {
                var flow = GetFlowResponse.Parser.ParseFrom(GrpcErrors.Unwrap(await cohort.AnalyzeAsync(AnalysisKind.Flow, new GetFlowRequest { Name = request.Name, Version = latest }.ToByteArray())));
                var quartiles = GetQuartilesResponse.Parser.ParseFrom(GrpcErrors.Unwrap(await cohort.AnalyzeAsync(AnalysisKind.Quartiles, new GetQuartilesRequest { Name = request.Name, Version = latest }.ToByteArray())));
                await responseStream.WriteAsync(new WatchCohortResponse { Summary = new CohortSummary { Metadata = quartiles.Metadata, Flow = flow, Quartiles = quartiles } }, context.CancellationToken);
                after = latest;
            }
            else
            {
                await responseStream.WriteAsync(new WatchCohortResponse { Heartbeat = new Heartbeat { CohortVersion = latest, Time = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTime(DateTime.UtcNow) } }, context.CancellationToken);
            }
        }
    }

    /// <summary>
    /// The answer message of the grain's reply bytes. Co-hosted, the cohort grain hands back the very byte array it
    /// keeps for a version's answer, so its parse is kept with that array (a weak table: it lives as long as the
    /// grain keeps the bytes) and a version asked again is not parsed again. Answers are never modified after
    /// parsing (serialising and auditing only read them).
    /// </summary>
    private static T Answer<T>(MessageParser<T> parser, byte[] bytes)
        where T : class, IMessage<T> =>
        ParsedAnswers.GetValue(bytes, parser.ParseFrom) as T ?? parser.ParseFrom(bytes);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<byte[], IMessage> ParsedAnswers = [];

    private async Task<byte[]> AnalyzeAsync(AnalysisKind kind, string name, long version, IMessage request)
    {
        var id = ParseCohort(name, "name");
        if (version < 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", [new("version", $"must be 0 (latest) or a published version; got {version}")]);
        }

        return GrpcErrors.Unwrap(await grains.GetGrain<ICohortGrain>(id).AnalyzeAsync(kind, request.ToByteArray()));
    }

    private static void CheckVariables(IEnumerable<string> names, string field)
    {
        var unknown = names.Where(n => !HomaBone.Analysis.Variables.TryGet(n, out _)).Take(10).ToList();
        if (unknown.Count > 0)
        {
            GrpcErrors.ThrowInvalid("the request is invalid", unknown.Select(n => new Grains.FieldViolation(field, $"'{(n.Length > 64 ? n[..64] : n)}' is not a variable of the catalogue")));
        }
    }

    private static string ParseCohort(string name, string field)
    {
        if (!ResourceNames.TryParseCohort(name, out var id))
        {
            GrpcErrors.ThrowInvalid("the request is invalid", [new(field, $"must be cohorts/{{cohort}} with a cohort id of {ResourceNames.CohortIdRule}")]);
        }

        return id;
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
