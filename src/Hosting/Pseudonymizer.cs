using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;

namespace HomaBone.Hosting;

/// <summary>
/// Keyed pseudonyms of participant identifiers (HMAC-SHA256, first 128 bits, hex) for everything that leaves
/// the data path: logs, traces, metric labels and the audit log. The same key gives the same pseudonym, so an
/// auditor holding the key can link entries to a participant; without the key the pseudonym reveals nothing.
/// </summary>
public sealed partial class Pseudonymizer
{
    /// <summary>Base64 key (at least 32 bytes decoded); takes precedence over <see cref="KeyPathKey"/>.</summary>
    public const string KeyKey = "HomaBone:Security:PseudonymKey";

    /// <summary>Path of a file holding the base64 key (a mounted secret).</summary>
    public const string KeyPathKey = "HomaBone:Security:PseudonymKeyPath";

    /// <summary>The development key file created in the data directory when no key is configured.</summary>
    public const string DevelopmentKeyFile = "pseudonym.key";

    private readonly byte[] _key;

    /// <summary>Creates a pseudonymizer with <paramref name="key"/> (at least 32 bytes).</summary>
    public Pseudonymizer(byte[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length < 32)
        {
            throw new ArgumentException("The pseudonym key must be at least 32 bytes.", nameof(key));
        }

        _key = (byte[])key.Clone();
    }

    /// <summary>"p_" and 32 hex digits: the keyed pseudonym of <paramref name="identifier"/>.</summary>
    public string Pseudonymize(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(identifier));
        return "p_" + Convert.ToHexStringLower(mac.AsSpan(0, 16));
    }

    /// <summary>
    /// Replaces participant identifiers inside free text: resource names (cohorts/c/participants/p, also
    /// URL-encoded) and participant grain ids (participant/c/p) keep their cohort and get the pseudonym of
    /// "c/p" in place of the participant id.
    /// </summary>
    public string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text) || (!text.Contains("participant", StringComparison.OrdinalIgnoreCase)))
        {
            return text ?? string.Empty;
        }

        text = ResourceName().Replace(text, m => m.Groups[1].Value + m.Groups[2].Value + m.Groups[3].Value + Pseudonymize(m.Groups[2].Value + "/" + Uri.UnescapeDataString(m.Groups[4].Value)));
        return GrainId().Replace(text, m => m.Groups[1].Value + m.Groups[2].Value + m.Groups[3].Value + Pseudonymize(m.Groups[2].Value + "/" + m.Groups[4].Value));
    }

    /// <summary>
    /// The configured key (<see cref="KeyKey"/>, else <see cref="KeyPathKey"/>), else a development key
    /// generated once and kept in the data directory (so pseudonyms are stable across restarts).
    /// </summary>
    public static Pseudonymizer FromConfiguration(IConfiguration configuration, HomaBoneOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        if (configuration[KeyKey] is { Length: > 0 } inline)
        {
            return new Pseudonymizer(Convert.FromBase64String(inline.Trim()));
        }

        if (configuration[KeyPathKey] is { Length: > 0 } path)
        {
            return new Pseudonymizer(Convert.FromBase64String(File.ReadAllText(path).Trim()));
        }

        Directory.CreateDirectory(options.DataDirectory);
        var file = Path.Combine(options.DataDirectory, DevelopmentKeyFile);
        if (!File.Exists(file))
        {
            try
            {
                var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var stream = new FileStream(file, create);
                using var writer = new StreamWriter(stream);
                writer.Write(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
            }
            catch (IOException) when (File.Exists(file))
            {
                // Another process of the same data directory created it first: use theirs.
            }
        }

        return new Pseudonymizer(Convert.FromBase64String(File.ReadAllText(file).Trim()));
    }

    // cohorts/{cohort}/participants/{participant}, with "/" possibly URL-encoded as %2F.
    [GeneratedRegex(@"(cohorts(?:/|%2[Ff]))([a-z0-9-]{1,64})((?:/|%2[Ff])participants(?:/|%2[Ff]))([^/\s?#""',;:\]\)}<>&]+)", RegexOptions.CultureInvariant)]
    private static partial Regex ResourceName();

    // Orleans grain ids of participant grains: participant/{cohort}/{participant}.
    [GeneratedRegex(@"(\bparticipant/)([a-z0-9-]{1,64})(/)([^/\s?#""',;:\]\)}<>&]+)", RegexOptions.CultureInvariant)]
    private static partial Regex GrainId();
}
