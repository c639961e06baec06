extension SchedulerState {
    /// The alias a deployment follows got an A/B split with `challenger` as its challenger, changed challenger, or
    /// lost its split (`challenger` 0).
    ///
    /// While a split lasts the deployment keeps as many replicas of the challenger as of its own version (placed
    /// and spread the same way), so that a worker holding the alias's version can serve the split's other users too.
    /// When the split ends the challenger's replicas drain; when the challenger is promoted (``roll(_:to:now:)`` to
    /// it) they are simply the deployment's replicas and the old version's drain instead.
    ///
    /// - Throws: `notFound` for an unknown deployment, `failedPrecondition` for one being deleted.
    public mutating func split(_ id: DeploymentID, challenger: UInt32, now: Double) throws(SchedulerError) -> [SchedulerAction] {
        guard let record = deployments[id] else { throw notFound("deployment \(id)") }
        guard !record.deleting else {
            throw SchedulerError(code: .failedPrecondition, message: "deployment \(id) is being deleted")
        }
        guard record.spec.challengerVersion != challenger else { return [] }
        deployments[id]?.spec.challengerVersion = challenger
        deployments[id]?.consecutiveFailures = 0
        deployments[id]?.updatedAt = now
        return reconcile(now: now)
    }
}
