import EtcdAPI
import RPCCore
import RPCHTTP2

/// One batch of a watch: the events of one or more revisions, in order.
public struct EtcdWatchBatch: Sendable {
    /// The store's revision when the batch was sent (at least that of its last event).
    public var revision: Int64
    /// The changes, oldest first.
    public var events: [Event]
}

extension EtcdClient {
    /// Watches every key under `prefix` from `fromRevision` (inclusive; 0: from now on).
    ///
    /// The stream survives a member's loss: it reopens on the next endpoint from the revision after the last one it
    /// delivered, so no event is lost or repeated. It ends with ``EtcdError/compacted(revision:)`` when the events
    /// to resume from were compacted away, and ends when the consuming task is cancelled.
    public func watch(prefix: [UInt8], fromRevision: Int64 = 0) -> AsyncThrowingStream<EtcdWatchBatch, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                var next = fromRevision
                var index = self.currentIndex
                var failures = 0
                while !Task.isCancelled {
                    do {
                        try await self.watchOnce(
                            client: self.client(at: index), prefix: prefix, from: next
                        ) { batch in
                            failures = 0
                            if let last = batch.events.last?.kv?.modRevision { next = last + 1 }
                            if !batch.events.isEmpty { continuation.yield(batch) }
                        }
                    } catch let error as EtcdError {
                        continuation.finish(throwing: error)
                        return
                    } catch {
                        if Task.isCancelled { break }
                        self.logger.info(
                            "etcd watch interrupted; resuming on the next endpoint",
                            metadata: ["endpoint": "\(self.endpoints[index % self.endpoints.count])", "error": "\(error)",
                                       "from_revision": "\(next)"])
                    }
                    index += 1
                    failures += 1
                    // Every member tried in turn: wait a little before the next round.
                    if failures % self.endpoints.count == 0 { try? await Task.sleep(for: .milliseconds(200)) }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// One Watch stream until it fails or ends; `deliver` gets each batch with events.
    private func watchOnce(
        client: RPCClient, prefix: [UInt8], from revision: Int64, deliver: (EtcdWatchBatch) -> Void
    ) async throws {
        let call: ClientCall<WatchRequest, WatchResponse> = try await client.makeCall(WatchMethods.watch)
        try await withTaskCancellationHandler {
            let create = WatchCreateRequest(key: prefix, rangeEnd: Self.prefixEnd(prefix), startRevision: revision)
            try await call.send(WatchRequest(requestUnion: .createRequest(create)))
            for try await response in call.responses {
                if response.compactRevision > 0 { throw EtcdError.compacted(revision: response.compactRevision) }
                if response.canceled {
                    throw RPCError(code: .unavailable, message: "etcd cancelled the watch: \(response.cancelReason)")
                }
                deliver(EtcdWatchBatch(revision: response.header?.revision ?? 0, events: response.events))
            }
            throw RPCError(code: .unavailable, message: "etcd ended the watch stream")
        } onCancel: {
            call.cancel()
        }
    }
}
