import Logging
import NIOCore
import RPCCore

/// The request side: headers, dispatch, DATA and the end of streams, as nghttp2 reports them.
extension ServerConnectionHandler: HTTP2SessionDelegate {
    func sessionBeginHeaders(streamID: Int32) {
        abuse.headerBlockStarted(now: .now)
        if let stream = streams[streamID] {
            stream.headerListSize = 0  // trailers from the client: a new header list, nothing else to set up
            return
        }
        activity.streamOpened()
        let stream = ServerStream(id: streamID)
        #if DEBUG
        stream.countedIn = shared
        #endif
        streams[streamID] = stream
        management.streamOpened()
        streamsOpenedUnreported += 1
    }

    func sessionHeader(streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool {
        // Counted as SETTINGS_MAX_HEADER_LIST_SIZE counts: name, value and 32 bytes of overhead per field.
        let size = name.count + value.count + 32
        if abuse.headerDecoded(size: size) {
            closeForAbuse(.headerDecoding)
            return false
        }
        guard let stream = streams[streamID] else { return true }
        stream.headerListSize += size
        if stream.headerListSize > Int(shared.configuration.maxHeaderListSize) {
            return headerListTooLarge(stream)
        }
        guard stream.context == nil, stream.inlineHandler == nil else { return true }
        // Compared as bytes: making Strings of every header costs more than the rest of a call.
        switch RequestHeader(name) {
        case .method: stream.isPost = value.elementsEqualBytes("POST")
        case .path: stream.path = String(decoding: value, as: UTF8.self)
        case .contentType:
            stream.contentType = value.hasPrefixBytes("application/grpc") ? nil : String(decoding: value, as: UTF8.self)
            stream.sawContentType = true
        case .timeout: stream.timeout = String(decoding: value, as: UTF8.self)
        case .encoding: stream.encoding = String(decoding: value, as: UTF8.self)
        case .acceptEncoding: stream.acceptsGzip = value.containsBytes("gzip")
        case .ignored: break
        case .other:
            let name = String(decoding: name, as: UTF8.self)
            guard !Metadata.isReserved(name) else { break }
            if Metadata.isBinaryKey(name) {
                guard let bytes = Base64.decode(String(decoding: value, as: UTF8.self)) else {
                    stream.headerProblem = RPCError(code: .internalError, message: "metadata \(name) is not valid base64")
                    break
                }
                stream.metadata.add(binary: bytes, forKey: name)
            } else {
                stream.metadata.add(String(decoding: value, as: UTF8.self), forKey: name)
            }
        }
        return true
    }

    func sessionHeadersComplete(streamID: Int32, endStream: Bool) {
        guard let stream = streams[streamID] else { return }
        if stream.context == nil && stream.inlineHandler == nil && !stream.finished {
            startCall(stream)
        }
        if endStream { remoteEnded(stream) }
    }

    func sessionData(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        guard let stream = streams[streamID], !stream.finished, var deframer = stream.deframer else {
            session?.consume(streamID: streamID, count: bytes.count)
            return
        }
        // Give the window back at once unless the handler is behind on what it already has.
        if stream.flow.unconsumed.load(ordering: .relaxed) < Int(shared.configuration.initialStreamWindowSize) {
            session?.consume(streamID: streamID, count: bytes.count)
        } else {
            stream.flow.owed.add(bytes.count, ordering: .relaxed)
        }
        let messages: [InboundMessage]
        stream.receivedDataBytes += bytes.count
        do {
            messages = try deframer.append(bytes)
            stream.deframer = deframer
            stream.receivedMessages += messages.count
        } catch {
            finish(stream, status: error, trailers: Metadata())
            return
        }
        for message in messages { deliver(message, to: stream) }
    }

    func sessionDataEndStream(streamID: Int32) {
        guard let stream = streams[streamID] else { return }
        remoteEnded(stream)
    }

    func sessionStreamClosed(streamID: Int32, errorCode: UInt32) {
        guard let stream = streams.removeValue(forKey: streamID) else { return }
        stream.closed = true
        session?.consumeConnection(count: stream.flow.owed.exchange(0, ordering: .relaxed))
        if !stream.finished {
            abandon(stream, reason: "the client cancelled the call (RST_STREAM \(errorCode))")
        }
        failDrainWaiters(stream)
        stream.release()
        activity.streamClosed()
        management.streamClosed()
        streamsClosedUnreported += 1
        if draining && streams.isEmpty { flush() }
    }

    func sessionInvalidFrame(streamID: Int32, errorCode: Int32) {
        shared.metrics?.frameRejected()
        shared.abuseCounters.invalidFrame()
        if let offence = abuse.record(.invalidFrame, now: .now) { closeForAbuse(offence) }
    }

    func sessionPeerReset(streamID: Int32, errorCode: UInt32) {
        // A reset of a call not yet answered: the work it started is thrown away (CVE-2023-44487's rapid reset).
        guard let stream = streams[streamID], !stream.finished else { return }
        shared.abuseCounters.rapidReset()
        if let offence = abuse.record(.rapidReset, now: .now) { closeForAbuse(offence) }
    }

    /// A header list passed ``ServerConfiguration/maxHeaderListSize``. Up to twice the limit the request is answered
    /// RESOURCE_EXHAUSTED once its block is in (a clear status for metadata a little too large; the fields past the
    /// limit are dropped unread). Beyond that, or for trailers, the stream is reset at once (INTERNAL_ERROR) and
    /// nghttp2 decodes the rest of the block without calling back or checking each field: an HPACK bomb (thousands
    /// of references to a 4 KiB table entry) then costs little more than its bytes on the wire, and a connection that
    /// sends more than ``AbuseLimits/maxHeaderBombs`` such blocks is closed. Returns `false` to reset.
    private func headerListTooLarge(_ stream: ServerStream) -> Bool {
        let limit = Int(shared.configuration.maxHeaderListSize)
        if !stream.headerListTooLarge {
            stream.headerListTooLarge = true
            shared.abuseCounters.oversizedHeaderList()
            stream.headerProblem = RPCError(code: .resourceExhausted, message: "header list larger than \(limit) bytes")
            if let offence = abuse.record(.oversizedHeaderList, now: .now) {
                closeForAbuse(offence)
                return false
            }
        }
        let isRequest = stream.context == nil && stream.inlineHandler == nil
        if isRequest && stream.headerListSize <= 2 * limit { return true }
        // A bomb: closing the connection (the default) stops decoding at once; a reset alone would leave nghttp2 to
        // decode the rest of the block without calling back (one lookup per byte on the wire: ~65,000 for a bomb).
        if let offence = abuse.recordHeaderBomb(now: .now) { closeForAbuse(offence) }
        return false
    }

    /// Sends GOAWAY(ENHANCE_YOUR_CALM) naming the offence and stops reading; the connection closes once the
    /// GOAWAY is written (see ``HTTP2Session/abort(errorCode:debugData:)``). Calls in flight are cancelled.
    func closeForAbuse(_ offence: ConnectionAbuseState.Offence) {
        guard let session, !session.isAborted else { return }
        shared.abuseCounters.closed(for: offence)
        logger.info(
            "closing an abusive connection", metadata: ["peer": "\(remotePeer)", "reason": "\(offence.goAwayDebugData)"]
        )
        session.abort(errorCode: .enhanceYourCalm, debugData: offence.goAwayDebugData)
    }

    func sessionReadOutbound(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> HTTP2Session.OutboundRead {
        guard let stream = streams[streamID] else { return .end(0, trailers: nil) }
        let count = stream.outbound.read(into: buffer)
        if stream.outbound.byteCount < Self.lowWatermark { resumeDrainWaiters(stream) }
        if stream.outbound.isEmpty, let trailers = stream.trailers {
            stream.trailers = nil
            return .end(count, trailers: trailers)
        }
        if count == 0 {
            stream.isDeferred = true
            return .deferred
        }
        return .bytes(count)
    }

    func sessionGoAway(lastStreamID: Int32, errorCode: UInt32) {
        draining = true
    }

    func sessionPing(ack: Bool) {
        if ack {
            management.pingAcknowledged()
        } else if !management.pingReceived(activeStreams: streams.count) {
            // Pinged too often: tell the client why and close (grpc's "too_many_pings").
            session?.submitGoAway(errorCode: .enhanceYourCalm, debugData: "too_many_pings")
            draining = true
        }
    }

    // MARK: Dispatch

    private func startCall(_ stream: ServerStream) {
        if let problem = stream.headerProblem {
            return reject(stream, httpStatus: nil, status: problem)
        }
        guard stream.isPost else {
            return reject(
                stream,
                httpStatus: "405",
                status: RPCError(code: .internalError, message: "HTTP method not allowed: use POST")
            )
        }
        guard stream.sawContentType, stream.contentType == nil else {
            return reject(
                stream,
                httpStatus: "415",
                status: RPCError(
                    code: .internalError,
                    message: "invalid content-type \(stream.contentType ?? "none"): expected application/grpc"
                )
            )
        }
        let path = stream.path ?? ""
        let served = shared.methods[path]
        if let instruments = served?.instruments ?? shared.unknownMethodInstruments {
            stream.instruments = instruments
            instruments.callStarted()
        }
        guard let route = served?.route else {
            guard let descriptor = MethodDescriptor(path: path) else {
                return reject(stream, httpStatus: nil, status: RPCError(code: .unimplemented, message: "malformed path \(path)"))
            }
            let known = shared.router.hasService(descriptor.service)
            let message = known ? "method \(path) is not implemented" : "service \(descriptor.service) is not implemented"
            return reject(stream, httpStatus: nil, status: RPCError(code: .unimplemented, message: message))
        }
        let encoding = stream.encoding ?? "identity"
        guard encoding == "identity" || encoding == "gzip" else {
            return reject(
                stream,
                httpStatus: nil,
                status: RPCError(code: .unimplemented, message: "grpc-encoding \(encoding) is not supported")
            )
        }
        var deadline: ContinuousClock.Instant?
        var timeout: Duration?
        if let header = stream.timeout {
            guard let parsed = GRPCTimeout.parse(header) else {
                return reject(stream, httpStatus: nil, status: RPCError(code: .internalError, message: "invalid grpc-timeout \(header)"))
            }
            timeout = parsed
            deadline = ContinuousClock.now + parsed
        }
        let context = ServerContext(
            descriptor: route.descriptor,
            requestMetadata: stream.metadata,
            deadline: deadline,
            remotePeer: remotePeer,
            peerAcceptsGzip: stream.acceptsGzip,
            recordsAnnotations: !shared.interceptors.isEmpty,
            connection: activity,
            logger: logger
        )
        stream.context = context
        stream.startedAt = ContinuousClock.now
        stream.deframer = MessageDeframer(
            maxMessageSize: shared.configuration.maxReceiveMessageSize,
            gzipEnabled: encoding == "gzip"
        )
        do throws(RPCError) {
            for interceptor in shared.interceptors { try interceptor.callStarted(context) }
        } catch {
            return finish(stream, status: error, trailers: error.metadata)
        }
        if let timeout, let eventLoop = channelContext?.eventLoop {
            let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
            let streamBound = NIOLoopBound(stream, eventLoop: eventLoop)
            stream.deadlineTask = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                loopBound.value.deadlineExpired(streamBound.value)
            }
        }
        // A gated call waits for the end of its request, then for the gate (see `admitGated`).
        let gated = served?.gated == true
        switch route.handler {
        case .inlineUnary(let body):
            stream.inlineHandler = body
            stream.awaitingGate = gated
        case .streaming(let body) where gated:
            stream.gatedBody = body
            stream.awaitingGate = true
        case .streaming(let body):
            startTask(stream, context: context, body: body)
        }
    }

    func startTask(
        _ stream: ServerStream,
        context: ServerContext,
        body: @escaping @Sendable (InboundMessageQueue, any ResponseSink, ServerContext) async throws -> Void
    ) {
        guard let eventLoop = channelContext?.eventLoop else { return }
        let handler = NIOLoopBound(self, eventLoop: eventLoop)
        let boundStream = NIOLoopBound(stream, eventLoop: eventLoop)
        let flow = stream.flow
        let queue = InboundMessageQueue { size in
            // Runs on the handler's task: open the window again if we had held it back.
            if flow.consumed(size) {
                eventLoop.execute { handler.value.releaseOwedWindow(boundStream.value) }
            }
        }
        stream.queue = queue
        if !stream.pendingMessages.isEmpty {
            for message in stream.pendingMessages { queue.push(message) }
            stream.pendingMessages = []
        }
        if stream.remoteClosed { queue.finish() }
        let sink = StreamResponseSink(handler: handler, stream: boundStream, eventLoop: eventLoop, context: context)
        let shared = self.shared
        shared.handlerTaskStarted()
        stream.task = Task {
            defer { shared.handlerTaskEnded() }
            let status: RPCError?
            do {
                try await body(queue, sink, context)
                status = nil
            } catch {
                status = RPCError(mapping: error)
            }
            let trailers = context.responseTrailingMetadata
            eventLoop.execute {
                let stream = boundStream.value
                if let status {
                    var merged = status
                    for entry in trailers { merged.metadata.add(entry) }
                    handler.value.finish(stream, status: merged, trailers: merged.metadata)
                } else {
                    handler.value.finish(stream, status: nil, trailers: trailers)
                }
                handler.value.flush()
            }
        }
    }

    private func deliver(_ message: InboundMessage, to stream: ServerStream) {
        if stream.inlineHandler != nil {
            if stream.inlineRequest != nil {
                return finish(
                    stream,
                    status: RPCError(code: .internalError, message: "expected one request message, received more"),
                    trailers: Metadata()
                )
            }
            stream.inlineRequest = message
        } else if let queue = stream.queue {
            stream.flow.unconsumed.add(message.bytes.count, ordering: .relaxed)
            queue.push(message)
        } else if stream.gatedBody != nil {
            // Held until the gate admits the call (its task then reads them), counted against the window as queued.
            stream.flow.unconsumed.add(message.bytes.count, ordering: .relaxed)
            stream.pendingMessages.append(message)
        }
    }

    private func remoteEnded(_ stream: ServerStream) {
        guard !stream.remoteClosed else { return }
        stream.remoteClosed = true
        guard !stream.finished else { return }
        if stream.deframer?.hasPartialMessage == true {
            let error = RPCError(code: .internalError, message: "the request ended in the middle of a message")
            stream.queue?.finish(throwing: error)
            return finish(stream, status: error, trailers: Metadata())
        }
        if stream.awaitingGate, !admitGated(stream) { return }
        runRequest(stream)
    }

    /// Runs a call whose request is complete (and which its gate, if any, admitted): an inline handler answers
    /// now; a task's request queue ends.
    func runRequest(_ stream: ServerStream) {
        if let body = stream.inlineHandler, let context = stream.context {
            guard let request = stream.inlineRequest else {
                return finish(
                    stream,
                    status: RPCError(code: .internalError, message: "expected one request message, received none"),
                    trailers: Metadata()
                )
            }
            do throws(RPCError) {
                switch try body(request, context) {
                case .response(let response):
                    sendInlineResponse(stream, response: response, context: context)
                case .continueAsync(let rest):
                    stream.inlineHandler = nil
                    stream.inlineRequest = nil
                    startTask(stream, context: context) { _, responses, context in
                        try await responses.send(try await rest(), compress: context.compressResponses)
                    }
                }
            } catch {
                var merged = error
                for entry in context.responseTrailingMetadata { merged.metadata.add(entry) }
                finish(stream, status: merged, trailers: merged.metadata)
            }
        } else {
            stream.queue?.finish()
        }
    }

    private func reject(_ stream: ServerStream, httpStatus: String?, status: RPCError) {
        if let httpStatus {
            stream.finished = true
            var headers = HeaderList()
            headers.add(":status", httpStatus)
            headers.add("content-type", "application/grpc")
            headers.add("grpc-status", String(status.code.rawValue))
            headers.add("grpc-message", GRPCMessageEncoding.encode(status.message))
            try? session?.submitResponse(streamID: stream.id, headers: headers, hasBody: false)
            return
        }
        finish(stream, status: status, trailers: Metadata())
    }

    func deadlineExpired(_ stream: ServerStream) {
        guard !stream.finished else { return }
        finish(stream, status: RPCError(code: .deadlineExceeded, message: "the call's deadline expired"), trailers: Metadata())
        flush()
    }

    func releaseOwedWindow(_ stream: ServerStream) {
        guard !stream.closed else { return }
        let owed = stream.flow.owed.exchange(0, ordering: .relaxed)
        if owed > 0 {
            session?.consume(streamID: stream.id, count: owed)
            flush()
        }
    }
}
