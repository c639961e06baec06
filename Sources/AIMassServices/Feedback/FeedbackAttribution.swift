import AIMassAPI

extension FeedbackEvent {
    /// This event attributed to the version that served it: when it names only `served_alias` (its
    /// `served_version` is 0), `served_version` becomes what `version(model, alias, user)` says that alias serves the
    /// user (its A/B split's sticky choice, else its own version). Unchanged when it names a version or no alias, or
    /// when `version` does not know (nil). The control plane and the workers fill events the same way, each from
    /// its own view of the splits (the registry; the rules pushed on the Join stream).
    public func attributed(
        by version: (_ model: String, _ alias: String, _ user: String) throws -> UInt32?
    ) rethrows -> FeedbackEvent {
        guard servedVersion == 0, !servedAlias.isEmpty, let served = try version(model, servedAlias, userId) else {
            return self
        }
        var event = self
        event.servedVersion = served
        return event
    }
}
