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

// No keepalive timer: it ticks every 30 s, and the hour each input's loop is advanced (below) ran 120 ticks, half of
// the harness's time per input (perf) and nothing of the header path.
let server = RPCServer(
    configuration: .defaults {
        $0.maxHeaderListSize = 4096
        $0.connection.keepaliveInterval = nil
    },
    services: [EchoService()]
)
let peer: SocketAddress = {
    do { return try SocketAddress(ipAddress: "127.0.0.1", port: 1) } catch { preconditionFailure("\(error)") }
}()
let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

/// Appends one frame: the 9-byte header, then `payload`.
func writeFrame(
    into buffer: inout ByteBuffer, type: UInt8, flags: UInt8, stream: UInt32, payload: UnsafeRawBufferPointer
) {
    let length = UInt32(payload.count)
    buffer.writeInteger(UInt8(length >> 16 & 0xFF))
    buffer.writeInteger(UInt16(length & 0xFFFF))
    buffer.writeInteger(type)
    buffer.writeInteger(flags)
    buffer.writeInteger(stream & 0x7FFF_FFFF)
    buffer.writeBytes(payload)
}

/// A header block as one HEADERS frame and as many CONTINUATION frames as its size needs (16 KiB each).
func writeHeaderFrames(into buffer: inout ByteBuffer, _ block: UnsafeRawBufferPointer, stream: UInt32, endStream: Bool) {
    var start = 0
    repeat {
        let end = min(block.count, start + 16_384)
        let endHeaders: UInt8 = end == block.count ? 0x4 : 0
        let chunk = UnsafeRawBufferPointer(rebasing: block[start..<end])
        if start == 0 {
            writeFrame(into: &buffer, type: 0x1, flags: endHeaders | (endStream ? 0x1 : 0), stream: stream, payload: chunk)
        } else {
            writeFrame(into: &buffer, type: 0x9, flags: endHeaders, stream: stream, payload: chunk)
        }
        start = end
    } while start < block.count
}

func fuzzOne(_ input: UnsafeRawBufferPointer) {
    guard input.count >= 3 else { return }
    let blockCount = Int(input[0] % 3) + 1
    let withMessage = input[0] & 0x80 != 0
    let body = UnsafeRawBufferPointer(rebasing: input[3...])
    var boundaries = [0]
    for index in 0..<(blockCount - 1) {
        boundaries.append(max(boundaries[boundaries.count - 1], body.count * Int(input[1 + index]) / 255))
    }
    boundaries.append(body.count)

    let channel = EmbeddedChannel()
    var bytes = channel.allocator.buffer(capacity: preface.count + body.count + 9 * (body.count / 16_384 + 8))
    bytes.writeBytes(preface)
    writeFrame(into: &bytes, type: 0x4, flags: 0, stream: 0, payload: UnsafeRawBufferPointer(start: nil, count: 0))
    let message: [UInt8] = [0, 0, 0, 0, 1, 7]
    for index in 0..<blockCount {
        let stream = UInt32(2 * index + 1)
        let block = UnsafeRawBufferPointer(rebasing: body[boundaries[index]..<boundaries[index + 1]])
        writeHeaderFrames(into: &bytes, block, stream: stream, endStream: !withMessage)
        if withMessage {
            message.withUnsafeBytes { writeFrame(into: &bytes, type: 0x0, flags: 0x1, stream: stream, payload: $0) }
        }
    }

    do {
        channel.connect(to: peer, promise: nil)
        try server._serveConnection(on: channel)
    } catch {
        preconditionFailure("the embedded connection failed: \(error)")
    }
    // The server may close the connection while reading (a protocol error): the write then reports it.
    _ = try? channel.writeInbound(bytes)
    channel.embeddedEventLoop.run()
    // Whatever the input, the server answered (at least its SETTINGS) in whole, well-formed frames.
    var output = channel.allocator.buffer(capacity: 0)
    while var buffer = try? channel.readOutbound(as: ByteBuffer.self) { output.writeBuffer(&buffer) }
    var frames = 0
    while output.readableBytes >= 9, let high = output.readInteger(as: UInt8.self),
        let low = output.readInteger(as: UInt16.self)
    {
        let length = Int(high) << 16 | Int(low)
        output.moveReaderIndex(forwardBy: 6)  // type, flags, stream
        precondition(length <= 16_384 && output.readableBytes >= length, "a frame of \(length) bytes was cut")
        output.moveReaderIndex(forwardBy: length)
        frames += 1
    }
    precondition(output.readableBytes == 0, "the server wrote a partial frame header")
    precondition(frames > 0, "the server wrote nothing")
    // Run what the server scheduled (a call's grpc-timeout, a connection closed after GOAWAY is closed for good a
    // second later), with the connection open and again once closed: an embedded loop runs timers only when told to,
    // and one never run leaks its task.
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
