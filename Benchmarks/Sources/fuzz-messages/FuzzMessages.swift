// A libFuzzer target for the protobuf-c decoders of the aimass.v1 requests that arrive from the network: the first
// byte picks the message (JoinRequest, UploadVersionRequest, WatchRequest, RecommendRequest), the rest is its wire
// form. Errors are expected; crashes, sanitizer reports and broken invariants are bugs. A message that decodes must
// survive a re-encoding: encoding it and decoding that gives the same message.
//
// Built for fuzzing by scripts/fuzz.sh; in a plain build a corpus replayer (see FuzzDriver).
import AIMassAPI
import FuzzDriver
import RPCCore

/// The messages fuzzed, in the order the first byte selects them.
let decoders: [@Sendable (UnsafeRawBufferPointer) -> Void] = [
    { roundTrip(JoinRequest.self, $0) },
    { roundTrip(UploadVersionRequest.self, $0) },
    { roundTrip(WatchRequest.self, $0) },
    { roundTrip(RecommendRequest.self, $0) },
]

func fuzzOne(_ input: UnsafeRawBufferPointer) {
    guard let selector = input.first else { return }
    decoders[Int(selector) % decoders.count](UnsafeRawBufferPointer(rebasing: input.dropFirst()))
}

func roundTrip<Message: WireMessage & Equatable>(_ type: Message.Type, _ bytes: UnsafeRawBufferPointer) {
    guard let message = try? Message(wireBytes: bytes) else { return }
    let encoded = message.wireBytes()
    guard let again = try? Message(wireBytes: encoded) else {
        preconditionFailure("\(Message.self): its own encoding does not decode")
    }
    // A NaN (a double field or map value) is unequal to itself: then the encodings are compared by size (a map's
    // entries may come out in another order).
    precondition(again == message || again.wireBytes().count == encoded.count, "\(Message.self) changed through a re-encoding")
}

@main
enum FuzzMessages {
    static func main() {
        FuzzDriver.run(name: "fuzz-messages", fuzzOne)
    }
}
