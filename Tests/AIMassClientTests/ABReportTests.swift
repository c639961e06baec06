import AIMassAPI
import AIMassClient
import Testing

@Suite("A/B report")
struct ABReportTests {
    static func event(_ kind: FeedbackKind, version: UInt32, value: Double = 0) -> FeedbackEvent {
        FeedbackEvent(eventId: "e", model: "m", userId: "u", itemId: "i", kind: kind, value: value, servedVersion: version)
    }

    @Test("events are counted per served version, read page by page until an empty page")
    func counting() async throws {
        let events: [FeedbackEvent] =
            Array(repeating: Self.event(.view, version: 2), count: 10) + Array(repeating: Self.event(.click, version: 2), count: 5)
            + [Self.event(.rating, version: 3, value: 4), Self.event(.rating, version: 3, value: 5), Self.event(.purchase, version: 0)]
        let recorded = events.enumerated().map { RecordedFeedback(sequence: UInt64($0.offset + 1), event: $0.element) }
        var asked: [UInt64] = []
        let report = try await ABReport.read(model: "m") { request in
            asked.append(request.afterSequence)
            #expect(request.model == "m" && request.pageSize == ABReport.pageSize)
            // Pages of 7 events.
            return ListFeedbackResponse(events: Array(recorded.drop { $0.sequence <= request.afterSequence }.prefix(7)))
        }
        #expect(asked == [0, 7, 14, 18])
        #expect(report.rows.map(\.version) == [0, 2, 3])
        let two = try #require(report.outcomes[2])
        #expect((two.views, two.clicks, two.clickThrough) == (10, 5, 0.5))
        #expect(report.outcomes[3]?.meanRating == 4.5 && report.outcomes[3]?.clickThrough == nil)
        #expect(report.outcomes[0]?.purchases == 1)
    }

    @Test("Wilson's 95% interval: the published values for 0 of 10 and 5 of 10")
    func wilson() {
        var none = ABOutcome()
        none.views = 10
        // Wilson (1927) / Newcombe (1998): 0/10 → 0 to 0.2775; 5/10 → 0.2366 to 0.7634.
        #expect(none.clickThroughInterval.low == 0 && abs(none.clickThroughInterval.high - 0.2775) < 0.0001)
        var half = none
        half.clicks = 5
        #expect(abs(half.clickThroughInterval.low - 0.2366) < 0.0001 && abs(half.clickThroughInterval.high - 0.7634) < 0.0001)
        #expect(ABOutcome().clickThroughInterval.low == 0 && ABOutcome().clickThroughInterval.high == 0)
    }
}
