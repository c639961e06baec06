/// A failed RPC: a non-OK status code, a human-readable message and trailing metadata.
///
/// Handlers throw it to end a call with that status; clients receive it when a call fails.
/// Any other error thrown by a handler becomes ``StatusCode/unknown`` unless it conforms to
/// ``RPCErrorConvertible``.
public struct RPCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The status code; never ``StatusCode/ok``.
    public var code: StatusCode
    /// The status message, sent percent-encoded in `grpc-message`.
    public var message: String
    /// Trailing metadata sent with the status (for example `grpc-status-details-bin`).
    public var metadata: Metadata

    public init(code: StatusCode, message: String, metadata: Metadata = [:]) {
        self.code = code
        self.message = message
        self.metadata = metadata
    }

    public var description: String { "\(code): \(message)" }
}

/// A domain error that knows which gRPC status it maps to.
public protocol RPCErrorConvertible: Error {
    /// The status this error is reported as on the wire.
    var rpcError: RPCError { get }
}

extension RPCError {
    /// Maps any error thrown by a handler to the status reported to the peer.
    public init(mapping error: any Error) {
        switch error {
        case let error as RPCError: self = error
        case let error as any RPCErrorConvertible: self = error.rpcError
        case is CancellationError: self = RPCError(code: .cancelled, message: "the call was cancelled")
        default: self = RPCError(code: .unknown, message: "\(error)")
        }
    }
}

/// The final status of a call: ``StatusCode/ok`` or the error it ended with.
public struct RPCStatus: Sendable, Hashable {
    public var code: StatusCode
    public var message: String

    public init(code: StatusCode, message: String = "") {
        self.code = code
        self.message = message
    }

    public static let ok = RPCStatus(code: .ok)
}
