import Foundation
import Testing

@testable import ModelRegistry

@Suite("Control-plane store")
struct ControlPlaneStoreTests {
    @Test("Changes survive a reopen; nil deletes; a batch is applied whole")
    func roundTrip() throws {
        let directory = NSTemporaryDirectory() + "aimass-cp-store-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try ControlPlaneStore.open(dataDirectory: directory)
        try store.apply([
            .init(namespace: "deployment", key: "movies@1", value: #"{"min":1}"#),
            .init(namespace: "deployment", key: "movies@prod", value: #"{"min":2}"#),
            .init(namespace: "counter", key: "mesh_revision", value: "1000"),
        ])
        try store.apply([
            .init(namespace: "deployment", key: "movies@1", value: nil),
            .init(namespace: "counter", key: "mesh_revision", value: "2000"),
        ])
        store.close()
        #expect(throws: RegistryError.self) { try store.load() }

        let reopened = try ControlPlaneStore.open(dataDirectory: directory)
        defer { reopened.close() }
        let entries = try reopened.load()
        #expect(entries == ["deployment": ["movies@prod": #"{"min":2}"#], "counter": ["mesh_revision": "2000"]])
        #expect(reopened.path.hasSuffix("/control-plane.sqlite"))
    }
}
