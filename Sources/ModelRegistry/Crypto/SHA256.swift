internal import COpenSSLCrypto

/// Incremental SHA-256 over OpenSSL's EVP interface. Owns one `EVP_MD_CTX *`, freed exactly once in `deinit`.
///
/// Not thread-safe; each upload or reader owns its own hasher inside its `Mutex`.
public final class SHA256Hasher {
    private let context: OpaquePointer
    private var finished = false

    public init() throws(RegistryError) {
        guard let context = EVP_MD_CTX_new() else { throw .internal("EVP_MD_CTX_new failed") }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw .internal("EVP_DigestInit_ex(sha256) failed")
        }
        self.context = context
    }

    deinit {
        EVP_MD_CTX_free(self.context)
    }

    /// Adds bytes to the digest (`EVP_DigestUpdate`).
    /// Adds bytes to the digest.
    public func update(_ bytes: [UInt8]) throws(RegistryError) {
        var failure: RegistryError?
        bytes.withUnsafeBytes { buffer in
            do throws(RegistryError) { try update(buffer) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) throws(RegistryError) {
        guard !self.finished else { throw .internal("sha256 hasher used after finish") }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        guard EVP_DigestUpdate(self.context, base, bytes.count) == 1 else {
            throw .internal("EVP_DigestUpdate failed")
        }
    }

    /// Finishes the digest (`EVP_DigestFinal_ex`) and returns it as 64 lowercase hex characters. Call once.
    public func finish() throws(RegistryError) -> String {
        guard !self.finished else { throw .internal("sha256 hasher finished twice") }
        self.finished = true
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let ok = digest.withUnsafeMutableBufferPointer { buffer in
            EVP_DigestFinal_ex(self.context, buffer.baseAddress, &length)
        }
        guard ok == 1, length == 32 else { throw .internal("EVP_DigestFinal_ex failed") }
        return Hex.encode(digest)
    }

    /// The SHA-256 of `bytes` as lowercase hex.
    public static func hex(of bytes: some Collection<UInt8>) throws(RegistryError) -> String {
        let hasher = try SHA256Hasher()
        let array = Array(bytes)
        try array.withBytes { (buffer) throws(RegistryError) in try hasher.update(buffer) }
        return try hasher.finish()
    }
}

/// Lowercase hexadecimal encoding.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(self.digits[Int(byte >> 4)])
            out.append(self.digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `text` is exactly `count` lowercase hex digits.
    static func isLowercaseHex(_ text: String, count: Int) -> Bool {
        text.utf8.count == count && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}

/// Cryptographically secure random bytes from OpenSSL (`RAND_bytes`).
enum SecureRandom {
    static func bytes(_ count: Int) throws(RegistryError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let ok = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { throw .internal("RAND_bytes failed") }
        return bytes
    }

    static func hex(_ count: Int) throws(RegistryError) -> String {
        Hex.encode(try self.bytes(count))
    }
}
