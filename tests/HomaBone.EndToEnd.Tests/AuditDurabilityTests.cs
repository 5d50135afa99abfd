using Grpc.Core;
using HomaBone.Contracts.V1;
using Microsoft.Data.Sqlite;

namespace HomaBone.EndToEnd.Tests;

/// <summary>The audit log survives kill -9 (entries are durable before the call is answered) and refuses changes.</summary>
public sealed class AuditDurabilityTests
{
    [Fact]
    public async Task AuditEntries_SurviveKill9_AndTheTableRefusesUpdateAndDelete()
    {
        using var tokens = new TokenIssuer();
        var analyst = TokenIssuer.Bearer(tokens.Mint(["analyst"], subject: "durable-analyst"));
        string dataDirectory;
        await using (var first = new ServiceProcess())
        {
            dataDirectory = first.DataDirectory;
            await first.StartAsync(tokens.ServiceArgs);
            var cohorts = new CohortService.CohortServiceClient(first.CreateChannel());
            for (var i = 0; i < 3; i++)
            {
                var missing = await Assert.ThrowsAsync<RpcException>(() => cohorts.GetCohortAsync(new GetCohortRequest { Name = $"cohorts/gone-{i}" }, analyst).ResponseAsync);
                Assert.Equal(StatusCode.NotFound, missing.StatusCode);
            }

            first.Kill();
        }

        await using var second = new ServiceProcess(dataDirectory);
        await second.StartAsync(tokens.ServiceArgs);
        var audit = new AuditService.AuditServiceClient(second.CreateChannel());
        var page = await audit.ListAuditEntriesAsync(new ListAuditEntriesRequest { Principal = "durable-analyst" }, TokenIssuer.Bearer(tokens.Mint(["auditor"])));
        Assert.Equal(["gone-2", "gone-1", "gone-0"], page.Entries.Select(e => e.CohortId));
        Assert.All(page.Entries, e => Assert.Equal((int)StatusCode.NotFound, e.StatusCode));

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "homabone.db")}");
        await connection.OpenAsync();
        foreach (var sql in new[] { "UPDATE audit_log SET principal = 'someone-else';", "DELETE FROM audit_log;" })
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            var refused = await Assert.ThrowsAsync<SqliteException>(() => command.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.Message, StringComparison.Ordinal);
        }
    }
}
