import AIMassAPI
import ArgumentParser
@preconcurrency import Foundation
import RPCCore
import ModelRegistry
import RPCHTTP2

/// `aimass feedback …`: record what users did (Feedback.Record) and list it.
struct FeedbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feedback",
        abstract: "Record user feedback for a model, and list what was recorded.",
        subcommands: [Send.self, List.self]
    )

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a file of feedback events (one per line: USER ITEM KIND [VALUE [SERVED_VERSION]]).",
            discussion: """
                KIND is view, click, purchase or rating; fields are separated by tabs or spaces; lines starting \\
                with # are skipped. Each line's event id is the file's sha256 and the line number, so sending the \\
                same file again records nothing twice.

                Example:
                  printf '196\\t242\\trating\\t4\\n196\\t50\\tclick\\n' > events.tsv
                  aimass feedback send --model movies events.tsv
                """
        )
        @OptionGroup var options: ClientOptions

        @Option(help: "The model the events are for.")
        var model: String

        @Argument(help: "The file of events.")
        var file: String

        @Option(help: "Events per message.")
        var batch: Int = 1000

        func run() async throws {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be 1 to 10000") }
            let events = try Self.events(in: data, model: model)
            await options.run { client in
                let call: ClientCall<RecordFeedbackRequest, RecordFeedbackResponse> = try await client.client.makeCall(
                    FeedbackMethods.record, options: options.callOptions(transfer: true))
                do {
                    var start = 0
                    while start < events.count {
                        let end = min(start + batch, events.count)
                        try await call.send(RecordFeedbackRequest(events: Array(events[start..<end])))
                        start = end
                    }
                    call.finishSending()
                } catch {
                    _ = try await call.next()
                    throw error
                }
                guard let response = try await call.next() else {
                    throw RPCError(code: .internalError, message: "the server sent no response")
                }
                if options.json {
                    CLIOutput.printJSON(["recorded": response.recorded, "duplicates": response.duplicates])
                } else {
                    print("recorded \(response.recorded) events (\(response.duplicates) already recorded)")
                }
            }
        }

        /// The events of a file; a malformed line is a usage error naming it.
        static func events(in data: Data, model: String) throws -> [FeedbackEvent] {
            let digest = try SHA256Hasher.hex(of: [UInt8](data)).prefix(16)
            let kinds: [String: FeedbackKind] = ["view": .view, "click": .click, "purchase": .purchase, "rating": .rating]
            var events: [FeedbackEvent] = []
            for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .enumerated()
            {
                let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " || $0 == "\r" }).map(String.init)
                if fields.isEmpty || fields[0].hasPrefix("#") { continue }
                guard (3...5).contains(fields.count), let kind = kinds[fields[2].lowercased()] else {
                    throw ValidationError("line \(number + 1): expected USER ITEM view|click|purchase|rating [VALUE [VERSION]]")
                }
                let value = fields.count > 3 ? Double(fields[3]) : 0
                let version = fields.count > 4 ? UInt32(fields[4]) : 0
                guard let value, value.isFinite, let version else {
                    throw ValidationError("line \(number + 1): VALUE must be a number and VERSION a version number")
                }
                events.append(FeedbackEvent(
                    eventId: "\(digest)-\(number + 1)", model: model, userId: fields[0], itemId: fields[1], kind: kind,
                    value: value, servedVersion: version))
            }
            return events
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a model's recorded feedback, oldest first.",
            discussion: """
                Example:
                  aimass feedback list --model movies --limit 20
                """
        )
        @OptionGroup var options: ClientOptions

        @Option(help: "The model.")
        var model: String

        @Option(help: "Only events after this sequence number.")
        var after: UInt64 = 0

        @Option(help: "At most this many (1 to 10000).")
        var limit: UInt32 = 100

        func run() async throws {
            await options.run { client in
                let listed: ListFeedbackResponse = try await client.unary(
                    FeedbackMethods.listFeedback, ListFeedbackRequest(model: model, afterSequence: after, pageSize: limit))
                let names: [FeedbackKind: String] = [.view: "view", .click: "click", .purchase: "purchase", .rating: "rating"]
                if options.json {
                    CLIOutput.printJSON(listed.events.map { recorded -> [String: Any] in
                        let event = recorded.event ?? FeedbackEvent()
                        return [
                            "sequence": recorded.sequence, "event_id": event.eventId, "user_id": event.userId,
                            "item_id": event.itemId, "kind": names[event.kind] ?? "unspecified", "value": event.value,
                            "at_ms": event.atMs, "served_version": event.servedVersion,
                            "recorded_at_ms": recorded.recordedAtMs,
                        ]
                    })
                    return
                }
                CLIOutput.printTable(
                    ["SEQ", "USER", "ITEM", "KIND", "VALUE", "VERSION", "AT"],
                    listed.events.map { recorded in
                        let event = recorded.event ?? FeedbackEvent()
                        return [
                            String(recorded.sequence), event.userId, event.itemId, names[event.kind] ?? "?",
                            String(event.value), event.servedVersion == 0 ? "-" : String(event.servedVersion),
                            CLIOutput.time(event.atMs),
                        ]
                    })
            }
        }
    }
}
