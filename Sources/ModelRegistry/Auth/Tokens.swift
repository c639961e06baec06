/// API tokens: 32 random bytes from `RAND_bytes`, hex-encoded behind a recognisable prefix. Only the SHA-256 of a
/// token is stored, so a copy of the database does not reveal working tokens.
enum Tokens {
    static let prefix = "aimass_"

    static func generate() throws(RegistryError) -> String {
        self.prefix + (try SecureRandom.hex(32))
    }

    static func hash(_ token: String) throws(RegistryError) -> String {
        try SHA256Hasher.hex(of: token.utf8)
    }
}
