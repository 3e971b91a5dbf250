using System.Globalization;
using BitTorrentActors.ClusterSim;

// cluster-sim driver --scenario leave|kill [--entities N] [--shards S] [--state-bytes B] [--stable-after-ms MS]
//                    [--base-port P] [--timeout S] [--rejoin] [--rebalance-limit L] [--recovery all|constant]
//                    [--pid-file F] [--set akka.some.key=value]...
// cluster-sim member --port P --parent-pid PID --lifetime S  (plus the shared settings; started by the driver)
try
{
    var opts = Options.Parse(args);
    return opts.Mode switch
    {
        "driver" => await Driver.RunAsync(opts),
        "member" => await MemberNode.RunAsync(opts),
        _ => throw new ArgumentException("first argument: driver or member"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"cluster-sim: {e.Message}");
    return 2;
}

namespace BitTorrentActors.ClusterSim
{
    public sealed record Options(
        string Mode,
        string Scenario,
        int Entities,
        int Port,
        int ParentPid,
        int LifetimeSeconds,
        int TimeoutSeconds,
        bool Rejoin,
        string? PidFile,
        SimSettings Settings)
    {
        public static Options Parse(string[] args)
        {
            if (args.Length == 0) throw new ArgumentException("first argument: driver or member");
            var map = new Dictionary<string, string>();
            var flags = new HashSet<string>();
            var sets = new List<string>();
            for (var i = 1; i < args.Length; i++)
            {
                var a = args[i];
                if (!a.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected '{a}'");
                if (a == "--rejoin") { flags.Add(a); continue; }
                if (i + 1 >= args.Length) throw new ArgumentException($"{a} needs a value");
                if (a == "--set")
                {
                    var kv = args[++i];
                    var eq = kv.IndexOf('=');
                    if (eq <= 0 || !kv.StartsWith("akka.", StringComparison.Ordinal) || kv.IndexOfAny(['\n', '{', '}']) >= 0)
                        throw new ArgumentException($"--set wants akka.key=value, not '{kv}'");
                    sets.Add(kv);
                    continue;
                }
                map[a] = args[++i];
            }
            int Int(string key, int def, int min, int max)
            {
                if (!map.TryGetValue(key, out var v)) return def;
                if (!int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < min || n > max)
                    throw new ArgumentException($"{key} must be an integer in {min}..{max}, not '{v}'");
                return n;
            }
            var basePort = Int("--base-port", 25520, 1024, 65000);
            var recovery = map.GetValueOrDefault("--recovery", "all");
            if (recovery is not ("all" or "constant")) throw new ArgumentException("--recovery must be all or constant");
            var scenario = map.GetValueOrDefault("--scenario", "leave");
            if (scenario is not ("leave" or "kill")) throw new ArgumentException("--scenario must be leave or kill");
            return new Options(
                args[0],
                scenario,
                Int("--entities", 1000, 1, 1_000_000),
                Int("--port", basePort, 1024, 65535),
                Int("--parent-pid", 0, 0, int.MaxValue),
                Int("--lifetime", 600, 1, 86_400),
                Int("--timeout", 300, 10, 86_400),
                flags.Contains("--rejoin"),
                map.GetValueOrDefault("--pid-file"),
                new SimSettings(
                    basePort,
                    Int("--shards", 100, 1, 100_000),
                    Int("--state-bytes", 4096, 0, 1 << 24),
                    TimeSpan.FromMilliseconds(Int("--stable-after-ms", 5000, 100, 600_000)),
                    Int("--rebalance-limit", 0, 0, 100_000),
                    recovery,
                    sets));
        }

        /// <summary>The arguments a member needs to join this driver's cluster with the same settings.</summary>
        public IEnumerable<string> MemberArgs(int port, int parentPid, int lifetime)
        {
            var s = Settings;
            return
            [
                "member", "--port", I(port), "--parent-pid", I(parentPid), "--lifetime", I(lifetime),
                "--base-port", I(s.BasePort), "--shards", I(s.Shards), "--state-bytes", I(s.StateBytes),
                "--stable-after-ms", I((int)s.StableAfter.TotalMilliseconds),
                "--rebalance-limit", I(s.RebalanceAbsoluteLimit), "--recovery", s.RecoveryStrategy,
                .. s.Overrides.SelectMany(kv => new[] { "--set", kv }),
            ];
            static string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        }
    }
}
