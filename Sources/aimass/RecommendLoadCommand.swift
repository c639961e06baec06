import AIMassAPI
import AIMassClient
import ArgumentParser
@preconcurrency import Foundation
import RPCCore
import RPCHTTP2

/// `aimass recommend-load`: a steady rate of `Recommend` calls through the Mesh-aware balancer (``MeshBalancer``),
/// as an application using the client library makes them: routed to the workers by `Mesh/Watch`, which follows
/// every control plane given (a highly available setup's standbys redirect, and the watcher resumes on the next
/// address when a stream ends). One JSON line per call, so a script can count what failed and when.
struct RecommendLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend-load",
        abstract: "Call Recommend at a steady rate through the Mesh-aware balancer (routed to the workers by Mesh/Watch).",
        discussion: """
            The balancer watches the mesh on --control-planes (every control plane of a highly available setup; \
            default --server) and sends each call to a serving worker with a ready replica of the model (power of \
            two choices; an UNAVAILABLE or shed call is retried once on another worker). stdout: one JSON object per \
            call, {"at_ms": Unix ms when sent, "code": "OK" or the status, "worker", "replica", "latency_ms", \
            "message"}; stderr: a summary. Exits 1 when a call failed.

            Examples:
              aimass recommend-load --model movies --user 196 --control-planes cp1:50051,cp2:50051,cp3:50051 --rate 50 --count 500
              aimass recommend-load --model movies --user 196 --count 0      (until Ctrl-C or SIGTERM)
            """
    )

    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "The user id.") var user: String
    @Option(name: .short, help: "How many items.") var k: UInt32 = 10
    @Option(
        name: .customLong("control-planes"),
        help: "Control planes to watch the mesh on, HOST:PORT[,HOST:PORT...] (default: --server).")
    var controlPlanes: String?
    @Option(help: "Calls per second.") var rate: Double = 10
    @Option(help: "Calls to make; 0: until interrupted.") var count: Int = 100
    @Option(name: .customLong("ready-timeout"), help: "Seconds to wait for a worker with a ready replica before the first call.")
    var readyTimeout: Double = 30

    func validate() throws {
        guard rate > 0, rate <= 10_000 else { throw ValidationError("--rate must be in (0, 10000], got \(rate)") }
        guard count >= 0 else { throw ValidationError("--count must be >= 0, got \(count)") }
        guard readyTimeout > 0 else { throw ValidationError("--ready-timeout must be positive") }
    }

    func run() async throws {
        let addresses = planes()
        let token = options.resolvedToken()
        let tls = options.tls.configuration(environment: options.environment, configFile: options.configFile)
        let balancer = MeshBalancer(
            controlPlanes: addresses,
            watcher: .defaults {
                $0.token = token
                $0.models = [model]
                $0.client.tls = tls
            },
            configuration: .defaults { $0.client.tls = tls })
        let following = Task { await balancer.run() }
        let ready = ContinuousClock.now + .milliseconds(Int64(readyTimeout * 1000))
        while balancer.pick(model: model) == nil {
            guard ContinuousClock.now < ready else {
                await balancer.close()
                CLIOutput.fail("no serving worker with a ready replica of \(model) after \(readyTimeout) s (watching \(addresses.joined(separator: ",")))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let calls = Task { await paced(balancer, token: token) }
        let interrupted = Task {
            await TerminationSignal.wait()
            calls.cancel()
        }
        let (made, failed) = await calls.value
        interrupted.cancel()
        await balancer.close()
        following.cancel()
        CLIOutput.stderr("\(made) calls through the mesh balancer, \(failed) failed\n")
        if failed > 0 { throw ExitCode(1) }
    }

    private func planes() -> [String] {
        guard let controlPlanes else {
            let (host, port) = options.endpoint()
            return ["\(host):\(port)"]
        }
        let parts = controlPlanes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for part in parts {
            guard let colon = part.lastIndex(of: ":"), let port = Int(part[part.index(after: colon)...]), (1...65535).contains(port)
            else { CLIOutput.fail("--control-planes: expected HOST:PORT, got '\(part)'") }
        }
        guard !parts.isEmpty else { CLIOutput.fail("--control-planes: no address given") }
        return parts
    }

    /// Sends the calls one after the other, each at its slot (at once when the previous one ran late); returns how
    /// many were made and how many failed.
    private func paced(_ balancer: MeshBalancer, token: String) async -> (Int, Int) {
        let request = RecommendRequest(model: model, userId: user, k: k, excludeSeen: true)
        let callOptions = CallOptions(
            timeout: .milliseconds(Int64((options.timeout ?? 5) * 1000)),
            metadata: ["authorization": .string("Bearer \(token)")])
        let interval = 1 / rate
        let start = ContinuousClock.now
        var made = 0
        var failed = 0
        while count == 0 || made < count, !Task.isCancelled {
            let slot = start + .milliseconds(Int64(Double(made) * interval * 1000))
            if slot > .now { try? await Task.sleep(until: slot) }
            if Task.isCancelled { break }
            let sentMs = Int64(Date().timeIntervalSince1970 * 1000)
            let sent = ContinuousClock.now
            var line: [String: Any] = ["at_ms": sentMs]
            do {
                let response: RecommendResponse = try await balancer.unary(
                    model: model, method: RecommendMethods.recommend, request: request, options: callOptions)
                line["code"] = "OK"
                line["worker"] = response.servedBy?.workerId ?? ""
                line["replica"] = response.servedBy?.replicaId ?? ""
            } catch {
                let status = RPCError(mapping: error)
                failed += 1
                line["code"] = "\(status.code)"
                line["message"] = status.message
            }
            line["latency_ms"] = (ContinuousClock.now - sent).milliseconds
            made += 1
            if let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) {
                CLIOutput.write(String(decoding: data, as: UTF8.self) + "\n", to: stdout)
            }
        }
        return (made, failed)
    }
}

extension Duration {
    /// Milliseconds as a floating-point number.
    fileprivate var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
