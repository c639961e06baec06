import Foundation
import Testing

@testable import ModelRegistry

/// A registry in a fresh temporary data directory, deleted when the test ends.
final class Fixture {
    let directory: String
    private(set) var registry: ModelRegistry
    private(set) var admin: Principal
    let configuration: ModelRegistry.Configuration

    init(configuration: ModelRegistry.Configuration = .defaults) throws {
        self.directory = NSTemporaryDirectory() + "aimass-registry-test-" + UUID().uuidString
        self.configuration = configuration
        self.registry = try ModelRegistry.open(dataDirectory: self.directory, configuration: configuration)
        self.admin = try self.registry.authenticate(token: try Fixture.adminToken(in: self.directory))
    }

    deinit {
        self.registry.close()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    static func adminToken(in directory: String) throws -> String {
        try String(contentsOfFile: directory + "/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Closes the registry and opens the directory again, as a restart would.
    @discardableResult
    func reopen() throws -> ModelRegistry {
        self.registry.close()
        self.registry = try ModelRegistry.open(dataDirectory: self.directory, configuration: self.configuration)
        self.admin = try self.registry.authenticate(token: try Fixture.adminToken(in: self.directory))
        return self.registry
    }

    /// Creates a user and returns their principal (authenticated through a real token).
    func user(_ name: String, isAdmin: Bool = false) throws -> Principal {
        try self.registry.createUser(name, isAdmin: isAdmin, by: self.admin)
        let token = try self.registry.createToken(for: name, by: self.admin)
        return try self.registry.authenticate(token: token.token)
    }

    /// Uploads `bytes` as a new version in chunks of `chunkSize`.
    @discardableResult
    func upload(
        _ bytes: [UInt8],
        to model: String,
        by principal: Principal,
        chunkSize: Int = 1000,
        configure: (inout VersionHeader) -> Void = { _ in }
    ) throws -> ModelVersion {
        var header = VersionHeader(sizeBytes: Int64(bytes.count), sha256: sha256(bytes))
        configure(&header)
        let upload = try self.registry.beginUpload(model: model, header: header, by: principal)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + chunkSize)
            try upload.append(Array(bytes[offset..<end]))
            offset = end
        }
        return try upload.finish()
    }

    /// Reads a whole artifact through an ``ArtifactReader``.
    func download(_ model: String, _ version: VersionReference, by principal: Principal) throws -> [UInt8] {
        let reader = try self.registry.openArtifact(model: model, version: version, by: principal)
        var bytes: [UInt8] = []
        while true {
            let chunk = try reader.read(upTo: 777)
            if chunk.isEmpty { break }
            bytes += chunk
        }
        return bytes
    }

    /// Regular files under `DATADIR/relative`, recursively, as paths relative to it.
    func files(under relative: String) -> [String] {
        let root = self.directory + "/" + relative
        guard let enumerator = FileManager.default.enumerator(atPath: root) else { return [] }
        var files: [String] = []
        while let path = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                files.append(path)
            }
        }
        return files.sorted()
    }
}

func sha256(_ bytes: [UInt8]) -> String {
    (try? SHA256Hasher.hex(of: bytes)) ?? ""
}

/// Deterministic pseudo-random bytes.
func artifact(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

/// Runs `body` and returns the code of the ``RegistryError`` it throws, or `nil` if it does not throw.
func errorCode(_ body: () throws -> Void) -> RegistryError.Code? {
    do {
        try body()
        return nil
    } catch let error as RegistryError {
        return error.code
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// The message of the ``RegistryError`` `body` throws.
func errorMessage(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as RegistryError {
        return error.message
    } catch {
        return nil
    }
}
