using Google.Protobuf;
using Grpc.Core;
using HomaBone.Contracts.V1;
using HomaBone.Grains;

namespace HomaBone.Gateway.Services;

/// <summary>CohortService: cohort settings now; the live analysis RPCs arrive with the cohort-analysis issue.</summary>
internal sealed class CohortApi(IGrainFactory grains) : CohortService.CohortServiceBase
{
    private const string AnalysisPending = "not implemented yet: the live cohort analysis (issue 5) implements this RPC";

    public override async Task<CreateCohortResponse> CreateCohort(CreateCohortRequest request, ServerCallContext context)
    {
        if (!ResourceNames.IsValidCohortId(request.CohortId))
        {
            GrpcErrors.ThrowInvalid("the request is invalid", [new("cohort_id", $"must be {ResourceNames.CohortIdRule}; got '{Truncate(request.CohortId)}'")]);
        }

        var reply = await grains.GetGrain<ICohortGrain>(request.CohortId).CreateAsync((request.Cohort ?? new Cohort()).ToByteArray());
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
        var reply = await grains.GetGrain<ICohortGrain>(id).UpdateAsync(request.Cohort.ToByteArray(), request.UpdateMask?.Paths.ToList() ?? []);
        return new UpdateCohortResponse { Cohort = Cohort.Parser.ParseFrom(GrpcErrors.Unwrap(reply)) };
    }

    public override Task<GetFlowResponse> GetFlow(GetFlowRequest request, ServerCallContext context) => throw Pending();

    public override Task<GetQuartilesResponse> GetQuartiles(GetQuartilesRequest request, ServerCallContext context) => throw Pending();

    public override Task<GetCharacteristicsResponse> GetCharacteristics(GetCharacteristicsRequest request, ServerCallContext context) => throw Pending();

    public override Task<GetGroupDifferencesResponse> GetGroupDifferences(GetGroupDifferencesRequest request, ServerCallContext context) => throw Pending();

    public override Task<GetAssociationsResponse> GetAssociations(GetAssociationsRequest request, ServerCallContext context) => throw Pending();

    public override Task WatchCohort(WatchCohortRequest request, IServerStreamWriter<WatchCohortResponse> responseStream, ServerCallContext context) => throw Pending();

    private static RpcException Pending() => new(new Status(StatusCode.Unimplemented, AnalysisPending));

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
