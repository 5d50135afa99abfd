using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace HomaBone.Cluster.Tests;

/// <summary>A real PostgreSQL and a real Redis on loopback, started once for the cluster tests and stopped after them.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterTestGroup : ICollectionFixture<Infrastructure>
{
    public const string Name = "cluster";
}

/// <summary>
/// Starts PostgreSQL (Debian's postgresql package: initdb into a temporary folder, run as the postgres user when the
/// tests run as root) and redis-server on random loopback ports, with nothing persisted outside the temporary folder.
/// Both are killed and the folder removed on dispose.
/// </summary>
public sealed class Infrastructure : IAsyncLifetime
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("homabone-cluster-");
    private readonly StringBuilder _log = new();
    private Process? _postgres;
    private Process? _redis;
    private int _databases;

    public int PostgresPort { get; } = FreePort();

    public int RedisPort { get; } = FreePort();

    /// <summary>StackExchange.Redis connection string.</summary>
    public string RedisConnectionString => $"127.0.0.1:{RedisPort},abortConnect=false";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public async Task InitializeAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).OrderDescending().FirstOrDefault()
            ?? throw new InvalidOperationException("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb); scripts/test.sh installs the postgresql package");
        var data = Path.Combine(_root.FullName, "pgdata");
        var sockets = Path.Combine(_root.FullName, "sockets");
        Directory.CreateDirectory(sockets);
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            // PostgreSQL refuses to run as root: the temporary folder belongs to the postgres user.
            await RunAsync("chown", ["-R", "postgres:postgres", _root.FullName]);
        }

        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], asRoot);
        _postgres = Start(
            Path.Combine(bin, "postgres"),
            ["-D", data, "-p", PostgresPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "-k", sockets, "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "shared_buffers=64MB"],
            asRoot,
            "postgres");
        _redis = Start(
            "redis-server",
            ["--port", RedisPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", string.Empty, "--appendonly", "no", "--dir", _root.FullName],
            asRoot: false,
            "redis");

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString);
                await connection.OpenAsync();
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException && DateTime.UtcNow < deadline)
            {
                if (_postgres.HasExited)
                {
                    throw new InvalidOperationException("postgres exited:\n" + Log);
                }

                await Task.Delay(100);
            }
        }

        await WaitForPortAsync(RedisPort, deadline);
    }

    /// <summary>A connection string to a new, empty database.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"homabone_{Interlocked.Increment(ref _databases)}";
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name};", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (_postgres is { HasExited: false })
        {
            // Fast shutdown (SIGINT): the postmaster stops its backends and releases its shared memory.
            using var stop = Process.Start("kill", ["-INT", _postgres.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await stop.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await _postgres.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (var process in new[] { _redis, _postgres })
        {
            if (process is { HasExited: false })
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process?.Dispose();
        }

        // Backends exit once the postmaster is gone; give them a moment before removing their folder.
        for (var attempt = 0; attempt < 20; attempt++)
        {
            try
            {
                _root.Delete(recursive: true);
                break;
            }
            catch (IOException)
            {
                await Task.Delay(250);
            }
        }
    }

    private string AdminConnectionString => $"Host=127.0.0.1;Port={PostgresPort};Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=20";

    private Process Start(string file, string[] args, bool asRoot, string name)
    {
        var start = new ProcessStartInfo(asRoot ? "setpriv" : file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asRoot)
        {
            // setpriv execs the server itself (no intermediate process), so killing this process kills the server.
            foreach (var a in new[] { "--reuid=postgres", "--regid=postgres", "--clear-groups", "--", file })
            {
                start.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + file);
        process.OutputDataReceived += (_, e) => Append(name, e.Data);
        process.ErrorDataReceived += (_, e) => Append(name, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task RunAsync(string file, string[] args, bool asPostgres = false)
    {
        using var process = Start(file, args, asPostgres, Path.GetFileName(file));
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} exited with {process.ExitCode}:\n{Log}");
        }
    }

    private void Append(string name, string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.Append(name).Append(": ").AppendLine(line);
            }
        }
    }

    private static async Task WaitForPortAsync(int port, DateTime deadline)
    {
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
