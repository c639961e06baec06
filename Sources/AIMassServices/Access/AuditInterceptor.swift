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
/// `interval` from a task of its own.
public final class AuditLog: ServerInterceptor {
    static let auditedServices: Set<String> = ["aimass.v1.ModelRegistry", "aimass.v1.Scheduler", "aimass.v1.Access"]
    static let readPrefixes = ["Get", "List", "Download", "Diff"]

    private let registry: ModelRegistry
    private let interval: Duration
    private let logger: Logger
    private let pending = Mutex<[DomainAuditEvent]>([])

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
            flush()
        }
        flush()
    }

    /// Writes what is buffered now.
    public func flush() {
        let events = pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
        do {
            try registry.appendAuditEvents(events)
        } catch {
            logger.error("audit events could not be written", metadata: ["events": "\(events.count)", "error": "\(error)"])
        }
    }
}
