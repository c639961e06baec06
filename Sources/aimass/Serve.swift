import ArgumentParser
@preconcurrency import Foundation
import Logging
import AIMassServer
import RPCHTTP2

/// `aimass serve`: runs the platform on a data directory.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the AI Mass server.",
        discussion: """
            Examples:
              aimass serve --port 50051 --data-dir ./data
              aimass serve --port 0            # picks a free port and prints it
            """
    )

    @Option(help: "The address to bind.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port: Int = 50051

    @Option(name: .customLong("data-dir"), help: "Where metadata and artifacts are stored.")
    var dataDirectory: String = "./aimass-data"

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "aimass")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let platform = try await Platform.start(
            configuration: .init(host: host, port: port, dataDirectory: dataDirectory),
            logger: logger
        )
        CLIOutput.write("aimass listening on \(host):\(platform.address.port ?? port)\n", to: stdout)
        await TerminationSignal.wait()
        await platform.shutdown()
    }
}
