import NIOCore
import RPCCore

/// The response side of client streams, as nghttp2 reports it.
extension ClientConnectionHandler: HTTP2SessionDelegate {
    func sessionBeginHeaders(streamID: Int32) {}

    func sessionHeader(streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        guard let stream = streams[streamID] else { return true }
        let name = String(decoding: name, as: UTF8.self)
        let value = String(decoding: value, as: UTF8.self)
        switch name {
        case ":status": stream.httpStatus = value
        case "grpc-status": stream.grpcStatus = value
        case "grpc-message": stream.grpcMessage = GRPCMessageEncoding.decode(value)
        case "grpc-encoding": stream.encoding = value
        default:
            guard !Metadata.isReserved(name) else { break }
            if Metadata.isBinaryKey(name) {
                if let bytes = Base64.decode(value) { stream.headerMetadata.add(binary: bytes, forKey: name) }
            } else {
                stream.headerMetadata.add(value, forKey: name)
            }
        }
        return true
    }

    func sessionHeadersComplete(streamID: Int32, endStream: Bool) {
        guard let stream = streams[streamID], !stream.finished else { return }
        if !stream.sawResponseHeaders {
            stream.sawResponseHeaders = true
            if stream.httpStatus != "200" {
                let http = stream.httpStatus ?? "none"
                let code = stream.grpcStatus.flatMap { Int32($0) }.map(StatusCode.init(wireValue:))
                    ?? Self.statusCode(forHTTPStatus: http)
                let message = stream.grpcMessage ?? "HTTP status \(http)"
                return finishCall(stream, status: RPCStatus(code: code, message: message), trailers: stream.headerMetadata)
            }
            if stream.grpcStatus == nil || !endStream {
                let metadata = stream.headerMetadata
                stream.headerMetadata = Metadata()
                let encoding = stream.encoding ?? "identity"
                stream.deframer = MessageDeframer(
                    maxMessageSize: configuration.maxReceiveMessageSize,
                    gzipEnabled: encoding == "gzip"
                )
                stream.call.publishInitialMetadata(metadata)
            }
        }
        if endStream { complete(stream) }
    }

    func sessionData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        guard let stream = streams[streamID], !stream.finished, var deframer = stream.deframer else {
            session?.consume(streamID: streamID, count: bytes.count)
            return
        }
        if stream.flow.unconsumed.load(ordering: .relaxed) < Int(configuration.initialStreamWindowSize) {
            session?.consume(streamID: streamID, count: bytes.count)
        } else {
            stream.flow.owed.add(bytes.count, ordering: .relaxed)
        }
        do {
            let messages = try deframer.append(bytes)
            stream.deframer = deframer
            for message in messages {
                stream.flow.unconsumed.add(message.bytes.count, ordering: .relaxed)
                stream.call.responses.push(message)
            }
        } catch {
            fail(stream, with: error, reset: true)
        }
    }

    func sessionDataEndStream(streamID: Int32) {
        guard let stream = streams[streamID] else { return }
        complete(stream)
    }

    func sessionStreamClosed(streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        defer { stream.call.detach() }
        session?.consumeConnection(count: stream.flow.owed.exchange(0, ordering: .relaxed))
        guard !stream.finished else { return }
        let code: StatusCode =
            switch HTTP2ErrorCode(rawValue: errorCode) {
            case .refusedStream?: .unavailable
            case .cancel?: .cancelled
            case .enhanceYourCalm?: .resourceExhausted
            default: .internalError
            }
        finishCall(
            stream,
            status: RPCStatus(code: code, message: "the stream closed without a status (HTTP/2 error \(errorCode))"),
            trailers: Metadata()
        )
    }

    func sessionReadOutbound(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> HTTP2Session.OutboundRead {
        guard let stream = streams[streamID] else { return .end(0, trailers: nil) }
        let count = stream.outbound.read(into: buffer)
        if stream.outbound.byteCount < ServerConnectionHandler.lowWatermark, !stream.drainWaiters.isEmpty {
            let waiters = stream.drainWaiters
            stream.drainWaiters = []
            for waiter in waiters { waiter.resume() }
        }
        if stream.outbound.isEmpty && stream.sendClosed { return .end(count, trailers: nil) }
        if count == 0 {
            stream.isDeferred = true
            return .deferred
        }
        return .bytes(count)
    }

    func sessionGoAway(lastStreamID: Int32, errorCode: UInt32) {
        isUsable = false
        onClose()
    }

    func sessionPing(ack: Bool) {
        if ack { keepaliveAcknowledged() }
    }

    /// The server ended the stream: the status is in the trailers (or the trailers-only headers).
    private func complete(_ stream: ClientStream) {
        guard !stream.finished else { return }
        if stream.deframer?.hasPartialMessage == true {
            return finishCall(
                stream,
                status: RPCStatus(code: .internalError, message: "the response ended in the middle of a message"),
                trailers: stream.headerMetadata
            )
        }
        guard let raw = stream.grpcStatus, let value = Int32(raw) else {
            return finishCall(
                stream,
                status: RPCStatus(code: .internalError, message: "the server ended the call without grpc-status"),
                trailers: stream.headerMetadata
            )
        }
        finishCall(
            stream,
            status: RPCStatus(code: StatusCode(wireValue: value), message: stream.grpcMessage ?? ""),
            trailers: stream.headerMetadata
        )
    }

    /// gRPC's mapping of HTTP statuses for responses that are not gRPC.
    static func statusCode(forHTTPStatus status: String) -> StatusCode {
        switch status {
        case "400": .internalError
        case "401": .unauthenticated
        case "403": .permissionDenied
        case "404": .unimplemented
        case "429", "502", "503", "504": .unavailable
        default: .unknown
        }
    }
}
