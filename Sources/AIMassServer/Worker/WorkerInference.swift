import AIMassServices

/// The inference side of a worker (a worker process, or the embedded platform's local worker): an executor with
/// one thread per whole core the worker offers, and a call gate sized for the same cores.
struct WorkerInference: Sendable {
    /// Runs the replicas' model work.
    let executor: InferenceExecutor
    /// Sheds Recommend and SimilarItems calls on the event loop when the worker is overloaded.
    let gate: AdmissionCallGate

    /// Inference for a worker offering `cpuMillis` (0: every core the process may use), whose gate lets a call over
    /// its limit wait up to `queueBudget` for a slot.
    init(cpuMillis: Int64, queueBudget: QueueBudget = .default) {
        let cores = Self.threads(cpuMillis: cpuMillis)
        executor = cores == InferenceExecutor.usableCores ? .shared : InferenceExecutor(threads: cores)
        gate = AdmissionCallGate.recommendInference(cores: cores, queueBudget: queueBudget)
    }

    /// Inference threads for a worker offering `cpuMillis`: one per whole core offered (at least one), at most the
    /// cores this process may run on.
    static func threads(cpuMillis: Int64) -> Int {
        let offered = cpuMillis > 0 ? Int((cpuMillis + 999) / 1000) : InferenceExecutor.usableCores
        return min(max(offered, 1), InferenceExecutor.usableCores)
    }

    /// Stops the executor's threads, unless it is the process's shared one.
    func shutdown() {
        if executor !== InferenceExecutor.shared { executor.shutdown() }
    }
}
