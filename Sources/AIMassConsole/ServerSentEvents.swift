import AIMassAPI
import Foundation

/// How a Mesh/Watch event is written as a server-sent event (https://html.spec.whatwg.org/multipage/server-sent-events.html).
///
/// - a Snapshot is `event: snapshot`, or `event: reset` when the server no longer held the history the client
///   resumed from (the client must drop its view and rebuild it from this one);
/// - every other change is `event: mesh`; its `id:` is the Mesh revision, so a reconnecting client sends it back
///   as `Last-Event-ID` and receives only what it missed;
/// - a load report is `event: load` without an `id:` (ephemeral: it carries the current revision without
///   advancing it and is never replayed), and a heartbeat is a comment line that keeps proxies from closing the
///   stream;
/// - a stream the server ended with an error is `event: rpc-error` with `{"code", "message"}`.
enum ServerSentEvents {
    /// The first bytes of every stream: the reconnection delay browsers use.
    static let preamble = "retry: 2000\n\n"

    static func frame(_ event: MeshEvent) -> String {
        switch event.payload {
        case .heartbeat?:
            return ": heartbeat \(event.revision)\n\n"
        case .loadReported?:
            return "event: load\ndata: \(json(event))\n\n"
        case .snapshot(let snapshot)?:
            return "event: \(snapshot.reset ? "reset" : "snapshot")\nid: \(event.revision)\ndata: \(json(event))\n\n"
        default:
            return "event: mesh\nid: \(event.revision)\ndata: \(json(event))\n\n"
        }
    }

    static func errorFrame(code: String, message: String) -> String {
        "event: rpc-error\ndata: \(String(decoding: JSONForms.data(["code": code, "message": message]), as: UTF8.self))\n\n"
    }

    /// One line of JSON (JSONSerialization writes no newlines unless asked to pretty-print).
    private static func json(_ event: MeshEvent) -> String {
        String(decoding: JSONForms.data(JSONForms.meshEvent(event)), as: UTF8.self)
    }

    /// The revision to resume from: `Last-Event-ID` (what a browser sends when it reconnects), else `?since=`,
    /// else 0 (start with a snapshot). `nil` when either is not a revision number.
    static func resumeRevision(lastEventID: String?, since: String) -> UInt64? {
        if let lastEventID, !lastEventID.isEmpty { return UInt64(lastEventID.trimmingCharacters(in: .whitespaces)) }
        if since.isEmpty { return 0 }
        return UInt64(since)
    }
}
