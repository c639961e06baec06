// A libFuzzer target for the server's header path: HPACK blocks of arbitrary bytes reach a real server connection
// (RPCServer's own pipeline on an EmbeddedChannel, no socket) in HEADERS and CONTINUATION frames, so nghttp2 decodes
// them and RPCHTTP2 handles what comes out: pseudo-headers, content-type, grpc-timeout, grpc-encoding, metadata
// (base64 `-bin` values), the header-list limit and the connection's abuse limits. The route answers at once on the
// event loop, so a whole call runs inside one input. Crashes, sanitizer reports and broken invariants are bugs.
//
// Input: byte 0 picks the number of header blocks (1–3) and whether each request is followed by an empty message;
// bytes 1–2 where the rest is split into blocks. The blocks go on streams 1, 3, 5 of one connection, so the
// dynamic table of one block is seen by the next.
//
// Built for fuzzing by scripts/fuzz.sh; in a plain build a corpus replayer (see FuzzDriver).
import FuzzDriver
import NIOCore
import NIOEmbedded
import RPCCore
import RPCHTTP2

/// A message that is its bytes.
struct Bytes: WireMessage, Equatable {
    var bytes: [UInt8]
    init(bytes: [UInt8]) { self.bytes = bytes }
    init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) { bytes = Array(wireBytes) }
    func wireBytes() -> [UInt8] { bytes }
}

/// One method, answered on the event loop with what came in, its metadata counted into the response.
struct EchoService: RPCService {
    func registerMethods(with router: inout RPCRouter) {
        router.registerInlineUnary(MethodDescriptor(service: "fuzz.Echo", method: "Echo")) {
            (request: Bytes, context: ServerContext) throws(RPCError) -> Bytes in
            Bytes(bytes: request.bytes + [UInt8(truncatingIfNeeded: context.requestMetadata.count)])
        }
    }
}

let server = RPCServer(configuration: .defaults { $0.maxHeaderListSize = 4096 }, services: [EchoService()])
let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + frame(type: 0x4, flags: 0, stream: 0, payload: [])

func frame(type: UInt8, flags: UInt8, stream: UInt32, payload: ArraySlice<UInt8>) -> [UInt8] {
    let length = UInt32(payload.count)
    return [UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF), type, flags]
        + [UInt8(stream >> 24 & 0x7F), UInt8(stream >> 16 & 0xFF), UInt8(stream >> 8 & 0xFF), UInt8(stream & 0xFF)]
        + payload
}

/// A header block as one HEADERS frame and as many CONTINUATION frames as its size needs (16 KiB each).
func headerFrames(_ block: ArraySlice<UInt8>, stream: UInt32, endStream: Bool) -> [UInt8] {
    var out: [UInt8] = []
    var rest = block
    var first = true
    repeat {
        let chunk = rest.prefix(16_384)
        rest = rest.dropFirst(chunk.count)
        let endHeaders: UInt8 = rest.isEmpty ? 0x4 : 0
        out += first
            ? frame(type: 0x1, flags: endHeaders | (endStream ? 0x1 : 0), stream: stream, payload: chunk)
            : frame(type: 0x9, flags: endHeaders, stream: stream, payload: chunk)
        first = false
    } while !rest.isEmpty
    return out
}

func fuzzOne(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 3 else { return }
    let blockCount = Int(input[0] % 3) + 1
    let withMessage = input[0] & 0x80 != 0
    let body = Array(input[3...])
    var boundaries = [0]
    for index in 0..<(blockCount - 1) {
        boundaries.append(max(boundaries[boundaries.count - 1], body.count * Int(input[1 + index]) / 255))
    }
    boundaries.append(body.count)

    var bytes = preface
    for index in 0..<blockCount {
        let stream = UInt32(2 * index + 1)
        bytes += headerFrames(body[boundaries[index]..<boundaries[index + 1]], stream: stream, endStream: !withMessage)
        if withMessage { bytes += frame(type: 0x0, flags: 0x1, stream: stream, payload: [0, 0, 0, 0, 1, 7]) }
    }

    let channel = EmbeddedChannel()
    do {
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1), promise: nil)
        try server._serveConnection(on: channel)
    } catch {
        preconditionFailure("the embedded connection failed: \(error)")
    }
    // The server may close the connection while reading (a protocol error): the write then reports it.
    _ = try? channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    channel.embeddedEventLoop.run()
    // Whatever the input, the server answered (at least its SETTINGS) in whole, well-formed frames.
    var output = channel.allocator.buffer(capacity: 0)
    while var buffer = try? channel.readOutbound(as: ByteBuffer.self) { output.writeBuffer(&buffer) }
    var frames = 0
    while let header = output.readBytes(length: 9) {
        let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
        precondition(length <= 16_384 && output.readableBytes >= length, "a frame of \(length) bytes was cut")
        output.moveReaderIndex(forwardBy: length)
        frames += 1
    }
    precondition(output.readableBytes == 0, "the server wrote a partial frame header")
    precondition(frames > 0, "the server wrote nothing")
    // Run what the server scheduled (a connection closed after GOAWAY is closed for good a second later): an
    // embedded loop runs timers only when told to, and one never run leaks its task.
    channel.embeddedEventLoop.advanceTime(by: .hours(1))
    _ = try? channel.finish()
    channel.embeddedEventLoop.advanceTime(by: .hours(1))
}

@main
enum FuzzHeaders {
    static func main() {
        FuzzDriver.run(name: "fuzz-headers", fuzzOne)
    }
}
