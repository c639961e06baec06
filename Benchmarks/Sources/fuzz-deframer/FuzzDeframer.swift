// A libFuzzer target for the gRPC message deframer and the protobuf-c decoders behind the
// interop and health messages: arbitrary bytes arrive in 1–3 chunks, as DATA frames would, and
// every message they complete is decoded as SimpleRequest, StreamingOutputCallRequest and
// HealthCheckRequest. Errors are expected; crashes, sanitizer reports and broken invariants are bugs.
//
// Built for fuzzing by scripts/fuzz.sh (`-sanitize=fuzzer,address -DFUZZING`): libFuzzer then
// runs the fuzzing loop (through `LLVMFuzzerRunDriver`, see `FuzzMain`) and calls `LLVMFuzzerTestOneInput`. In a plain `swift build` the same target is
// a corpus replayer: `fuzz-deframer FILE_OR_DIR...` runs each file through ``fuzzOne(_:)``.
import AIMassInterop
import RPCCore
import RPCHTTP2
import RPCHealth

#if canImport(Glibc)
import Glibc
#endif
#if !FUZZING
import Foundation
#endif

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

/// The libFuzzer entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    fuzzOne(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if FUZZING
/// libFuzzer's driver (from libclang_rt.fuzzer, linked by `-sanitize=fuzzer`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// SwiftPM links executables with `main` renamed to this module's entry point, so libFuzzer's own
/// `main` is never used: this one hands the command line to libFuzzer's driver instead.
@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        let status = LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzz(data, size) }
        exit(status)
    }
}
#else
/// Without libFuzzer: replays files (or every file of directories) given as arguments.
@main
enum Replayer {
    static func main() {
        var count = 0
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("fuzz-deframer: no such file \(argument)\n".utf8))
                exit(2)
            }
            let paths =
                isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).sorted().map { "\(argument)/\($0)" }
                : [argument]
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                let bytes = [UInt8](data)
                bytes.withUnsafeBufferPointer { buffer in
                    if let base = buffer.baseAddress {
                        _ = fuzz(base, buffer.count)
                    } else {
                        fuzzOne(UnsafeRawBufferPointer(start: nil, count: 0))
                    }
                }
                count += 1
            }
        }
        print("fuzz-deframer: replayed \(count) input(s)")
    }
}
#endif
