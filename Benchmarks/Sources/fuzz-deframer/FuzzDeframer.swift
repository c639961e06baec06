// A libFuzzer target for the gRPC message deframer and the protobuf-c decoders behind the
// interop and health messages: arbitrary bytes arrive in 1–3 chunks, as DATA frames would, and
// every message they complete is decoded as SimpleRequest, StreamingOutputCallRequest and
// HealthCheckRequest. Errors are expected; crashes, sanitizer reports and broken invariants are bugs.
//
// Built for fuzzing by scripts/fuzz.sh; in a plain build a corpus replayer (see FuzzDriver).
import AIMassInterop
import FuzzDriver
import RPCCore
import RPCHTTP2
import RPCHealth

/// Largest message the fuzzed deframer accepts (after decompression).
let maxMessageSize = 64 * 1024

/// Runs one input. The first byte picks the number of chunks (1–3), the next two where to split.
func fuzzOne(_ input: UnsafeRawBufferPointer) {
    var chunkCount = 1
    var splits: [UInt8] = []
    var body = input
    if input.count >= 3 {
        chunkCount = Int(input[0] % 3) + 1
        splits = [input[1], input[2]]
        body = UnsafeRawBufferPointer(rebasing: input[3...])
    }
    // Chunk boundaries: proportional positions in the body, in order.
    var boundaries = [0]
    for index in 0..<(chunkCount - 1) {
        boundaries.append(max(boundaries.last!, body.count * Int(splits[index]) / 255))
    }
    boundaries.append(body.count)

    var deframer = MessageDeframer(maxMessageSize: maxMessageSize, gzipEnabled: true)
    var delivered = 0
    for index in 0..<(boundaries.count - 1) {
        let chunk = UnsafeRawBufferPointer(rebasing: body[boundaries[index]..<boundaries[index + 1]])
        let messages: [InboundMessage]
        do throws(RPCError) {
            messages = try deframer.append(chunk)
        } catch {
            // The call would end here with this status; only these two are legitimate.
            precondition(
                error.code == .internalError || error.code == .resourceExhausted,
                "unexpected deframer status \(error.code)"
            )
            return
        }
        for message in messages {
            precondition(message.bytes.count <= maxMessageSize, "a message above the limit got through")
            decode(message.bytes)
            delivered += 1
        }
    }
    // Framed bytes always need at least 5 bytes per message.
    precondition(delivered * 5 <= body.count, "more messages than the bytes allow")
}

/// Decodes a message as each request type; a message that decodes must survive a re-encoding.
func decode(_ bytes: [UInt8]) {
    roundTrip(SimpleRequest.self, bytes)
    roundTrip(StreamingOutputCallRequest.self, bytes)
    roundTrip(HealthCheckRequest.self, bytes)
}

func roundTrip<Message: WireMessage & Equatable>(_ type: Message.Type, _ bytes: [UInt8]) {
    guard let message = try? Message(wireBytes: bytes) else { return }
    let again = try? Message(wireBytes: message.wireBytes())
    precondition(again == message, "\(Message.self) changed through a re-encoding")
}

@main
enum FuzzDeframer {
    static func main() {
        FuzzDriver.run(name: "fuzz-deframer", fuzzOne)
    }
}
