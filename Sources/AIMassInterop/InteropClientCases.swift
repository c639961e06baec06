import RPCCore
import RPCHTTP2

/// The official interop client cases, run with our client against any interop server.
///
/// Each case asserts what the interop test descriptions require and throws
/// ``InteropFailure`` with the reason when the server does not comply.
public enum InteropClientCase: String, CaseIterable, Sendable {
    case emptyUnary = "empty_unary"
    case largeUnary = "large_unary"
    case clientCompressedUnary = "client_compressed_unary"
    case serverCompressedUnary = "server_compressed_unary"
    case clientStreaming = "client_streaming"
    case clientCompressedStreaming = "client_compressed_streaming"
    case serverStreaming = "server_streaming"
    case serverCompressedStreaming = "server_compressed_streaming"
    case pingPong = "ping_pong"
    case emptyStream = "empty_stream"
    case customMetadata = "custom_metadata"
    case statusCodeAndMessage = "status_code_and_message"
    case specialStatusMessage = "special_status_message"
    case unimplementedMethod = "unimplemented_method"
    case unimplementedService = "unimplemented_service"
    case cancelAfterBegin = "cancel_after_begin"
    case cancelAfterFirstResponse = "cancel_after_first_response"
    case timeoutOnSleepingServer = "timeout_on_sleeping_server"

    /// Runs the case against the server behind `client`.
    public func run(with client: RPCClient) async throws {
        let cases = InteropCases(client: client)
        switch self {
        case .emptyUnary: try await cases.emptyUnary()
        case .largeUnary: try await cases.largeUnary()
        case .clientCompressedUnary: try await cases.clientCompressedUnary()
        case .serverCompressedUnary: try await cases.serverCompressedUnary()
        case .clientStreaming: try await cases.clientStreaming()
        case .clientCompressedStreaming: try await cases.clientCompressedStreaming()
        case .serverStreaming: try await cases.serverStreaming()
        case .serverCompressedStreaming: try await cases.serverCompressedStreaming()
        case .pingPong: try await cases.pingPong()
        case .emptyStream: try await cases.emptyStream()
        case .customMetadata: try await cases.customMetadata()
        case .statusCodeAndMessage: try await cases.statusCodeAndMessage(message: "test status message")
        case .specialStatusMessage:
            try await cases.statusCodeAndMessage(message: "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n")
        case .unimplementedMethod: try await cases.unimplemented(service: TestService.serviceName)
        case .unimplementedService: try await cases.unimplemented(service: "grpc.testing.UnimplementedService")
        case .cancelAfterBegin: try await cases.cancelAfterBegin()
        case .cancelAfterFirstResponse: try await cases.cancelAfterFirstResponse()
        case .timeoutOnSleepingServer: try await cases.timeoutOnSleepingServer()
        }
    }
}

/// Why an interop case failed.
public struct InteropFailure: Error, CustomStringConvertible {
    public var description: String
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw InteropFailure(description: message()) }
}

/// Runs `body` and checks it fails with `code`.
func expectStatus(_ code: StatusCode, _ context: String, _ body: () async throws -> Void) async throws -> RPCError {
    do {
        try await body()
    } catch let error as RPCError {
        try expect(error.code == code, "\(context): expected \(code), got \(error.code): \(error.message)")
        return error
    }
    throw InteropFailure(description: "\(context): expected \(code), the call succeeded")
}
