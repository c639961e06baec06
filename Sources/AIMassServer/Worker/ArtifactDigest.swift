import COpenSSLCrypto

/// SHA-256 of a downloaded artifact, to check it against the version's hash before loading it.
enum ArtifactDigest {
    /// 64 lowercase hex characters, or `nil` if OpenSSL cannot hash.
    static func sha256Hex(_ bytes: [UInt8]) -> String? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { return nil }
        let updated = bytes.withUnsafeBytes { buffer -> Bool in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return true }
            return EVP_DigestUpdate(context, base, buffer.count) == 1
        }
        guard updated else { return nil }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let finished = digest.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(context, $0.baseAddress, &length) }
        guard finished == 1 else { return nil }
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
