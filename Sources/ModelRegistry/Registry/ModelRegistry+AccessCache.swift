extension ModelRegistry {
    /// The principal a token hash authenticates, from the cache or (on a miss) from the database.
    /// The principal of a token, from the cache or (on a miss) by `lookup`.
    ///
    /// Keyed by the token itself, not its SHA-256: hashing on every call cost more than the rest of the check (2.6 µs
    /// of a Recommend call). The cache holds tokens only in memory, as every request carrying one already does.
    func cachedPrincipal(
        token: String,
        lookup: (Database) throws(RegistryError) -> Principal
    ) throws(RegistryError) -> Principal {
        let cache = self.accessCache
        let now = ContinuousClock.now
        if cache.isOpen, let principal = cache.principals.value(for: token, generation: cache.generation, now: now) {
            return principal
        }
        // The generation is read under the mutex, where writes bump it: it is exactly the data the lookup saw.
        let (principal, generation) = try self.withDatabase { (database) throws(RegistryError) -> (Principal, UInt64) in
            (try lookup(database), cache.generation)
        }
        cache.principals.insert(principal, for: token, generation: generation, now: now)
        return principal
    }

    /// The answer to `question` for `principal` on `model`, from the cache or (on a miss) computed by `compute` on
    /// the database. Errors that are a function of the data (``AccessCache/isAnswer(_:)``) are cached too.
    func cachedAnswer(
        _ question: AccessCache.Question,
        model: String,
        by principal: Principal,
        compute: (Database) throws(RegistryError) -> AccessCache.Answer
    ) throws(RegistryError) -> AccessCache.Answer {
        let cache = self.accessCache
        let key = AccessCache.Key(userID: principal.userID, scope: principal.scope, model: model, question: question)
        let now = ContinuousClock.now
        if cache.isOpen, let answer = cache.answers.value(for: key, generation: cache.generation, now: now) {
            return try answer.get()
        }
        typealias Computed = (Result<AccessCache.Answer, RegistryError>, UInt64)
        let (answer, generation) = try self.withDatabase { (database) throws(RegistryError) -> Computed in
            do throws(RegistryError) {
                return (.success(try compute(database)), cache.generation)
            } catch {
                guard AccessCache.isAnswer(error) else { throw error }
                return (.failure(error), cache.generation)
            }
        }
        cache.answers.insert(answer, for: key, generation: generation, now: now)
        return try answer.get()
    }
}
