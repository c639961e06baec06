internal import CNGHTTP2
import NIOCore

/// Receives what an ``HTTP2Session`` parses; every method runs inside an nghttp2 call on the
/// connection's event loop. Buffers passed in are valid only during the call.
protocol HTTP2SessionDelegate: AnyObject {
    /// A new header block starts on a stream (a request on a server, a response or trailers on a client).
    func sessionBeginHeaders(streamID: Int32)
    /// One header field. Return `false` to reset the stream (e.g. the header list is too large).
    func sessionHeader(streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> Bool
    /// A complete header block was received.
    func sessionHeadersComplete(streamID: Int32, endStream: Bool)
    /// A chunk of DATA payload.
    func sessionData(streamID: Int32, bytes: UnsafeRawBufferPointer)
    /// The peer ended its side of the stream with a DATA frame.
    func sessionDataEndStream(streamID: Int32)
    /// The stream is closed; `errorCode` is the HTTP/2 error code (0 when it ended normally).
    func sessionStreamClosed(streamID: Int32, errorCode: UInt32)
    /// Copies outbound DATA for a stream into `buffer`; see ``HTTP2Session/OutboundRead``.
    func sessionReadOutbound(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer) -> HTTP2Session.OutboundRead
    /// The peer sent GOAWAY.
    func sessionGoAway(lastStreamID: Int32, errorCode: UInt32)
    /// The peer sent a PING (acknowledged by nghttp2) or acknowledged ours.
    func sessionPing(ack: Bool)
    /// nghttp2 refused a frame (a protocol error on a stream or the connection); `errorCode` is its error.
    func sessionInvalidFrame(streamID: Int32, errorCode: Int32)
    /// The peer reset a stream (RST_STREAM); called before ``sessionStreamClosed(streamID:errorCode:)``.
    func sessionPeerReset(streamID: Int32, errorCode: UInt32)
}

extension HTTP2SessionDelegate {
    func sessionInvalidFrame(streamID: Int32, errorCode: Int32) {}
    func sessionPeerReset(streamID: Int32, errorCode: UInt32) {}
}

/// Owns one `nghttp2_session *` and keeps it I/O-agnostic: bytes in with ``receive(_:)``, bytes out
/// with ``drainOutput(into:)``. Its address is the `user_data` nghttp2 passes back to callbacks.
///
/// Not thread-safe: one event loop owns it. The session is deleted in `deinit`
/// (`nghttp2_session_del`), which fires no callbacks.
final class HTTP2Session {
    /// What an outbound read produced.
    enum OutboundRead {
        /// `count` bytes were copied; more may follow.
        case bytes(Int)
        /// `count` bytes were copied and the body is over; `trailers`, if any, end the stream.
        case end(Int, trailers: HeaderList?)
        /// Nothing to send now; call ``HTTP2Session/resumeData(streamID:)`` when there is.
        case deferred
    }

    /// The connection settings we announce.
    struct Settings {
        var maxConcurrentStreams: UInt32
        var initialWindowSize: UInt32
        var maxFrameSize: UInt32
        var maxHeaderListSize: UInt32
        var connectionWindowSize: Int32
    }

    private let raw: OpaquePointer
    private let isServer: Bool
    unowned(unsafe) var delegate: (any HTTP2SessionDelegate)?
    /// ``abort(errorCode:debugData:)`` was called: the session reads nothing more.
    private(set) var isAborted = false

    /// Creates a server or client session. No SETTINGS are queued until ``start(settings:)``.
    init(isServer: Bool) throws(NGHTTP2Error) {
        var callbacks: OpaquePointer?
        try check(nghttp2_session_callbacks_new(&callbacks))
        defer { nghttp2_session_callbacks_del(callbacks) }
        Self.install(into: callbacks)

        var option: OpaquePointer?
        try check(nghttp2_option_new(&option))
        defer { nghttp2_option_del(option) }
        // We open flow-control windows ourselves, as handlers consume data (back-pressure).
        nghttp2_option_set_no_auto_window_update(option, 1)
        // Until the peer's SETTINGS arrive, assume a modest limit rather than unlimited.
        nghttp2_option_set_peer_max_concurrent_streams(option, 100)

        var session: OpaquePointer?
        if isServer {
            try check(nghttp2_session_server_new2(&session, callbacks, nil, option))
        } else {
            try check(nghttp2_session_client_new2(&session, callbacks, nil, option))
        }
        guard let session else { throw NGHTTP2Error(code: NGHTTP2_ERR_NOMEM.rawValue) }
        self.raw = session
        self.isServer = isServer
        nghttp2_session_set_user_data(raw, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        nghttp2_session_del(raw)
    }

    /// Queues our SETTINGS and widens the connection window.
    func start(settings: Settings) throws(NGHTTP2Error) {
        var entries = [
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                value: settings.maxConcurrentStreams
            ),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                value: settings.initialWindowSize
            ),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_FRAME_SIZE.rawValue), value: settings.maxFrameSize),
            nghttp2_settings_entry(
                settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                value: settings.maxHeaderListSize
            ),
        ]
        try check(nghttp2_submit_settings(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), &entries, entries.count))
        if settings.connectionWindowSize > CNGHTTP2_INITIAL_WINDOW_SIZE() {
            try check(
                nghttp2_session_set_local_window_size(
                    raw,
                    UInt8(NGHTTP2_FLAG_NONE.rawValue),
                    0,
                    settings.connectionWindowSize
                )
            )
        }
    }

    /// Feeds received bytes; callbacks run during the call. Throws on a fatal protocol error
    /// (nghttp2 has then queued a GOAWAY: drain the output before closing).
    func receive(_ bytes: UnsafeRawBufferPointer) throws(NGHTTP2Error) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return }
        let consumed = nghttp2_session_mem_recv(raw, base, bytes.count)
        if consumed < 0 { throw NGHTTP2Error(code: Int32(consumed)) }
    }

    /// Appends every byte nghttp2 wants to send to `buffer`; returns whether any were added.
    @discardableResult
    func drainOutput(into buffer: inout ByteBuffer) throws(NGHTTP2Error) -> Bool {
        var wrote = false
        while true {
            var pointer: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(raw, &pointer)
            if count < 0 { throw NGHTTP2Error(code: Int32(count)) }
            guard count > 0, let pointer else { return wrote }
            // The bytes are valid only until the next nghttp2 call: copy them now.
            buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
            wrote = true
        }
    }

    /// Whether the session still wants to read or write; both false means it can be closed.
    var isAlive: Bool { nghttp2_session_want_read(raw) != 0 || nghttp2_session_want_write(raw) != 0 }

    // MARK: Submitting

    /// Submits response headers; with `hasBody`, DATA will be pulled through the delegate's
    /// ``HTTP2SessionDelegate/sessionReadOutbound(streamID:into:)``, else the HEADERS frame ends the stream.
    func submitResponse(streamID: Int32, headers: HeaderList, hasBody: Bool) throws(NGHTTP2Error) {
        let rc = headers.withNV { nva, count in
            if hasBody {
                var provider = Self.dataProvider()
                return nghttp2_submit_response(raw, streamID, nva, count, &provider)
            }
            return nghttp2_submit_response(raw, streamID, nva, count, nil)
        }
        try check(rc)
    }

    /// Submits a request whose body is pulled through the delegate; returns the new stream id.
    func submitRequest(headers: HeaderList) throws(NGHTTP2Error) -> Int32 {
        let streamID = headers.withNV { nva, count in
            var provider = Self.dataProvider()
            return nghttp2_submit_request(raw, nil, nva, count, &provider, nil)
        }
        try check(streamID)
        return streamID
    }

    /// Tells nghttp2 that a deferred stream has data (or trailers) again.
    func resumeData(streamID: Int32) {
        _ = nghttp2_session_resume_data(raw, streamID)
    }

    /// Resets a stream with an HTTP/2 error code.
    func resetStream(streamID: Int32, errorCode: HTTP2ErrorCode) {
        _ = nghttp2_submit_rst_stream(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode.rawValue)
    }

    /// Reports bytes of a stream's DATA as consumed, opening the stream and connection windows again.
    func consume(streamID: Int32, count: Int) {
        guard count > 0 else { return }
        if nghttp2_session_consume(raw, streamID, count) != 0 {
            // The stream is gone: the connection window still has to be given back.
            _ = nghttp2_session_consume_connection(raw, count)
        }
    }

    /// Reports bytes as consumed at the connection level only (for streams already closed).
    func consumeConnection(count: Int) {
        guard count > 0 else { return }
        _ = nghttp2_session_consume_connection(raw, count)
    }

    /// Sends the first GOAWAY of a graceful shutdown (last stream id 2^31-1): new streams still race in.
    func submitShutdownNotice() {
        _ = nghttp2_submit_shutdown_notice(raw)
    }

    /// Sends GOAWAY with the last stream id we processed.
    func submitGoAway(errorCode: HTTP2ErrorCode, debugData: String = "") {
        let lastStreamID = nghttp2_session_get_last_proc_stream_id(raw)
        var bytes = Array(debugData.utf8)
        _ = bytes.withUnsafeMutableBufferPointer { buffer in
            nghttp2_submit_goaway(
                raw,
                UInt8(NGHTTP2_FLAG_NONE.rawValue),
                lastStreamID,
                errorCode.rawValue,
                buffer.baseAddress,
                buffer.count
            )
        }
    }

    /// Ends the connection from inside a callback: queues GOAWAY and makes the running ``receive(_:)`` stop and
    /// throw, so not one more byte of the peer's is processed; the owner then flushes the GOAWAY and closes.
    func abort(errorCode: HTTP2ErrorCode, debugData: String) {
        guard !isAborted else { return }
        isAborted = true
        submitGoAway(errorCode: errorCode, debugData: debugData)
    }

    /// What a receiving callback returns: 0, or a failure that stops `nghttp2_session_mem_recv` once aborted.
    fileprivate var callbackResult: Int32 { isAborted ? NGHTTP2_ERR_CALLBACK_FAILURE.rawValue : 0 }

    /// Sends a PING.
    func submitPing() {
        _ = nghttp2_submit_ping(raw, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil)
    }

    /// The number of streams the peer lets us open at once.
    var peerMaxConcurrentStreams: UInt32 {
        nghttp2_session_get_remote_settings(raw, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS)
    }

    // MARK: Callbacks

    fileprivate static func session(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session? {
        guard let userData else { return nil }
        return Unmanaged<HTTP2Session>.fromOpaque(userData).takeUnretainedValue()
    }

    private static func dataProvider() -> nghttp2_data_provider {
        var provider = nghttp2_data_provider()
        provider.source.ptr = nil
        provider.read_callback = { session, streamID, buffer, length, flags, _, userData in
            guard let owner = HTTP2Session.session(userData), let delegate = owner.delegate, let buffer, let flags else {
                return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
            }
            switch delegate.sessionReadOutbound(
                streamID: streamID,
                into: UnsafeMutableRawBufferPointer(start: buffer, count: length)
            ) {
            case .bytes(let count):
                return count
            case .end(let count, let trailers):
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if let trailers {
                    flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                    let rc = trailers.withNV { nva, n in nghttp2_submit_trailer(session, streamID, nva, n) }
                    if rc != 0 { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
                }
                return count
            case .deferred:
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        return provider
    }

    /// A server must treat HEADERS that would open a stream with an id lower than one the client already used as a
    /// connection error PROTOCOL_ERROR (RFC 9113 §5.1.1). nghttp2 1.52 ignores such a header block when it no longer
    /// knows the stream (only a stream it still tracks as closed gets STREAM_CLOSED), so we check each frame header:
    /// an odd (client) id below the highest processed that nghttp2 has no record of, on a server session.
    fileprivate func isStaleStreamHeaders(type: UInt8, streamID: Int32) -> Bool {
        guard isServer, UInt32(type) == NGHTTP2_HEADERS.rawValue, streamID & 1 == 1 else { return false }
        return streamID < nghttp2_session_get_last_proc_stream_id(raw) && nghttp2_session_find_stream(raw, streamID) == nil
    }

    private static func install(into callbacks: OpaquePointer?) {
        nghttp2_session_callbacks_set_on_begin_frame_callback(callbacks) { session, header, userData in
            guard let header, let owner = HTTP2Session.session(userData),
                owner.isStaleStreamHeaders(type: header.pointee.type, streamID: header.pointee.stream_id)
            else { return 0 }
            // GOAWAY(PROTOCOL_ERROR) is queued; failing the callback stops reading, and the handler flushes and closes.
            nghttp2_session_terminate_session(session, NGHTTP2_PROTOCOL_ERROR.rawValue)
            return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue
        }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, let owner = HTTP2Session.session(userData), let delegate = owner.delegate else { return 0 }
            delegate.sessionBeginHeaders(streamID: frame.pointee.hd.stream_id)
            return owner.callbackResult
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) {
            _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, let owner = HTTP2Session.session(userData), let delegate = owner.delegate else { return 0 }
            let accepted = delegate.sessionHeader(
                streamID: frame.pointee.hd.stream_id,
                name: UnsafeRawBufferPointer(start: name, count: nameLength),
                value: UnsafeRawBufferPointer(start: value, count: valueLength)
            )
            if owner.isAborted { return NGHTTP2_ERR_CALLBACK_FAILURE.rawValue }
            // Temporal failure resets only this stream, with INTERNAL_ERROR, and nghttp2 decodes the rest of the
            // header block without calling back (nor checking each field): a refused block costs little more.
            return accepted ? 0 : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame, let owner = HTTP2Session.session(userData), let delegate = owner.delegate else { return 0 }
            let header = frame.pointee.hd
            let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch UInt32(header.type) {
            case NGHTTP2_HEADERS.rawValue:
                delegate.sessionHeadersComplete(streamID: header.stream_id, endStream: endStream)
            case NGHTTP2_DATA.rawValue:
                if endStream { delegate.sessionDataEndStream(streamID: header.stream_id) }
            case NGHTTP2_GOAWAY.rawValue:
                delegate.sessionGoAway(
                    lastStreamID: frame.pointee.goaway.last_stream_id,
                    errorCode: frame.pointee.goaway.error_code
                )
            case NGHTTP2_PING.rawValue:
                delegate.sessionPing(ack: header.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) != 0)
            case NGHTTP2_RST_STREAM.rawValue:
                delegate.sessionPeerReset(streamID: header.stream_id, errorCode: frame.pointee.rst_stream.error_code)
            default:
                break
            }
            return owner.callbackResult
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) {
            _, _, streamID, data, length, userData in
            guard let owner = HTTP2Session.session(userData), let delegate = owner.delegate else { return 0 }
            delegate.sessionData(streamID: streamID, bytes: UnsafeRawBufferPointer(start: data, count: length))
            return owner.callbackResult
        }
        nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks) { _, frame, errorCode, userData in
            guard let frame, let owner = HTTP2Session.session(userData), let delegate = owner.delegate else { return 0 }
            delegate.sessionInvalidFrame(streamID: frame.pointee.hd.stream_id, errorCode: errorCode)
            return owner.callbackResult
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            guard let delegate = HTTP2Session.session(userData)?.delegate else { return 0 }
            delegate.sessionStreamClosed(streamID: streamID, errorCode: errorCode)
            return 0
        }
    }
}
