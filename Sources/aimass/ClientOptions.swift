import AIMassAPI
import Tracing
import Logging
import AIMassTracing
import ArgumentParser
@preconcurrency import Foundation
import RPCCore
import RPCHTTP2

/// Options shared by every `aimass model` subcommand.
struct ClientOptions: ParsableArguments {
    @Option(help: "The server, HOST:PORT (default: $AIMASS_SERVER, else 127.0.0.1:50051).")
    var server: String?

    @Option(help: "The API token (default: $AIMASS_TOKEN, else the admin.token file in --data-dir).")
    var token: String?

    @Option(name: .customLong("data-dir"), help: "Where to find admin.token (default: $AIMASS_DATA_DIR, else ./aimass-data).")
    var dataDirectory: String?

    @Flag(help: "Print the result as JSON.")
    var json = false

    @OptionGroup(title: "Tracing")
    var tracing: TracingOptions

    @Option(help: "Deadline of each call in seconds (uploads and downloads: none unless given).")
    var timeout: Double?

    @OptionGroup(title: "TLS")
    var tls: ClientTLSOptions

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The configuration file, read on first use (flags, then environment, then this file).
    var configFile: CLIConfigFile { CLIConfigFile.load(environment: environment) }

    func endpoint() -> (host: String, port: Int) {
        let text = server ?? environment["AIMASS_SERVER"] ?? configFile["server"] ?? "127.0.0.1:50051"
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), port > 0,
            port < 65536
        else {
            CLIOutput.fail("--server must be HOST:PORT, got '\(text)'")
        }
        return (String(text[..<colon]), port)
    }

    func resolvedToken() -> String {
        if let token, !token.isEmpty { return token }
        if let token = environment["AIMASS_TOKEN"], !token.isEmpty { return token }
        let config = configFile
        if let token = config["token"], !token.isEmpty { return token }
        let directory = dataDirectory ?? environment["AIMASS_DATA_DIR"] ?? config["data-dir"] ?? "./aimass-data"
        let path = (directory as NSString).appendingPathComponent("admin.token")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            CLIOutput.fail(
                "no token: pass --token, set AIMASS_TOKEN, or point --data-dir at the server's data directory "
                    + "(no readable \(path))"
            )
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Call options with the bearer token and, for unary calls, the deadline (30 s unless --timeout).
    func callOptions(transfer: Bool = false) -> CallOptions {
        let seconds = timeout ?? configFile["timeout"].flatMap(Double.init) ?? (transfer ? nil : 30)
        return CallOptions(
            timeout: seconds.map { .milliseconds(Int64($0 * 1000)) },
            metadata: ["authorization": .string("Bearer \(resolvedToken())")]
        )
    }

    /// Runs `body` with a connected client; RPC errors print as `error: CODE: message` and exit 1. A standby control
    /// plane (high availability on etcd) answers UNAVAILABLE naming the leader in `aimass-leader`: `body` then runs
    /// once more against that leader.
    func run(_ body: (APIClient) async throws -> Void) async {
        var (host, port) = endpoint()
        // With --otlp-endpoint the command is one client span, and every call it makes carries it as the parent.
        let tracing = self.tracing.start(serviceName: "aimass-cli", logger: Logger(label: "aimass.cli"))
        var outcome: Result<Void, any Error> = .success(())
        for attempt in 0..<2 {
            outcome = await attemptRun(host: host, port: port, tracing: tracing, body)
            guard attempt == 0, case .failure(let error as RPCError) = outcome, error.code == .unavailable,
                let leader = error.metadata.firstString(forKey: "aimass-leader"),
                let colon = leader.lastIndex(of: ":"), let leaderPort = Int(leader[leader.index(after: colon)...]),
                leader != "\(host):\(port)"
            else { break }
            CLIOutput.write("note: \(host):\(port) is a standby; following the leader at \(leader)\n", to: Glibc.stderr)
            (host, port) = (String(leader[..<colon]), leaderPort)
        }
        await tracing?.finish()
        switch outcome {
        case .success: return
        case .failure(let error as RPCError): CLIOutput.fail(error, server: "\(host):\(port)")
        case .failure(let error as ExitCode): Foundation.exit(error.rawValue)
        case .failure(let error): CLIOutput.fail("\(error)")
        }
    }

    private func attemptRun(
        host: String, port: Int, tracing: TracingOptions.Tracing?, _ body: (APIClient) async throws -> Void
    ) async -> Result<Void, any Error> {
        let client = RPCClient(
            host: host, port: port,
            configuration: .defaults { $0.tls = tls.configuration(environment: environment, configFile: configFile) },
            interceptors: tracing.map { [TracingClientInterceptor(tracer: $0.tracer)] } ?? []
        )
        let api = APIClient(client: client, options: self)
        let outcome: Result<Void, any Error>
        do {
            if let tracing {
                let command = (["aimass"] + CommandLine.arguments.dropFirst().prefix { !$0.hasPrefix("-") }.prefix(2))
                    .joined(separator: " ")
                try await tracing.tracer.withSpan(command, ofKind: .client) { _ in try await body(api) }
            } else {
                try await body(api)
            }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await client.close()
        return outcome
    }
}

/// Typed calls of the aimass.v1 services through our ``RPCClient``, with the CLI's call options.
struct APIClient {
    let client: RPCClient
    let options: ClientOptions

    /// Calls a unary method, e.g. ``ModelRegistryMethods/getModel``.
    func unary<Request: WireMessage, Response: WireMessage>(_ method: MethodDescriptor, _ request: Request) async throws -> Response {
        try await client.unary(method, request: request, options: options.callOptions())
    }

    /// Calls a client-streaming method (no deadline unless --timeout): `send` writes the messages. When sending
    /// fails because the server ended the call early, the server's status is what is thrown.
    func clientStreaming<Request: WireMessage, Response: WireMessage>(
        _ method: MethodDescriptor, _ send: (ClientCall<Request, Response>) async throws -> Void
    ) async throws -> Response {
        let call: ClientCall<Request, Response> = try await client.makeCall(
            method, options: options.callOptions(transfer: true))
        do {
            try await send(call)
            call.finishSending()
        } catch {
            _ = try await call.next()
            throw error
        }
        guard let response = try await call.next() else {
            throw RPCError(code: .internalError, message: "the server sent no response to \(method)")
        }
        return response
    }
}

/// Parses `3`, `latest`, `production` into a selector.
func versionSelector(_ text: String?) -> VersionSelector? {
    guard let text, !text.isEmpty else { return nil }
    if let number = UInt32(text), number > 0 { return VersionSelector(number: number) }
    return VersionSelector(alias: text)
}

/// Parses `KEY=VALUE` options.
func keyValues(_ pairs: [String], option: String) -> [String: String] {
    var result: [String: String] = [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            CLIOutput.fail("--\(option) expects KEY=VALUE, got '\(pair)'")
        }
        result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
    }
    return result
}

func metricValues(_ pairs: [String]) -> [String: Double] {
    keyValues(pairs, option: "metric").mapValues { text in
        guard let value = Double(text), value.isFinite else { CLIOutput.fail("--metric value '\(text)' is not a number") }
        return value
    }
}

/// Parses `NAME:TYPE` schema fields.
func schemaFields(_ specs: [String], option: String) -> [SchemaField] {
    specs.map { spec in
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { CLIOutput.fail("--\(option) expects NAME:TYPE, got '\(spec)'") }
        return SchemaField(name: parts[0], type: parts[1])
    }
}

// MARK: JSON forms of the messages (field names as in the proto)

enum JSONForm {
    static func schema(_ fields: [SchemaField]) -> [[String: Any]] {
        fields.map { ["name": $0.name, "type": $0.type, "description": $0.description] }
    }

    static func model(_ m: AIMassAPI.Model) -> [String: Any] {
        [
            "name": m.name, "description": m.description, "created_at_ms": m.createdAtMs, "updated_at_ms": m.updatedAtMs,
            "latest_version": m.latestVersion, "author": m.author, "tags": m.tags,
            "input_schema": schema(m.inputSchema), "output_schema": schema(m.outputSchema), "metrics": m.metrics,
            "dependencies": m.dependencies, "size_bytes": m.sizeBytes, "intended_use": m.intendedUse,
            "annotations": m.annotations, "manifest": m.manifest, "aliases": m.aliases,
        ]
    }

    static func version(_ v: Version) -> [String: Any] {
        [
            "model": v.model, "number": v.number, "created_at_ms": v.createdAtMs, "author": v.author,
            "description": v.description, "size_bytes": v.sizeBytes, "sha256": v.sha256, "manifest": v.manifest,
            "metrics": v.metrics, "metrics_updated_at_ms": v.metricsUpdatedAtMs, "dependencies": v.dependencies,
            "input_schema": schema(v.inputSchema), "output_schema": schema(v.outputSchema),
            "annotations": v.annotations, "aliases": v.aliases,
        ]
    }

    static func change(_ c: FieldChange) -> [String: Any] {
        let kind: String =
            switch c.kind {
            case .added: "ADDED"
            case .removed: "REMOVED"
            case .changed: "CHANGED"
            default: "UNSPECIFIED"
            }
        return ["field": c.field, "old_value": c.oldValue, "new_value": c.newValue, "kind": kind]
    }

    static func aliasChange(_ c: AliasChange) -> [String: Any] {
        [
            "model": c.model, "alias": c.alias, "previous_version": c.previousVersion, "version": c.version,
            "principal": c.principal, "changed_at_ms": c.changedAtMs, "reason": c.reason,
        ]
    }

    static func roleName(_ role: AIMassAPI.Role) -> String {
        switch role {
        case .reader: "reader"
        case .writer: "writer"
        case .owner: "owner"
        case .none: "none"
        case .unspecified: "unspecified"
        }
    }

    static func permissions(_ p: PermissionsResponse) -> [String: Any] {
        ["model": p.model, "permissions": p.permissions.map { ["principal": $0.principal, "role": roleName($0.role)] }]
    }
}
