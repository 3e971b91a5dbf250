using BenchmarkDotNet.Running;

namespace BitTorrentActors.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project tests/BitTorrentActors.Benchmarks -- --filter '*'</c>
/// (add <c>--job short</c> for a quick run). Every benchmark class carries <c>[MemoryDiagnoser]</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
