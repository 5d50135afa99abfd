using Google.Protobuf;
using HomaBone.Contracts.V1;
using HomaBone.Grains;
using HomaBone.Hosting;
using HomaBone.Synthetic;

namespace HomaBone.Gateway;

/// <summary>
/// Demo mode (HomaBone:Demo=true): after start-up, creates the cohort "demo" and loads the synthetic cohort
/// (seed 2018: 1,008 eligible women plus the excluded, shaped on the paper) through the participant grains,
/// with deterministic request ids so a restart changes nothing.
/// </summary>
internal sealed partial class DemoLoader(IGrainFactory grains, IHostApplicationLifetime lifetime, HomaBoneOptions options, ILogger<DemoLoader> logger) : BackgroundService
{
    public const string CohortId = "demo";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Demo)
        {
            return;
        }

        var started = new TaskCompletionSource();
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(stoppingToken);
        }

        var cohort = grains.GetGrain<ICohortGrain>(CohortId);
        if (!await cohort.ExistsAsync())
        {
            await cohort.CreateAsync(new Cohort { DisplayName = "Synthetic demo cohort (seed 2018)" }.ToByteArray());
        }

        var loaded = 0;
        foreach (var chunk in SyntheticCohort.Generate(2018).Chunk(256))
        {
            var writes = chunk.Select(p => grains.GetGrain<IParticipantGrain>(ParticipantKey.For(CohortId, p.ParticipantId))
                .UpsertAsync(new UpsertParticipantCommand(ParticipantMapping.FromDomain(p.Record).ToByteArray(), "demo-" + p.ParticipantId, string.Empty)));
            var replies = await Task.WhenAll(writes).WaitAsync(stoppingToken);
            loaded += replies.Count(r => r.Status == ReplyStatus.Ok);
        }

        LogLoaded(logger, loaded);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo cohort 'demo' loaded: {Count} participants")]
    private static partial void LogLoaded(ILogger logger, int count);
}
