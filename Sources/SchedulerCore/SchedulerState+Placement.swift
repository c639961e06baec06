extension SchedulerState {
    /// Free capacity per worker: its capacity minus every non-terminal replica on it (draining ones included) and
    /// minus the pending replicas nominated to it by a preemption.
    func freeCapacity() -> [WorkerID: Capacity] {
        var free = workers.mapValues(\.capacity)
        for replica in replicas.values where !replica.state.isTerminal {
            if let worker = replica.workerID ?? replica.nominatedWorker { free[worker]?.subtract(replica.resources) }
        }
        return free
    }

    /// Places unplaced replicas, highest priority first; preempts lower-priority replicas when nothing fits, and
    /// records the shortfall of what still cannot be placed.
    mutating func placePending(now: Double, into actions: inout [SchedulerAction]) {
        var free = freeCapacity().filter { isSchedulable($0.key) }
        let order = deployments.values.filter { !$0.deleting }.sorted {
            $0.spec.priority != $1.spec.priority ? $0.spec.priority > $1.spec.priority : $0.spec.id < $1.spec.id
        }
        for record in order {
            let id = record.spec.id
            let pending = replicas.values.filter { $0.deploymentID == id && $0.state == .pending && $0.workerID == nil }
            var unplaced = 0
            var shortfall = ""
            var lacksCapacity = false
            for replica in pending.sorted(by: { $0.id < $1.id }) {
                // Its own reservation is counted in `free`: hand it back while it looks for a worker.
                if let nominated = replica.nominatedWorker { free[nominated]?.add(replica.resources) }
                if let worker = chooseWorker(for: replica, free: free) {
                    free[worker]?.subtract(replica.resources)
                    replicas[replica.id]?.workerID = worker
                    replicas[replica.id]?.epoch = epoch
                    replicas[replica.id]?.nominatedWorker = nil
                    replicas[replica.id]?.updatedAt = now
                    if let placed = replicas[replica.id] { actions.append(.place(placed, on: worker)) }
                    continue
                }
                unplaced += 1
                if let nominated = replica.nominatedWorker {
                    free[nominated]?.subtract(replica.resources)
                    shortfall = "waiting for preempted replicas to drain on \(nominated)"
                } else if let (worker, victims) = preemption(for: record.spec, free: free) {
                    for victim in victims { stop(victim, now: now, into: &actions) }
                    replicas[replica.id]?.nominatedWorker = worker
                    free[worker]?.subtract(replica.resources)
                    shortfall = "preempting \(victims.count) lower-priority replica(s) on \(worker)"
                } else {
                    shortfall = describeShortfall(record.spec.resources, free: free)
                    // With no worker to take replicas the deployment waits for one; that is not a lack of capacity.
                    lacksCapacity = !free.isEmpty
                }
            }
            deployments[id]?.shortfall = unplaced == 0 ? nil : "\(unplaced) of \(record.desired) replicas unplaced: \(shortfall)"
            deployments[id]?.lacksCapacity = unplaced > 0 && lacksCapacity
        }
    }

    /// Spread first (the fewest replicas of the same deployment and version, then of the same deployment), then
    /// best fit on the request's dominant resource (the smallest leftover share of that resource), then the worker
    /// id. Spreading each version on its own puts an A/B challenger's replicas beside the champion's.
    private func chooseWorker(for replica: Replica, free: [WorkerID: Capacity]) -> WorkerID? {
        var sameVersion: [WorkerID: Int] = [:]
        var sameDeployment: [WorkerID: Int] = [:]
        for other in replicas.values where other.deploymentID == replica.deploymentID && other.state.isLive {
            guard let worker = other.workerID else { continue }
            sameDeployment[worker, default: 0] += 1
            if other.version == replica.version { sameVersion[worker, default: 0] += 1 }
        }
        var best: (key: (Int, Int, Double, WorkerID), worker: WorkerID)?
        for (worker, room) in free where room.fits(replica.resources) {
            guard let capacity = workers[worker]?.capacity else { continue }
            let leftover = dominantLeftover(replica.resources, room: room, capacity: capacity)
            let key = (sameVersion[worker, default: 0], sameDeployment[worker, default: 0], leftover, worker)
            if best.map({ key < $0.key }) ?? true { best = (key, worker) }
        }
        return best?.worker
    }

    private func dominantLeftover(_ request: Resources, room: Capacity, capacity: Capacity) -> Double {
        let cpuShare = Double(request.cpuMillis) / Double(max(capacity.cpuMillis, 1))
        let memoryShare = Double(request.memoryBytes) / Double(max(capacity.memoryBytes, 1))
        if cpuShare >= memoryShare {
            return Double(room.cpuMillis - request.cpuMillis) / Double(max(capacity.cpuMillis, 1))
        }
        return Double(room.memoryBytes - request.memoryBytes) / Double(max(capacity.memoryBytes, 1))
    }

    /// The worker where evicting the fewest lower-priority replicas (each from a deployment above its minimum,
    /// lowest priority first) makes room for one replica of `spec`, and those victims.
    private func preemption(for spec: DeploymentSpec, free: [WorkerID: Capacity]) -> (WorkerID, [ReplicaID])? {
        var spare: [DeploymentID: Int] = [:]
        for (id, record) in deployments where record.spec.priority < spec.priority && !record.deleting {
            let placed = replicas.values.count { $0.deploymentID == id && $0.state.isLive && $0.workerID != nil }
            spare[id] = placed - record.spec.minReplicas
        }
        guard spare.values.contains(where: { $0 > 0 }) else { return nil }
        var best: (WorkerID, [ReplicaID])?
        for worker in workers.keys.sorted() where isSchedulable(worker) {
            guard var room = free[worker] else { continue }
            var budget = spare
            var victims: [ReplicaID] = []
            let candidates = replicas.values.filter { $0.workerID == worker && $0.state.isLive && spare[$0.deploymentID] != nil }
            let ranked = candidates.sorted {
                let (p0, p1) = (deployments[$0.deploymentID]?.spec.priority ?? 0, deployments[$1.deploymentID]?.spec.priority ?? 0)
                if p0 != p1 { return p0 < p1 }
                if $0.state != $1.state { return $0.state.rawValue < $1.state.rawValue }
                return $1.id < $0.id
            }
            for victim in ranked where !room.fits(spec.resources) {
                guard budget[victim.deploymentID, default: 0] > 0 else { continue }
                budget[victim.deploymentID, default: 0] -= 1
                victims.append(victim.id)
                room.add(victim.resources)
            }
            if room.fits(spec.resources), !victims.isEmpty, best.map({ victims.count < $0.1.count }) ?? true {
                best = (worker, victims)
            }
        }
        return best
    }

    /// "needs 500 cpu millis and 1 GiB on one worker; the largest free is 200 cpu millis / 512 MiB on w2".
    func describeShortfall(_ request: Resources, free: [WorkerID: Capacity]) -> String {
        let needs = "needs \(request.cpuMillis) cpu millis and \(formatBytes(request.memoryBytes)) on one worker"
        func closeness(_ room: Capacity) -> Double {
            guard room.replicaSlots > 0 else { return -1 }
            let cpu = request.cpuMillis > 0 ? Double(room.cpuMillis) / Double(request.cpuMillis) : .infinity
            let memory = request.memoryBytes > 0 ? Double(room.memoryBytes) / Double(request.memoryBytes) : .infinity
            return min(cpu, memory)
        }
        var best: (score: Double, worker: WorkerID, room: Capacity)?
        for (worker, room) in free {
            let score = closeness(room)
            if best.map({ score > $0.score || (score == $0.score && worker < $0.worker) }) ?? true {
                best = (score, worker, room)
            }
        }
        guard let best else {
            let cordoned = workers.values.count(where: \.cordoned)
            return cordoned == 0 ? "\(needs); no worker in the pool" : "\(needs); no worker takes new replicas (\(cordoned) draining)"
        }
        let slots = best.room.replicaSlots > 0 ? "" : " (no free replica slot)"
        return "\(needs); the largest free is \(max(best.room.cpuMillis, 0)) cpu millis / "
            + "\(formatBytes(max(best.room.memoryBytes, 0))) on \(best.worker)\(slots)"
    }
}
