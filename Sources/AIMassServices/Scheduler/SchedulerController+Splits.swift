import AIMassAPI
import SchedulerCore

extension SchedulerController {
    /// Makes every deployment that follows an alias hold replicas of that alias's A/B challenger while it has one:
    /// the challengers come from the registry's access rules (`ModelGrant.splits`, what
    /// ``AccessGrantsPublisher`` reads and workers route with), so the scheduler and the workers see the same
    /// split. A split that ended (or a model no longer listed) ends the challenger's replicas.
    ///
    /// - Returns: The deployments whose challenger changed, with the new one (0 = none).
    @discardableResult
    public func applySplits(_ grants: AccessGrants) -> [(DeploymentID, UInt32)] {
        var challengers: [String: [String: UInt32]] = [:]
        for model in grants.models {
            for split in model.splits where split.percent > 0 && split.challengerVersion > 0 {
                challengers[model.model, default: [:]][split.alias] = split.challengerVersion
            }
        }
        let changes = state.withLock { s in
            s.core.allDeployments.compactMap { deployment -> (DeploymentID, String, UInt32)? in
                let alias = deployment.spec.selector.alias
                guard !alias.isEmpty, deployment.state != .deleting else { return nil }
                let wanted = challengers[deployment.spec.model]?[alias] ?? 0
                return wanted == deployment.spec.challengerVersion ? nil : (deployment.spec.id, deployment.spec.model, wanted)
            }
        }
        var applied: [(DeploymentID, UInt32)] = []
        for (id, model, challenger) in changes {
            // The artifact is read outside the lock (a registry query), as a roll's is.
            var artifact: ArtifactInfo?
            if challenger > 0 {
                do {
                    artifact = try lookup(model, challenger)
                } catch {
                    logger.warning(
                        "A/B challenger cannot be read; not placing it",
                        metadata: ["deployment": "\(id)", "version": "\(challenger)", "error": "\(error)"])
                    continue
                }
            }
            do {
                try mutate { s, now in
                    if let artifact { s.artifacts[Self.key(model, challenger)] = artifact }
                    return try s.core.split(id, challenger: challenger, now: now)
                }
                applied.append((id, challenger))
                logger.info("A/B challenger of a deployment", metadata: ["deployment": "\(id)", "challenger": "\(challenger)"])
            } catch {
                logger.warning("A/B split not applied", metadata: ["deployment": "\(id)", "error": "\(error)"])
            }
        }
        return applied
    }
}
