internal import CNGHTTP2

/// An error code returned by libnghttp2, with its text from `nghttp2_strerror`.
struct NGHTTP2Error: Error, Hashable, CustomStringConvertible {
    var code: Int32
    var description: String { String(cString: nghttp2_strerror(code)) }
    /// Whether the session can no longer be used (`nghttp2_is_fatal`).
    var isFatal: Bool { nghttp2_is_fatal(code) != 0 }
}

/// Turns a negative nghttp2 return code into a thrown ``NGHTTP2Error``.
@inline(__always)
func check(_ rc: Int32) throws(NGHTTP2Error) {
    if rc < 0 { throw NGHTTP2Error(code: rc) }
}

/// HTTP/2 error codes used in RST_STREAM and GOAWAY (RFC 9113 §7).
enum HTTP2ErrorCode: UInt32 {
    case noError = 0x0
    case protocolError = 0x1
    case internalError = 0x2
    case flowControlError = 0x3
    case refusedStream = 0x7
    case cancel = 0x8
    case enhanceYourCalm = 0xB
}
