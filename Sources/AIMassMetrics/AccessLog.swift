import Logging
import RPCCore

/// Writes one access-log line per call (`aimass serve --access-log`), through swift-log at `info`:
///
/// `grpc_method`, `grpc_status`, `duration_ms`, `peer`, what the handler annotated (`model`, `version`, see
/// ``ServerContext/annotate(_:_:)``) and `token_id`, a fingerprint of the caller's bearer token, never the token.
///
/// Calls to paths the server does not serve are not logged (nothing routes them); the metrics count them as `other`.
public struct AccessLogInterceptor: ServerInterceptor {
    private let logger: Logger
    private let tokenID: @Sendable (String) -> String?

    /// - Parameters:
    ///   - logger: Where lines go (label `aimass.access` by convention).
    ///   - tokenID: A stable, non-reversible id of a bearer token (the server uses the first 16 hex digits of its
    ///     SHA-256, which is what the registry stores), or `nil` to leave it out.
    public init(logger: Logger, tokenID: @escaping @Sendable (String) -> String?) {
        self.logger = logger
        self.tokenID = tokenID
    }

    public func callEnded(_ context: ServerContext, status: RPCStatus, duration: Duration) {
        var metadata: Logger.Metadata = [
            "grpc_method": "\(context.descriptor.service)/\(context.descriptor.method)",
            "grpc_status": "\(status.code)",
            "duration_ms": "\(Self.milliseconds(duration))",
            "peer": "\(context.remotePeer)",
        ]
        for annotation in context.annotations { metadata[annotation.key] = "\(annotation.value)" }
        if let token = Self.bearerToken(context.requestMetadata), let id = tokenID(token) {
            metadata["token_id"] = "\(id)"
        }
        if status.code != .ok, !status.message.isEmpty { metadata["grpc_message"] = "\(status.message)" }
        logger.info("call", metadata: metadata)
    }

    /// Milliseconds with three decimals (microsecond resolution).
    static func milliseconds(_ duration: Duration) -> String {
        let micros = duration.saturatingNanoseconds / 1000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }

    /// The token of `authorization: Bearer TOKEN`, if present.
    static func bearerToken(_ metadata: Metadata) -> String? {
        guard let header = metadata.firstString(forKey: "authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: " \t")
        return token.isEmpty ? nil : token
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in blanks: String) -> String {
        let blank = Set(blanks)
        guard let start = firstIndex(where: { !blank.contains($0) }), let end = lastIndex(where: { !blank.contains($0) })
        else { return "" }
        return String(self[start...end])
    }
}
