import AIMassAPI
import Logging
import ModelRegistry

/// Keeps every joined worker's copy of the registry's access rules current: it watches the registry's write counter
/// (no lock, no SQLite while nothing changes) and, when it moved, reads an ``AccessSnapshot`` and hands the
/// controller the new `AccessGrants` if they differ (``SchedulerController/publishGrants(_:)`` sends them down
/// every Join stream, and to each worker right after its Welcome).
///
/// Revocation bound: a token revoked, a grant removed or an alias moved reaches every connected worker within one
/// ``interval`` (default 200 ms) plus the stream's delivery.
public final class AccessGrantsPublisher: Sendable {
    let registry: ModelRegistry
    let controller: SchedulerController
    /// How often the registry's write counter is looked at.
    public let interval: Duration
    let logger: Logger

    /// Creates a publisher; ``run()`` does the work.
    public init(
        registry: ModelRegistry, controller: SchedulerController, interval: Duration = .milliseconds(200),
        logger: Logger = Logger(label: "aimass.grants")
    ) {
        self.registry = registry
        self.controller = controller
        self.interval = interval
        self.logger = logger
    }

    /// Publishes the current grants, then again after every registry change, until cancelled.
    public func run() async {
        var seen: UInt64?
        while !Task.isCancelled {
            let generation = registry.dataGeneration
            if generation != seen {
                do {
                    controller.publishGrants(Self.grants(try registry.accessSnapshot()))
                    seen = generation
                } catch {
                    logger.warning("cannot read the registry's access rules; retrying", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// The wire form of a snapshot.
    public static func grants(_ snapshot: AccessSnapshot) -> AccessGrants {
        AccessGrants(
            tokens: snapshot.tokens.map {
                TokenGrant(
                    sha256: $0.sha256, user: $0.user, admin: $0.isAdmin, expiresAtMs: $0.expiresAtMs ?? 0,
                    models: $0.models, tokenId: $0.id, requestsPerSecond: $0.requestsPerSecond)
            },
            models: snapshot.models.map {
                ModelGrant(
                    model: $0.name, readers: $0.readers, aliases: $0.aliases.mapValues { UInt32(clamping: $0) },
                    latestVersion: UInt32(clamping: $0.latestVersion),
                    splits: $0.splits.map {
                        SplitGrant(
                            alias: $0.alias, challengerVersion: UInt32(clamping: $0.challengerVersion),
                            percent: UInt32(clamping: $0.percent))
                    }
                )
            }
        )
    }
}
