using Google.Protobuf;
using HomaBone.Contracts.V1;

namespace HomaBone.Grains.Tests;

/// <summary>Durability across a silo kill: a second cluster on the same SQLite file reads the same bytes.</summary>
[Collection(SharedCluster.Name)]
public sealed class RestartTests
{
    [Fact]
    public async Task Get_AfterSiloKillAndNewCluster_ReturnsIdenticalBytesForEveryRevision()
    {
        var directory = Directory.CreateTempSubdirectory("homabone-restart-");
        try
        {
            var path = Path.Combine(directory.FullName, "homabone.db");
            const string ServiceId = "homabone-restart-test";
            var key = ParticipantKey.For("restart", "p1");
            byte[] revision1, revision2;

            var cluster = await ClusterFixture.StartClusterAsync(path, ServiceId, silos: 1);
            try
            {
                Assert.Equal(ReplyStatus.Ok, (await cluster.GrainFactory.GetGrain<ICohortGrain>("restart").CreateAsync(new Cohort().ToByteArray())).Status);
                var grain = cluster.GrainFactory.GetGrain<IParticipantGrain>(key);
                var first = await grain.UpsertAsync(new UpsertParticipantCommand(Records.Sample(57).ToByteArray(), "a", string.Empty));
                var etag = Participant.Parser.ParseFrom(first.Payload).Etag;
                var second = await grain.UpsertAsync(new UpsertParticipantCommand(Records.Sample(58).ToByteArray(), "b", etag));
                Assert.Equal(ReplyStatus.Ok, second.Status);
                revision1 = first.Payload!;
                revision2 = second.Payload!;

                // An acknowledged write is durable: kill the silo without any shutdown code.
                await cluster.KillSiloAsync(cluster.Primary!);
            }
            finally
            {
                await cluster.DisposeAsync();
            }

            var restarted = await ClusterFixture.StartClusterAsync(path, ServiceId, silos: 1);
            try
            {
                var grain = restarted.GrainFactory.GetGrain<IParticipantGrain>(key);
                Assert.Equal(revision2, (await grain.GetAsync(0)).Payload);
                Assert.Equal(revision1, (await grain.GetAsync(1)).Payload);
                Assert.Equal(revision2, (await grain.GetAsync(2)).Payload);

                // The request log survived too: a retry of the first write is still a no-op.
                var retry = await grain.UpsertAsync(new UpsertParticipantCommand(Records.Sample(57).ToByteArray(), "a", string.Empty));
                Assert.Equal(revision1, retry.Payload);
                Assert.Equal(revision2, (await grain.GetAsync(0)).Payload);
            }
            finally
            {
                await restarted.StopAllSilosAsync();
                await restarted.DisposeAsync();
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }
}
