namespace BitTorrentActors.Engine.Tests.Cli;

/// <summary>The checkout the tests were built from: the folder above the test output that holds the solution.</summary>
internal static class RepositoryFolder
{
    public static readonly string Root = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BitTorrentActors.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("BitTorrentActors.sln not found above " + AppContext.BaseDirectory);
    }
}
