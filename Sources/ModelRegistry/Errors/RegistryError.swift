/// An error from the model registry: a ``Code`` that the gRPC layer maps to a status, and a message for people.
///
/// Every failing public method of ``ModelRegistry``, ``VersionUpload`` and ``ArtifactReader`` throws this type, so
/// callers can `catch` it without casting:
///
/// ```swift
/// do {
///     _ = try registry.getModel("movies", by: principal)
/// } catch {
///     if error.code == .notFound { ... }
/// }
/// ```
public struct RegistryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of the failure; each code corresponds to one gRPC status code of the same name.
    public var code: Code
    /// What went wrong, naming the object involved (model, version, alias, user, file).
    public var message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The class of failure.
    ///   - message: A sentence naming what failed and why.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }

    /// The class of a ``RegistryError``. A struct over a private enum, so that codes can be added without breaking
    /// exhaustive `switch`es in callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidArgument, notFound, alreadyExists, permissionDenied, unauthenticated
            case dataLoss, resourceExhausted, failedPrecondition, `internal`, unavailable
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// The request is malformed: a bad name, an unknown field, a stream that ended early. Maps to `INVALID_ARGUMENT`.
        public static let invalidArgument = Code(.invalidArgument)
        /// A model, version, alias, user, group or token does not exist. Maps to `NOT_FOUND`.
        public static let notFound = Code(.notFound)
        /// An object with that name already exists. Maps to `ALREADY_EXISTS`.
        public static let alreadyExists = Code(.alreadyExists)
        /// The caller is known but lacks the role the operation needs. Maps to `PERMISSION_DENIED`.
        public static let permissionDenied = Code(.permissionDenied)
        /// The token is unknown or revoked. Maps to `UNAUTHENTICATED`.
        public static let unauthenticated = Code(.unauthenticated)
        /// Bytes do not match their declared size or sha256, or stored data is corrupt. Maps to `DATA_LOSS`.
        public static let dataLoss = Code(.dataLoss)
        /// An upload exceeds the configured size limit, or the disk is full. Maps to `RESOURCE_EXHAUSTED`.
        public static let resourceExhausted = Code(.resourceExhausted)
        /// The operation is not possible in the current state (registry closed, upload already finished, nothing to
        /// roll back to, data directory locked by another process). Maps to `FAILED_PRECONDITION`.
        public static let failedPrecondition = Code(.failedPrecondition)
        /// A bug or an unexpected failure of SQLite or the file system. Maps to `INTERNAL`.
        public static let `internal` = Code(.internal)
        /// The registry's replication store (etcd) refused or did not answer; nothing was written. Maps to
        /// `UNAVAILABLE`: the call may be retried, on the leader.
        public static let unavailable = Code(.unavailable)

        public var description: String { self.value.rawValue }
    }
}

extension RegistryError {
    static func invalidArgument(_ message: String) -> RegistryError { RegistryError(.invalidArgument, message) }
    static func notFound(_ message: String) -> RegistryError { RegistryError(.notFound, message) }
    static func alreadyExists(_ message: String) -> RegistryError { RegistryError(.alreadyExists, message) }
    static func permissionDenied(_ message: String) -> RegistryError { RegistryError(.permissionDenied, message) }
    static func unauthenticated(_ message: String) -> RegistryError { RegistryError(.unauthenticated, message) }
    static func dataLoss(_ message: String) -> RegistryError { RegistryError(.dataLoss, message) }
    static func resourceExhausted(_ message: String) -> RegistryError { RegistryError(.resourceExhausted, message) }
    static func failedPrecondition(_ message: String) -> RegistryError { RegistryError(.failedPrecondition, message) }
    static func `internal`(_ message: String) -> RegistryError { RegistryError(.internal, message) }
    static func unavailable(_ message: String) -> RegistryError { RegistryError(.unavailable, message) }
}
