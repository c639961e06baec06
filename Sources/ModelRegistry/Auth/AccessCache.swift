import Synchronization

/// The registry's memo of the answers every inference call asks for: who a token is, whether a user may read a
/// model, and which version a reference names. A hit takes neither the registry's mutex nor SQLite.
///
/// Correctness rests on one counter, the *generation*: ``ModelRegistry`` bumps it inside its mutex whenever a
/// call changed a row of its database (token created or revoked, user, group, role or permission changed, model
/// created, renamed or deleted, version uploaded, metrics set, alias moved — any write, whatever the table), so
/// the write is visible to every call that starts after the writing call returned. Answers are stored with the
/// generation they were read at and found only at that generation.
///
/// This assumes the registry is the only writer of its SQLite file (its data-directory lock keeps other
/// registries out; a person editing `registry.sqlite` with the `sqlite3` tool is not seen): such a write is picked
/// up within ``ModelRegistry/Configuration/AccessCaching/ttl``, after which every entry expires.
final class AccessCache: Sendable {
    /// What was asked, by whom, about which model.
    struct Key: Hashable, Sendable {
        var userID: Int64
        /// Two tokens of one user with different scopes get different answers.
        var scope: TokenScope
        var model: String
        var question: Question
    }

    /// The questions the cache answers.
    enum Question: Hashable, Sendable {
        /// Which version does the reference name (the caller must be a reader)?
        case version(VersionReference)
        /// Does the caller hold at least this role?
        case role(Role)
        /// What is the alias's A/B split (the caller must be a reader)?
        case split(alias: String)
    }

    /// A cached answer; errors that are a function of the data (not found, denied) are answers too.
    enum Answer: Sendable {
        case version(ModelVersion)
        case allowed
        case split(AliasSplit?)
    }

    /// Token SHA-256 (hex) to the principal it authenticates.
    let principals: AnswerCache<String, Principal>
    /// Authorization and version resolution answers.
    let answers: AnswerCache<Key, Result<Answer, RegistryError>>
    private let counter = Atomic<UInt64>(0)
    private let closed = Atomic<Bool>(false)

    init(_ configuration: ModelRegistry.Configuration.AccessCaching) {
        self.principals = AnswerCache(capacity: configuration.capacity, ttl: configuration.ttl)
        self.answers = AnswerCache(capacity: configuration.capacity, ttl: configuration.ttl)
    }

    /// The current generation of the registry's data; read it inside the registry's mutex when storing.
    var generation: UInt64 { self.counter.load(ordering: .acquiring) }

    /// Whether lookups may answer: not after the registry was closed (its calls must fail).
    var isOpen: Bool { !self.closed.load(ordering: .acquiring) }

    /// Makes every stored answer stale. Called with the registry's mutex held, after a write.
    func invalidate() {
        self.counter.add(1, ordering: .releasing)
    }

    /// Stops answering and drops everything (the registry is closing).
    func close() {
        self.closed.store(true, ordering: .releasing)
        self.invalidate()
        self.principals.removeAll()
        self.answers.removeAll()
    }

    /// Whether an error is a function of the data, and so may be cached: not found, denied, unknown user or a
    /// malformed reference. Failures of SQLite, the disk or a closed registry are not.
    static func isAnswer(_ error: RegistryError) -> Bool {
        [.notFound, .permissionDenied, .unauthenticated, .invalidArgument].contains(error.code)
    }
}
