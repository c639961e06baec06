import RPCCore

/// A client call of any kind, typed: send requests, read responses, see metadata and status.
///
/// ```swift
/// let call: ClientCall<Ping, Pong> = try await client.makeCall(descriptor)
/// try await call.send(Ping())
/// call.finishSending()
/// for try await pong in call.responses { … }   // throws RPCError when the status is not OK
/// ```
public struct ClientCall<Request: WireMessage, Response: WireMessage>: Sendable {
    let raw: RawClientCall

    /// Sends one request; suspends while the server is not reading.
    public func send(_ request: Request, compress: Bool? = nil) async throws {
        try await raw.send(request.wireBytes(), compress: compress ?? raw.options.compressRequests)
    }

    /// Half-closes the call: no more requests.
    public func finishSending() { raw.closeSend() }

    /// Cancels the call (RST_STREAM CANCEL); reading then throws `CANCELLED`.
    public func cancel() { raw.cancel() }

    /// The response messages; the sequence throws ``RPCError`` when the call ends with an error.
    public var responses: RPCRequestStream<Response> { RPCRequestStream(queue: raw.responses) }

    /// The next response, or `nil` at the end; throws when the call ends with an error.
    public func next() async throws -> Response? {
        guard let message = try await raw.responses.next() else { return nil }
        return try Response(wireBytes: message.bytes)
    }

    /// The response headers' metadata; waits for them.
    public func initialMetadata() async -> Metadata { await raw.initialMetadata() }

    /// The trailing metadata, once the call has ended.
    public var trailingMetadata: Metadata? { raw.trailingMetadata }

    /// The final status, once the call has ended.
    public var status: RPCStatus? { raw.status }
}
