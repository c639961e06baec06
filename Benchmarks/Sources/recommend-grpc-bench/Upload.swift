import ModelRegistry

// Only the registry core is imported here: its `Model` and `VersionHeader` share names with the API messages.

/// Creates model `name` and uploads `bytes` as its first version with `manifest`, as the admin.
func uploadModel(_ name: String, bytes: [UInt8], manifest: [String: String], registry: ModelRegistry, token: String) throws {
    let admin = try registry.authenticate(token: token)
    _ = try registry.createModel(Model(name: name), by: admin)
    let header = VersionHeader(sizeBytes: Int64(bytes.count), sha256: try SHA256Hasher.hex(of: bytes), manifest: manifest)
    let upload = try registry.beginUpload(model: name, header: header, by: admin)
    try upload.append(bytes)
    _ = try upload.finish()
}
