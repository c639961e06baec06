extension ModelRegistry {
    /// Limits and durability settings of a registry.
    ///
    /// ```swift
    /// let configuration = ModelRegistry.Configuration.defaults { $0.maxArtifactBytes = 64 << 20 }
    /// ```
    public struct Configuration: Sendable, Hashable {
        /// The largest artifact accepted, in bytes. An upload that declares or sends more fails with
        /// `resourceExhausted` as soon as the limit is exceeded. Default 4 GiB.
        public var maxArtifactBytes: Int64
        /// SQLite's `synchronous` setting. Default ``Synchronous/full``.
        public var synchronous: Synchronous
        /// How long SQLite waits for a lock held by another connection. Default 5000 ms.
        public var busyTimeoutMilliseconds: Int
        /// Whether the first open creates the `admin` user and `DATADIR/admin.token`. Default `true`.
        public var createAdminUser: Bool
        /// The memo of authentication, authorization and version resolution that keeps SQLite off the path of
        /// inference calls. Default: 2 s, 10 000 entries per table.
        public var accessCaching: AccessCaching
        /// Where artifacts are stored (`DIR/sha256/…`, uploads in progress in `DIR/tmp/`); nil: `DATADIR/artifacts`.
        /// Several registries may share one directory (control planes on etcd): files are content-addressed and
        /// installed by rename, so concurrent writers are safe.
        public var artifactDirectory: String? = nil
        /// Whether opening removes interrupted uploads and artifacts no version references. Default `true`; turn it
        /// off for an artifact directory other registries share (their uploads and versions are not in this one's
        /// database).
        public var sweepsArtifacts: Bool = true

        /// Creates a configuration.
        public init(
            maxArtifactBytes: Int64 = 4 << 30,
            synchronous: Synchronous = .full,
            busyTimeoutMilliseconds: Int = 5000,
            createAdminUser: Bool = true,
            accessCaching: AccessCaching = .defaults
        ) {
            self.maxArtifactBytes = maxArtifactBytes
            self.synchronous = synchronous
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.createAdminUser = createAdminUser
            self.accessCaching = accessCaching
        }

        /// The default configuration.
        public static var defaults: Configuration { Configuration() }

        /// The defaults, changed by `configure`.
        public static func defaults(configure: (inout Configuration) -> Void) -> Configuration {
            var configuration = Configuration.defaults
            configure(&configuration)
            return configuration
        }

        /// SQLite's `PRAGMA synchronous` in WAL mode.
        public enum Synchronous: String, Sendable, Hashable {
            /// Every commit is fsynced before it returns: acknowledged writes survive power loss. The registry's
            /// write rate is low (uploads, alias moves), so the extra fsync per commit costs little.
            case full = "FULL"
            /// The WAL is fsynced only at checkpoints: survives a process crash, but the last commits may be lost
            /// on power loss or an OS crash. For tests and throwaway directories.
            case normal = "NORMAL"
        }

        /// How long and how many answers of ``ModelRegistry/authenticate(token:)``,
        /// ``ModelRegistry/checkRole(_:model:required:)`` and ``ModelRegistry/getVersion(model:_:by:)`` are kept.
        ///
        /// Every write through the registry makes all kept answers stale at once (a revoked token is refused, a
        /// moved alias followed, on the very next call), so the TTL only bounds how long a change made to
        /// `registry.sqlite` by another program goes unseen.
        public struct AccessCaching: Sendable, Hashable {
            /// How long an answer is kept. Default 2 s.
            public var ttl: Duration
            /// The most answers kept in each of the two tables (principals by token; authorization and version
            /// answers). `0` turns the cache off. Default 10 000.
            public var capacity: Int

            /// Creates the settings.
            public init(ttl: Duration = .seconds(2), capacity: Int = 10_000) {
                self.ttl = ttl
                self.capacity = capacity
            }

            /// The default settings.
            public static var defaults: AccessCaching { AccessCaching() }

            /// No caching: every call reads SQLite.
            public static var disabled: AccessCaching { AccessCaching(capacity: 0) }
        }
    }
}
