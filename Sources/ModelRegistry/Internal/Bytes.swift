extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body with typed throws (the standard library's version `rethrows` as `any Error`).
    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(RegistryError) -> R) throws(RegistryError) -> R {
        let result = self.withUnsafeBytes { buffer in
            Result { () throws(RegistryError) -> R in try body(buffer) }
        }
        return try result.get()
    }
}
