import Dispatch
import Foundation
import Logging
import ModelRegistry
import RPCCore
import Synchronization

/// Records every mutating call of the control plane's services in the registry's audit log: who (the token's user
/// and id), what (the method), when, and how it ended. Reads (`Get*`, `List*`, `Download*`, `Diff*`), inference and
/// the worker's `Join` stream are not mutating.
///
/// The interceptor runs on the event loop, so it only buffers; ``run()`` writes the buffer to SQLite every
/// `interval`, on a thread of its own: with the registry replicated to etcd a write waits for etcd, and it must not
/// hold one of the few threads of Swift's cooperative pool meanwhile (reconnecting to another etcd member needs
/// one). Events a write could not take for want of etcd (`UNAVAILABLE`) are kept for the next one, up to
/// ``maxPending``.
public final class AuditLog: ServerInterceptor {
    static let auditedServices: Set<String> = ["aimass.v1.ModelRegistry", "aimass.v1.Scheduler", "aimass.v1.Access"]
    static let readPrefixes = ["Get", "List", "Download", "Diff"]

    private let registry: ModelRegistry
    private let interval: Duration
    private let logger: Logger
    private let pending = Mutex<[DomainAuditEvent]>([])
    private let writer = DispatchQueue(label: "aimass.audit-writer")
    /// The most events kept while they cannot be written; older ones are dropped (and logged) beyond it.
    static let maxPending = 10_000

    public init(registry: ModelRegistry, interval: Duration = .milliseconds(200), logger: Logger) {
        self.registry = registry
        self.interval = interval
        self.logger = logger
    }

    /// Whether a call of `method` changes something.
    static func isMutating(_ method: MethodDescriptor) -> Bool {
        auditedServices.contains(method.service) && method.method != "Join"
            && !readPrefixes.contains(where: { method.method.hasPrefix($0) })
    }

    public func callEnded(_ context: ServerContext, status: RPCStatus, duration: Duration) {
        guard Self.isMutating(context.descriptor) else { return }
        let principal = try? registry.principal(for: context)
        let event = DomainAuditEvent(
            at: Date(), user: principal?.userName ?? "", tokenID: principal?.tokenID,
            method: "\(context.descriptor.service)/\(context.descriptor.method)", target: "",
            code: status.code.rawValue, message: status.message, peer: context.remotePeer)
        pending.withLock { $0.append(event) }
    }

    /// Writes what was buffered every `interval` until cancelled, then once more.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flushOffThePool()
        }
        await flushOffThePool()
    }

    private func flushOffThePool() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            writer.async {
                self.flush()
                done.resume()
            }
        }
    }

    /// Writes what is buffered now.
    public func flush() {
        let events = pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
        var written = 0
        do {
            // Batch by batch, so that what a failure leaves unwritten is known exactly.
            while written < events.count {
                let batch = Array(events[written..<min(events.count, written + ModelRegistry.auditBatch)])
                try registry.appendAuditEvents(batch)
                written += batch.count
            }
        } catch let error where error.code == .unavailable {
            // etcd did not take them: keep them for the next flush, oldest first (should etcd have applied a write
            // whose answer was lost, that batch is recorded twice: rare, and better than lost).
            let unwritten = Array(events[written...])
            let dropped = pending.withLock { pending in
                pending = unwritten + pending
                let excess = max(0, pending.count - Self.maxPending)
                pending.removeFirst(excess)
                return excess
            }
            logger.warning(
                "audit events not written yet; retrying", metadata: ["events": "\(unwritten.count)", "dropped": "\(dropped)", "error": "\(error)"])
        } catch {
            logger.error(
                "audit events could not be written", metadata: ["events": "\(events.count - written)", "error": "\(error)"])
        }
    }
}
