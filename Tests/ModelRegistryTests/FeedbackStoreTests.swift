import Foundation
import Testing

@testable import ModelRegistry

@Suite("Feedback store")
struct FeedbackStoreTests {
    private func event(_ id: String, model: String = "m", user: String = "u1", kind: FeedbackStore.Kind = .click)
        -> FeedbackStore.Event
    {
        FeedbackStore.Event(
            eventID: id, model: model, userID: user, itemID: "i-\(id)", kind: kind, value: kind == .rating ? 4.5 : 1,
            atMs: 0, servedVersion: 3)
    }

    @Test("events are stored once per (model, id), listed in recording order, and survive a reopen")
    func recordAndList() throws {
        let fixture = try Fixture()
        let store = try FeedbackStore.open(dataDirectory: fixture.directory)
        #expect(try store.record([event("a"), event("b", kind: .rating), event("a", model: "other")]) == (3, 0))
        #expect(try store.record([event("b"), event("c")]) == (1, 1), "b was recorded before")
        let listed = try store.events(model: "m")
        #expect(listed.map(\.event.eventID) == ["a", "b", "c"])
        #expect(listed.map(\.sequence) == listed.map(\.sequence).sorted())
        #expect(listed[1].event.kind == .rating && listed[1].event.value == 4.5 && listed[1].event.servedVersion == 3)
        #expect(listed[0].event.atMs > 0, "no time given: the time it was recorded")
        #expect(try store.events(model: "m", afterSequence: listed[0].sequence, limit: 1).map(\.event.eventID) == ["b"])
        store.close()
        #expect(errorCode { _ = try store.events(model: "m") } == .failedPrecondition)
        let reopened = try FeedbackStore.open(dataDirectory: fixture.directory)
        defer { reopened.close() }
        #expect(try reopened.events(model: "m").count == 3)
        #expect(try reopened.events(model: "other").map(\.event.eventID) == ["a"])
    }
}
