/// An error from the scheduler's domain core, with a code that maps onto a gRPC status.
public struct SchedulerError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, as an extensible set of codes.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidArgument, notFound, alreadyExists, failedPrecondition
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// Bad input (min > max, negative resources, an unknown state). gRPC `INVALID_ARGUMENT`.
        public static let invalidArgument = Code(.invalidArgument)
        /// No such worker, deployment or replica. gRPC `NOT_FOUND`.
        public static let notFound = Code(.notFound)
        /// A worker or deployment with this id exists. gRPC `ALREADY_EXISTS`.
        public static let alreadyExists = Code(.alreadyExists)
        /// The operation does not apply in the current state (scaling a deleting deployment, a replica moving
        /// backwards). gRPC `FAILED_PRECONDITION`.
        public static let failedPrecondition = Code(.failedPrecondition)

        public var description: String { "\(wrapped)" }
    }

    /// The code.
    public var code: Code
    /// A human-readable message.
    public var message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
