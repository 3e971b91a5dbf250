using Akka.Actor;
using Akka.TestKit;
using BitTorrentActors.Engine.Storage;
using BitTorrentActors.Protocol.Metainfo;
using static BitTorrentActors.Engine.Tests.Storage.StorageTestSupport;

namespace BitTorrentActors.Engine.Tests.Storage;

/// <summary>
/// What every FileWriterActor test class has: the shipped hocon.conf (so the writer runs on its real dispatcher),
/// a temp folder of its own, deleted afterwards, and a probe in the coordinator's place.
/// </summary>
public abstract class WriterTestKit : Akka.TestKit.Xunit2.TestKit
{
    protected const int KiB = 1024;
    protected const int BlockSize = 16 * KiB;
    protected static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    protected WriterTestKit()
        : base(Hocon)
    {
        Coordinator = CreateTestProbe("coordinator");
    }

    protected TempFolder Folder { get; } = new();

    protected TestProbe Coordinator { get; }

    protected IActorRef Writer(TorrentMetainfo metainfo) =>
        Sys.ActorOf(FileWriterActor.Props(Context(metainfo, Folder.Path), Coordinator.Ref));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Folder.Dispose();
        }
    }
}
