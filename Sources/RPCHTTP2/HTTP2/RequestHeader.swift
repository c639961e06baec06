import Glibc

/// The request header names the server acts on, recognised from raw bytes without making Strings.
enum RequestHeader {
    case method, path, contentType, timeout, encoding, acceptEncoding
    /// Headers gRPC defines but the server does not need (`:scheme`, `te`, `user-agent`, …).
    case ignored
    /// Anything else: custom metadata.
    case other

    init(_ name: UnsafeRawBufferPointer) {
        switch name.count {
        case 2 where name.elementsEqualBytes("te"): self = .ignored
        case 5 where name.elementsEqualBytes(":path"): self = .path
        case 7 where name.elementsEqualBytes(":method"): self = .method
        case 7 where name.elementsEqualBytes(":scheme"): self = .ignored
        case 10 where name.elementsEqualBytes(":authority"), 10 where name.elementsEqualBytes("user-agent"): self = .ignored
        case 12 where name.elementsEqualBytes("content-type"): self = .contentType
        case 12 where name.elementsEqualBytes("grpc-timeout"): self = .timeout
        case 13 where name.elementsEqualBytes("grpc-encoding"): self = .encoding
        case 15 where name.elementsEqualBytes("accept-encoding"): self = .ignored
        case 20 where name.elementsEqualBytes("grpc-accept-encoding"): self = .acceptEncoding
        default: self = .other
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Whether the bytes are exactly the literal's (a length check, then `memcmp`).
    func elementsEqualBytes(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && matches(literal, at: 0)
    }

    /// Whether the bytes start with the literal's.
    func hasPrefixBytes(_ literal: StaticString) -> Bool {
        count >= literal.utf8CodeUnitCount && matches(literal, at: 0)
    }

    /// Whether the literal's bytes occur anywhere in these.
    func containsBytes(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard count >= length else { return false }
        for offset in 0...(count - length) where matches(literal, at: offset) { return true }
        return false
    }

    private func matches(_ literal: StaticString, at offset: Int) -> Bool {
        guard let base = baseAddress else { return literal.utf8CodeUnitCount == 0 }
        return memcmp(base + offset, literal.utf8Start, literal.utf8CodeUnitCount) == 0
    }
}
