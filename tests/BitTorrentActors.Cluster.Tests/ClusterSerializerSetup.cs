using System.Collections.Immutable;
using Akka.Actor;
using Akka.Actor.Setup;
using Akka.Configuration;
using Akka.Serialization;
using BitTorrentActors.Engine.Cluster;

namespace BitTorrentActors.Cluster.Tests;

/// <summary>An actor system setup that binds <see cref="ClusterMessageSerializer"/> as the daemon's hosting binds it
/// (<c>WithCustomSerializer</c>), for tests that build their actor systems by hand.</summary>
internal static class ClusterSerializerSetup
{
    public static ActorSystemSetup Create(Config? config = null) =>
        (config is null ? BootstrapSetup.Create() : BootstrapSetup.Create().WithConfig(config)).And(SerializationSetup.Create(system =>
        ImmutableHashSet.Create(SerializerDetails.Create(ClusterMessageSerializer.Name, new ClusterMessageSerializer(system),
            ClusterMessageSerializer.BoundTypes.ToImmutableHashSet()))));
}
