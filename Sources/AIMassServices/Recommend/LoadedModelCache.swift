import ModelRegistry
import RecommendCore
import Synchronization

/// Recommenders built from registry versions, kept in memory: the embedded worker's replicas.
///
/// A version is loaded on its first call (its artifact read and parsed, the neighbour index
/// built) and shared by every later call. Concurrent first calls wait for the same load. The
/// cache holds at most ``capacity`` models; the oldest loaded is dropped first.
public final class LoadedModelCache: Sendable {
    /// What identifies a loaded model: the artifact's content and the manifest it is built with.
    struct Key: Hashable {
        var sha256: String
        var manifest: [String: String]
    }

    private struct State {
        var loads: [Key: Task<Recommender, any Error>] = [:]
        var order: [Key] = []
    }
    private let state = Mutex(State())
    public let capacity: Int

    public init(capacity: Int = 8) {
        self.capacity = max(1, capacity)
    }

    /// The recommender for a version, loading it with `load` if it is not in memory yet.
    func recommender(
        for version: ModelVersion,
        load: @escaping @Sendable () throws -> Recommender
    ) async throws -> Recommender {
        let key = Key(sha256: version.sha256, manifest: version.manifest)
        let task = state.withLock { state -> Task<Recommender, any Error> in
            if let existing = state.loads[key] { return existing }
            let task = Task { try await OffPoolThread.run(name: "aimass-build", load) }
            state.loads[key] = task
            state.order.append(key)
            while state.order.count > capacity {
                state.loads[state.order.removeFirst()] = nil
            }
            return task
        }
        do {
            return try await task.value
        } catch {
            // A failed load is not kept: the next call tries again.
            state.withLock { state in
                state.loads[key] = nil
                state.order.removeAll { $0 == key }
            }
            throw error
        }
    }

    /// How many models are loaded or loading.
    public var count: Int { state.withLock { $0.loads.count } }
}
