// The driver every fuzz target of this package shares. Built for fuzzing by scripts/fuzz.sh
// (`-sanitize=fuzzer,address -DFUZZING`), it hands the command line to libFuzzer's driver, which calls the target
// with each input. In a plain `swift build` the same executable is a corpus replayer: `fuzz-X FILE_OR_DIR...` runs
// each file through the target once (to reproduce a crash, or to check a corpus).

#if canImport(Glibc)
import Glibc
#endif
#if !FUZZING
import Foundation
#endif

/// The target being fuzzed: set once by ``FuzzDriver/run(name:_:)`` before any input arrives.
nonisolated(unsafe) private var target: (UnsafeRawBufferPointer) -> Void = { _ in }

/// libFuzzer's entry point (its own `main`, unused here, refers to it).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    target(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#if FUZZING
/// libFuzzer's driver (from libclang_rt.fuzzer, linked by `-sanitize=fuzzer`).
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

public enum FuzzDriver {
    /// Runs `body` on every input: libFuzzer's loop when built for fuzzing, else the files named on the command line.
    public static func run(name: String, _ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
        target = body
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzTestOneInput(data, size) })
        #else
        var count = 0
        for argument in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("\(name): no such file \(argument)\n".utf8))
                exit(2)
            }
            let paths =
                isDirectory.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: argument)) ?? []).sorted().map { "\(argument)/\($0)" }
                : [argument]
            for path in paths {
                guard let data = FileManager.default.contents(atPath: path) else { continue }
                [UInt8](data).withUnsafeBytes { body($0) }
                count += 1
            }
        }
        print("\(name): replayed \(count) input(s)")
        exit(0)
        #endif
    }
}
