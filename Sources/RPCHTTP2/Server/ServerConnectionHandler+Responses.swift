import NIOCore
import RPCCore

/// The response side: headers, messages, trailers and the end of a call.
extension ServerConnectionHandler {
    /// Above this many queued bytes a writer waits; below the low watermark it is resumed.
    static let highWatermark = 256 * 1024
    static let lowWatermark = 64 * 1024

    /// Sends a unary response from the inline path: headers, one message and trailers in one go.
    func sendInlineResponse(_ stream: ServerStream, response: [UInt8], context: ServerContext) {
        let compress = context.compressResponses && context.peerAcceptsGzip
        enqueue(MessageFramer.frame(response, compress: compress), compressed: compress, on: stream)
        finish(stream, status: nil, trailers: context.responseTrailingMetadata)
    }

    /// Queues one framed message, sending the response headers first if needed.
    func enqueue(_ framed: [UInt8], compressed: Bool, on stream: ServerStream) {
        guard !stream.finished, !stream.closed else { return }
        stream.sentMessageBytes += framed.count - MessageFramer.prefixLength
        stream.outbound.append(framed)
        if !stream.headersSent {
            sendHeaders(stream, gzip: compressed || (stream.context?.peerAcceptsGzip ?? false))
        } else if stream.isDeferred {
            stream.isDeferred = false
            session?.resumeData(streamID: stream.id)
        }
    }

    /// The response headers of almost every call, laid out once.
    static let plainResponseHeaders = HeaderList.prepared([
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-accept-encoding", "identity,gzip"),
    ])
    static let gzipResponseHeaders = HeaderList.prepared([
        (":status", "200"), ("content-type", "application/grpc"), ("grpc-encoding", "gzip"),
        ("grpc-accept-encoding", "identity,gzip"),
    ])
    static let okTrailers = HeaderList.prepared([("grpc-status", "0")])

    private func sendHeaders(_ stream: ServerStream, gzip: Bool) {
        stream.headersSent = true
        management.responseSent()
        stream.responseGzip = gzip
        var headers = gzip ? Self.gzipResponseHeaders : Self.plainResponseHeaders
        if let metadata = stream.context?.responseInitialMetadata, !metadata.isEmpty { Self.append(metadata, to: &headers) }
        do {
            try session?.submitResponse(streamID: stream.id, headers: headers, hasBody: true)
        } catch {
            logger.debug("cannot submit response headers", metadata: ["error": "\(error)"])
            session?.resetStream(streamID: stream.id, errorCode: .internalError)
        }
    }

    /// Ends the call with OK (`status == nil`) or an error, once; later calls are ignored.
    func finish(_ stream: ServerStream, status: RPCError?, trailers: Metadata) {
        guard !stream.finished else { return }
        stream.finished = true
        stream.deadlineTask?.cancel()
        stream.deadlineTask = nil
        let code = status?.code ?? .ok
        if let status {
            // The handler may still be running (deadline, bad input): stop it and its reader.
            stream.queue?.finish(throwing: status)
            stream.task?.cancel()
            stream.context?.cancel()
        }
        var fields = Self.okTrailers
        if let status {
            fields = HeaderList()
            fields.add("grpc-status", String(status.code.rawValue))
            if !status.message.isEmpty { fields.add("grpc-message", GRPCMessageEncoding.encode(status.message)) }
        }
        if !trailers.isEmpty { Self.append(trailers, to: &fields) }
        endGatedCall(stream, code: code)
        recordEnd(stream, code: code)
        if let context = stream.context {
            let duration = ContinuousClock.now - stream.startedAt
            let result = RPCStatus(code: code, message: status?.message ?? "")
            for interceptor in shared.interceptors { interceptor.callEnded(context, status: result, duration: duration) }
        }
        guard !stream.closed else { return }
        if stream.headersSent {
            stream.trailers = fields
            if stream.isDeferred {
                stream.isDeferred = false
                session?.resumeData(streamID: stream.id)
            }
        } else {
            // Trailers-only: one HEADERS frame carrying the status ends the stream.
            management.responseSent()
            var headers = HeaderList()
            headers.add(":status", "200")
            headers.add("content-type", "application/grpc")
            for field in fields.fields { headers.add(field.name, field.value) }
            if let metadata = stream.context?.responseInitialMetadata { Self.append(metadata, to: &headers) }
            try? session?.submitResponse(streamID: stream.id, headers: headers, hasBody: false)
        }
    }

    /// Stops a call that can no longer answer (the stream or connection is gone).
    func abandon(_ stream: ServerStream, reason: String) {
        let wasFinished = stream.finished
        stream.finished = true
        stream.deadlineTask?.cancel()
        stream.deadlineTask = nil
        stream.queue?.finish(throwing: RPCError(code: .cancelled, message: reason))
        stream.task?.cancel()
        stream.context?.cancel()
        failDrainWaiters(stream)
        endGatedCall(stream, code: .cancelled)
        recordEnd(stream, code: .cancelled)
        if !wasFinished, let context = stream.context {
            let duration = ContinuousClock.now - stream.startedAt
            for interceptor in shared.interceptors {
                interceptor.callEnded(context, status: RPCStatus(code: .cancelled, message: reason), duration: duration)
            }
        }
    }

    /// Reports the call's end to its method's metrics, once.
    private func recordEnd(_ stream: ServerStream, code: StatusCode) {
        guard let instruments = stream.instruments else { return }
        stream.instruments = nil
        let received = max(stream.receivedDataBytes - MessageFramer.prefixLength * stream.receivedMessages, 0)
        instruments.callEnded(
            EndedCall(
                code: code, duration: ContinuousClock.now - stream.startedAt, sentMessageBytes: stream.sentMessageBytes,
                receivedMessageBytes: received
            )
        )
    }

    /// Hands an admitted gated call's token back to the gate, or withdraws a queued one, once.
    private func endGatedCall(_ stream: ServerStream, code: StatusCode) {
        if let id = stream.gateQueuedID {
            stream.gateQueuedID = nil
            gatedCallsHeld -= 1
            gatedCallsQueued -= 1
            shared.gate?.withdraw(id)
            updateBackPressure()
            return
        }
        guard let token = stream.gateToken, let admittedAt = stream.gateAdmittedAt else { return }
        stream.gateToken = nil
        gatedCallsHeld -= 1
        let outcome = GatedCallOutcome(duration: ContinuousClock.now - admittedAt, code: code)
        shared.gate?.callEnded(token, outcome: outcome)
        updateBackPressure()
    }

    func resumeDrainWaiters(_ stream: ServerStream) {
        guard !stream.drainWaiters.isEmpty else { return }
        let waiters = stream.drainWaiters
        stream.drainWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    func failDrainWaiters(_ stream: ServerStream) {
        guard !stream.drainWaiters.isEmpty else { return }
        let waiters = stream.drainWaiters
        stream.drainWaiters = []
        for waiter in waiters { waiter.resume(throwing: RPCError(code: .cancelled, message: "the call is over")) }
    }

    /// Adds metadata as header fields: `-bin` values base64-encoded, invalid ASCII values dropped.
    static func append(_ metadata: Metadata, to headers: inout HeaderList) {
        for entry in metadata where !Metadata.isReserved(entry.key) {
            switch entry.value {
            case .binary(let bytes):
                headers.add(entry.key, Base64.encode(bytes))
            case .string(let value):
                guard value.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { continue }
                headers.add(entry.key, value)
            }
        }
    }
}

/// The ``ResponseSink`` a handler task writes to: frames (and compresses) on the task, then hops
/// to the event loop to queue the bytes, waiting while the peer is behind.
struct StreamResponseSink: ResponseSink {
    let handler: NIOLoopBound<ServerConnectionHandler>
    let stream: NIOLoopBound<ServerStream>
    let eventLoop: any EventLoop
    let context: ServerContext

    func send(_ message: [UInt8], compress: Bool) async throws {
        let compress = compress && context.peerAcceptsGzip
        let framed = MessageFramer.frame(message, compress: compress)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            eventLoop.execute {
                let stream = self.stream.value
                let handler = self.handler.value
                guard !stream.finished, !stream.closed else {
                    continuation.resume(throwing: RPCError(code: .cancelled, message: "the call is over"))
                    return
                }
                handler.enqueue(framed, compressed: compress, on: stream)
                if stream.outbound.byteCount < ServerConnectionHandler.highWatermark {
                    continuation.resume()
                } else {
                    stream.drainWaiters.append(continuation)
                }
                handler.flush()
            }
        }
    }
}
