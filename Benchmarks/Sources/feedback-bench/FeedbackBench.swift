import AIMassAPI
import ArgumentParser
import Foundation
import RPCCore
import RPCHTTP2

/// Feedback.Record throughput against a running server (scripts/bench-feedback.sh pins it to one core): the
/// interactions of a data file sent as rating events, in messages of `--batch`, over `--streams` concurrent Record
/// calls, with fresh event ids (nothing is a duplicate). Prints events/s and, given the server's pid, its CPU time
/// per event (from /proc/PID/stat), so the figure does not depend on how fast the client is.
@main
struct FeedbackBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback-bench", abstract: "Feedback.Record throughput against a running server.")

    @Option(help: "The server, HOST:PORT.") var server: String
    @Option(help: "A token with WRITER on the model.") var token: String
    @Option(help: "The model the events are for.") var model: String
    @Option(help: "An interactions file (user, item, rating, time per line; a header line is skipped).") var data: String
    @Option(help: "Events sent in all.") var events = 200_000
    @Option(help: "Events per message.") var batch = 1000
    @Option(help: "Concurrent Record calls.") var streams = 4
    @Option(help: "The server's pid, to report its CPU time per event.") var serverPid: Int32?

    func run() async throws {
        let lines = try String(contentsOfFile: data, encoding: .utf8).split(separator: "\n").dropFirst()
        let interactions: [Interaction] = lines.compactMap { line in
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 3, let rating = Double(fields[2]) else { return nil }
            return Interaction(user: String(fields[0]), item: String(fields[1]), rating: rating)
        }
        guard !interactions.isEmpty else { throw ValidationError("no interactions in \(data)") }
        let parts = server.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("--server must be HOST:PORT") }
        let client = RPCClient(host: String(parts[0]), port: port)
        let options = CallOptions(timeout: .seconds(600), metadata: ["authorization": .string("Bearer \(token)")])
        let run = String(UUID().uuidString.prefix(8))
        let perStream = events / streams
        let (model, batch, streams) = (self.model, self.batch, self.streams)

        let cpuBefore = serverPid.flatMap(Self.cpuSeconds)
        let start = ContinuousClock.now
        let recorded = try await withThrowingTaskGroup(of: UInt64.self) { group in
            for stream in 0..<streams {
                group.addTask {
                    let call: ClientCall<RecordFeedbackRequest, RecordFeedbackResponse> = try await client.makeCall(
                        FeedbackMethods.record, options: options)
                    var sent = 0
                    while sent < perStream {
                        let count = min(batch, perStream - sent)
                        let message = RecordFeedbackRequest(events: (0..<count).map { offset in
                            let index = stream * perStream + sent + offset
                            let interaction = interactions[index % interactions.count]
                            return FeedbackEvent(
                                eventId: "\(run)-\(index)", model: model, userId: interaction.user,
                                itemId: interaction.item, kind: .rating, value: interaction.rating, servedVersion: 1)
                        })
                        try await call.send(message)
                        sent += count
                    }
                    call.finishSending()
                    guard let response = try await call.next() else {
                        throw RPCError(code: .internalError, message: "no response")
                    }
                    return response.recorded
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        await client.close()
        var line = String(
            format: "recorded %llu events in %.2f s: %.0f events/s (batch %d, %d streams)", recorded, seconds,
            Double(recorded) / seconds, batch, streams)
        if let before = cpuBefore, let pid = serverPid, let after = Self.cpuSeconds(pid) {
            let cpu = after - before
            line += String(
                format: "; server CPU %.2f s = %.2f µs per event = %.0f events per CPU-second", cpu,
                cpu / Double(recorded) * 1e6, Double(recorded) / cpu)
        }
        print(line)
    }

    /// User plus system CPU seconds of a process, from /proc/PID/stat (fields 14 and 15, in clock ticks).
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

struct Interaction: Sendable {
    var user: String
    var item: String
    var rating: Double
}
