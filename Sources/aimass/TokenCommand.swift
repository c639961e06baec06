import ArgumentParser
@preconcurrency import Foundation
import ModelRegistry

/// `aimass token …`: local administration of users and tokens, on the data directory itself.
///
/// The proto has no user-management RPC, so these commands open the registry directly. The server holds an
/// exclusive lock on its data directory: run them while it is stopped (or before its first start).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage API tokens on a local data directory (while the server is stopped).",
        subcommands: [Create.self, Group.self]
    )

    struct Group: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a group (if needed) and add users to it (while the server is stopped).",
            discussion: """
                A group's role on a model (`aimass model grant MODEL group:NAME reader`) applies to every member.

                Example:
                  aimass token group analysts --member ana --member bob --data-dir ./aimass-data
                """
        )

        @Argument(help: "The group's name.")
        var name: String

        @Option(name: .customLong("member"), help: "A user to add (created if missing; repeatable).")
        var members: [String] = []

        @Option(name: .customLong("data-dir"), help: "The data directory (default: $AIMASS_DATA_DIR or ./aimass-data).")
        var dataDirectory: String?

        func run() async throws {
            let directory = dataDirectory ?? ProcessInfo.processInfo.environment["AIMASS_DATA_DIR"] ?? "./aimass-data"
            let result = Result { () throws(RegistryError) in try update(directory: directory) }
            if case .failure(let error) = result { CLIOutput.fail("\(error.code.grpcName): \(error.message)") }
            print("group \(name): \(members.joined(separator: ", "))")
        }

        private func update(directory: String) throws(RegistryError) {
            let registry = try ModelRegistry.open(dataDirectory: directory)
            defer { registry.close() }
            let admin = try registry.adminPrincipalFromTokenFile()
            if (try? registry.getGroup(name, by: admin)) == nil { _ = try registry.createGroup(name, by: admin) }
            for member in members {
                if (try? registry.getUser(member, by: admin)) == nil { _ = try registry.createUser(member, by: admin) }
                try registry.addToGroup(user: member, group: name, by: admin)
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user (if needed) and print a new API token for it.",
            discussion: """
                Opens the registry in --data-dir directly (creating it and its admin token on first use), so \
                the server must not be running on that directory. The token is printed once on stdout; only \
                its hash is stored. Grant the user a role with `aimass model grant`.

                Example:
                  aimass token create --user bob --data-dir ./aimass-data
                  AIMASS_TOKEN=$(aimass token create --user ci --label pipeline) aimass model list
                """
        )

        @Option(help: "The user the token authenticates as (created if missing).")
        var user: String

        @Flag(help: "Create the user as a global admin (only when creating it).")
        var admin = false

        @Option(help: "A note kept with the token.")
        var label: String = ""

        @Option(name: .customLong("data-dir"), help: "The data directory (default: $AIMASS_DATA_DIR or ./aimass-data).")
        var dataDirectory: String?

        func run() async throws {
            let directory = dataDirectory ?? ProcessInfo.processInfo.environment["AIMASS_DATA_DIR"] ?? "./aimass-data"
            let result = Result { () throws(RegistryError) -> String in try issue(directory: directory) }
            switch result {
            case .success(let token):
                print(token)
            case .failure(let error):
                var message = "\(error.code.grpcName): \(error.message)"
                if error.code == .failedPrecondition {
                    message += " (is `aimass serve` running on \(directory)? stop it first)"
                }
                CLIOutput.fail(message)
            }
        }

        /// Opens the registry, authenticates with its admin token, creates the user if missing, issues a token.
        private func issue(directory: String) throws(RegistryError) -> String {
            let registry = try ModelRegistry.open(dataDirectory: directory)
            defer { registry.close() }
            let admin = try registry.adminPrincipalFromTokenFile()
            let exists = (try? registry.getUser(user, by: admin)) != nil
            if !exists { try registry.createUser(user, isAdmin: self.admin, by: admin) }
            return try registry.createToken(for: user, label: label, by: admin).token
        }
    }
}

extension ModelRegistry {
    /// The admin principal, authenticated with the token the registry wrote to its data directory.
    func adminPrincipalFromTokenFile() throws(RegistryError) -> Principal {
        guard let text = try? String(contentsOfFile: adminTokenPath, encoding: .utf8) else {
            throw RegistryError(.failedPrecondition, "cannot read \(adminTokenPath)")
        }
        return try authenticate(token: text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

extension RegistryError.Code {
    /// The gRPC status name of the same class.
    var grpcName: String {
        switch self {
        case .invalidArgument: "INVALID_ARGUMENT"
        case .notFound: "NOT_FOUND"
        case .alreadyExists: "ALREADY_EXISTS"
        case .permissionDenied: "PERMISSION_DENIED"
        case .unauthenticated: "UNAUTHENTICATED"
        case .dataLoss: "DATA_LOSS"
        case .resourceExhausted: "RESOURCE_EXHAUSTED"
        case .failedPrecondition: "FAILED_PRECONDITION"
        default: "INTERNAL"
        }
    }
}
