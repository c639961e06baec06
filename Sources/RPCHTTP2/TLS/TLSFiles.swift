import Foundation
import NIOSSL

/// A TLS file that could not be used, with the path and what was wrong (e.g. "no PEM certificate in it").
public struct TLSFileError: Error, CustomStringConvertible {
    public let path: String
    public let problem: String

    public var description: String { "TLS file \(path): \(problem)" }
}

/// Reads the PEM files that TLS contexts are built from, with errors that name the file.
enum TLSFiles {
    static func read(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            let problem = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw TLSFileError(path: path, problem: problem)
        }
        return Array(data)
    }

    /// Every certificate of a PEM file, leaf first (at least one).
    static func certificates(_ path: String) throws -> [NIOSSLCertificate] {
        let bytes = try read(path)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw TLSFileError(path: path, problem: "is not a PEM certificate file (\(error))")
        }
        guard !certificates.isEmpty else {
            throw TLSFileError(path: path, problem: "holds no PEM certificate")
        }
        return certificates
    }

    static func privateKey(_ path: String) throws -> NIOSSLPrivateKey {
        let bytes = try read(path)
        do {
            return try NIOSSLPrivateKey(bytes: bytes, format: .pem)
        } catch {
            throw TLSFileError(path: path, problem: "is not an unencrypted PEM private key (\(error))")
        }
    }

    /// A file's identity and modification time: a change of either (a rewrite, or a rename over it) means reload.
    struct Stamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int

        static func of(_ path: String) -> Stamp? {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            return Stamp(
                device: UInt64(status.st_dev), inode: UInt64(status.st_ino), size: Int64(status.st_size),
                modifiedSeconds: status.st_mtim.tv_sec, modifiedNanoseconds: status.st_mtim.tv_nsec
            )
        }
    }
}

extension NIOSSLCertificate {
    /// The serial number in hex, as `openssl x509 -serial` prints it (for logs).
    var serialHex: String {
        serialNumber.map { String(format: "%02X", $0) }.joined()
    }
}
