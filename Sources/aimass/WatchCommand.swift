import AIMassAPI
import AIMassClient
import ArgumentParser
@preconcurrency import Foundation
import RPCCore

/// `aimass watch`: follows `Mesh/Watch` and prints each event as it comes, one line each (or JSON lines); resumes
/// after a dropped stream from the last revision it printed.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print the mesh's events live (workers, health, load, replicas, deployments, versions, aliases).",
        discussion: """
            One line per event, e.g. `r42 REPLICA_READY movies@1 on w2`; --json prints one JSON object per line. \
            The stream resumes by itself after a drop; a line `# reconnecting …` says so.

            Examples:
              aimass watch
              aimass watch --model movies --kinds REPLICA_READY,REPLICA_REMOVED
              aimass watch --from 42 --json
            """
    )

    @OptionGroup var options: ClientOptions
    @Option(help: "Only events about this model (repeatable; worker events always come).") var model: [String] = []
    @Option(help: "Only these kinds, comma-separated, e.g. REPLICA_READY,HEALTH_CHANGED.") var kinds: String?
    @Option(help: "Resume after this revision instead of starting with a snapshot.") var from: UInt64 = 0
    @Flag(help: "Also print heartbeats.") var heartbeats = false

    func run() async throws {
        let (host, port) = options.endpoint()
        let kinds = try Self.parseKinds(self.kinds)
        let watcher = MeshWatcher(
            controlPlanes: ["\(host):\(port)"],
            configuration: .defaults {
                $0.token = options.resolvedToken()
                $0.models = model
                $0.kinds = kinds
                $0.startRevision = from
            })
        let changes = watcher.changes()
        let running = Task { await watcher.run() }
        for await change in changes {
            switch change {
            case .applied(let event):
                if event.kind == .heartbeat && !heartbeats { continue }
                CLIOutput.write((options.json ? Self.json(event) : Self.line(event)) + "\n", to: Glibc.stdout)
            case .connected:
                break
            case .disconnected(let error, let retryIn):
                CLIOutput.stderr("# stream ended (\(error.code): \(error.message)); reconnecting in \(retryIn.components.seconds * 1000 + retryIn.components.attoseconds / 1_000_000_000_000_000) ms\n")
            }
        }
        running.cancel()
    }

    static func parseKinds(_ text: String?) throws -> [EventKind] {
        guard let text, !text.isEmpty else { return [] }
        return try text.split(separator: ",").map { name in
            let wanted = name.trimmingCharacters(in: .whitespaces).uppercased()
            guard let kind = EventKind.allCases.first(where: { $0 != .unspecified && [wireName($0), "EVENT_KIND_" + wireName($0)].contains(wanted) })
            else { throw ValidationError("unknown kind '\(name)'; kinds: \(EventKind.allCases.dropFirst().map(wireName).joined(separator: ","))") }
            return kind
        }
    }

    /// `REPLICA_READY` for `.replicaReady`.
    static func wireName(_ kind: EventKind) -> String {
        var name = ""
        for character in "\(kind)" {
            if character.isUppercase { name += "_" }
            name += character.uppercased()
        }
        return name
    }

    /// `r42 REPLICA_READY movies@1 on w2`.
    static func line(_ event: MeshEvent) -> String {
        "r\(event.revision) \(wireName(event.kind))" + (summary(event.payload).map { " " + $0 } ?? "")
    }

    static func summary(_ payload: MeshEvent.Payload?) -> String? {
        switch payload {
        case .snapshot(let s)?:
            return "\(s.reset ? "reset " : "")workers=\(s.workers.count) deployments=\(s.deployments.count) replicas=\(s.replicas.count)"
        case .workerJoined(let w)?: return "\(w.id) at \(w.address) \(w.health)"
        case .workerLeft(let l)?: return "\(l.workerId)" + (l.reason.isEmpty ? "" : " (\(l.reason))")
        case .healthChanged(let h)?:
            return "\(h.workerId) \(h.previous) -> \(h.health)" + (h.reason.isEmpty ? "" : " (\(h.reason))")
        case .loadReported(let r)?:
            let t = r.total
            return "\(r.workerId) in_flight=\(t?.inFlight ?? 0) queue=\(t?.queueDepth ?? 0) latency_us=\(t?.latencyEwmaUs ?? 0)"
        case .replicaPlaced(let r)?, .replicaReady(let r)?, .replicaDraining(let r)?, .replicaRemoved(let r)?:
            return "\(r.model)@\(r.version) on \(r.workerId)" + (r.error.isEmpty ? "" : " (\(r.error))")
        case .deploymentScaled(let d)?:
            return "\(d.model) \(d.id) \(d.state) ready=\(d.readyReplicas)/\(d.desiredReplicas)"
        case .versionPublished(let v)?: return "\(v.model)@\(v.number)"
        case .aliasMoved(let a)?: return "\(a.model):\(a.alias) \(a.previousVersion) -> \(a.version)"
        case .heartbeat?, nil: return nil
        }
    }

    static func json(_ event: MeshEvent) -> String {
        var object: [String: Any] = [
            "revision": event.revision, "occurred_at_ms": event.occurredAtMs, "kind": wireName(event.kind),
        ]
        if let summary = summary(event.payload) { object["summary"] = summary }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
