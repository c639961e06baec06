import AIMassAPI
import ArgumentParser
@preconcurrency import Foundation
import ModelRegistry
import RPCCore

/// `aimass token …`: API tokens, through the server's `aimass.v1.Access` service while it runs; `create --offline`
/// and `group` open the data directory itself instead (the server holds an exclusive lock on it: run them while it
/// is stopped, or before its first start).
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self, Group.self]
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
                Asks the server (Access/CreateToken; an admin may create tokens for anyone, a user for \
                themselves), creating the user first when it is missing and the caller is an admin. The token is \
                printed once on stdout; only its hash is stored. Grant the user a role with `aimass model grant`.
                A scoped token (--role, --model) never acts as an admin; an expiring one (--ttl) stops working then.

                With --offline the registry in --data-dir is opened directly instead (creating it and its admin \
                token on first use), so the server must not be running on that directory.

                Example:
                  aimass token create --user bob --ttl 30d --role reader --model movies
                  AIMASS_TOKEN=$(aimass token create --user ci --label pipeline) aimass model list
                  aimass token create --user bob --offline --data-dir ./aimass-data
                """
        )

        @OptionGroup var options: ClientOptions

        @Option(help: "The user the token authenticates as (created if missing; default: the caller).")
        var user: String?

        @Flag(help: "Create the user as a global admin (only when creating it).")
        var admin = false

        @Option(help: "A note kept with the token.")
        var label: String = ""

        @Option(help: "How long the token works: 90s, 30m, 12h, 7d (default: until revoked).")
        var ttl: String?

        @Option(help: "The highest role the token exercises: reader, writer or owner.")
        var role: String?

        @Option(name: .customLong("model"), help: "A model the token may reach (repeatable; default: every model).")
        var models: [String] = []

        @Option(help: "Calls per second the token may make (default: no limit).")
        var rate: UInt32 = 0

        @Flag(help: "Open the registry in --data-dir directly (the server must be stopped).")
        var offline = false

        func run() async throws {
            let ttlMs = try ttl.map { text throws(ValidationError) in try Self.milliseconds(text) } ?? 0
            let scope = role == nil && models.isEmpty ? nil : AIMassAPI.TokenScope(roleCeiling: role ?? "", models: models)
            if offline {
                try issueOffline(ttlMs: ttlMs)
                return
            }
            await options.run { client in
                let request = CreateTokenRequest(
                    user: user ?? "", label: label, ttlMs: ttlMs, scope: scope, requestsPerSecond: rate)
                let created: CreateTokenResponse
                do {
                    created = try await client.unary(AccessMethods.createToken, request)
                } catch let error as RPCError where error.code == .notFound && user != nil {
                    let _: AIMassAPI.User = try await client.unary(
                        AccessMethods.createUser, CreateUserRequest(name: user ?? "", admin: admin))
                    created = try await client.unary(AccessMethods.createToken, request)
                }
                if options.json {
                    var form = JSONForm.token(created.token ?? Token())
                    form["secret"] = created.secret
                    CLIOutput.printJSON(form)
                } else {
                    print(created.secret)
                }
            }
        }

        /// `90s`, `30m`, `12h`, `7d` in milliseconds.
        static func milliseconds(_ text: String) throws(ValidationError) -> Int64 {
            let units: [Character: Int64] = ["s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
            guard let unit = text.last.flatMap({ units[$0] }), let count = Int64(text.dropLast()), count > 0,
                count <= Int64.max / unit
            else { throw ValidationError("--ttl must be a positive number followed by s, m, h or d (got '\(text)')") }
            return count * unit
        }

        private func issueOffline(ttlMs: Int64) throws {
            let directory =
                options.dataDirectory ?? ProcessInfo.processInfo.environment["AIMASS_DATA_DIR"] ?? "./aimass-data"
            guard let user else { throw ValidationError("--offline needs --user") }
            if let prefix = ModelRegistry.replicatedPrefix(dataDirectory: directory) {
                CLIOutput.fail(
                    "FAILED_PRECONDITION: \(directory) holds a copy of the registry in etcd (prefix \(prefix)): a token "
                        + "written there alone would be lost at the copy's next reload; create it with `aimass token "
                        + "create` against the control planes (--server)")
            }
            let scope = RegistryTokenScope(
                roleCeiling: try role.map { name throws(ValidationError) in
                    guard let role = RegistryRole(name: name) else {
                        throw ValidationError("--role must be reader, writer or owner (got '\(name)')")
                    }
                    return role
                }, models: models)
            let expiresAt = ttlMs == 0 ? nil : Date(timeIntervalSinceNow: Double(ttlMs) / 1000)
            let result = Result { () throws(RegistryError) -> String in
                let registry = try ModelRegistry.open(dataDirectory: directory)
                defer { registry.close() }
                let admin = try registry.adminPrincipalFromTokenFile()
                let exists = (try? registry.getUser(user, by: admin)) != nil
                if !exists { try registry.createUser(user, isAdmin: self.admin, by: admin) }
                return try registry.createToken(
                    for: user, label: label, expiresAt: expiresAt, scope: scope, requestsPerSecond: rate, by: admin
                ).token
            }
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
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens (never their secret): a user's, or every user's for an admin (yours otherwise).",
            discussion: """
                Example:
                  aimass token list --user bob
                  aimass token list --json
                """
        )
        @OptionGroup var options: ClientOptions

        @Option(help: "Whose tokens (default: everyone's for an admin, else your own).")
        var user: String?

        func run() async throws {
            await options.run { client in
                let listed: ListTokensResponse = try await client.unary(
                    AccessMethods.listTokens, ListTokensRequest(user: user ?? ""))
                if options.json {
                    CLIOutput.printJSON(listed.tokens.map(JSONForm.token))
                    return
                }
                CLIOutput.printTable(
                    ["ID", "USER", "LABEL", "SCOPE", "CREATED", "EXPIRES", "LAST USED", "REVOKED"],
                    listed.tokens.map { token in
                        let scope = token.scope.map { scope in
                            ([scope.roleCeiling].filter { !$0.isEmpty } + scope.models).joined(separator: " ")
                        }
                        return [
                            String(token.id), token.user, token.label, scope ?? "-", CLIOutput.time(token.createdAtMs),
                            CLIOutput.time(token.expiresAtMs), CLIOutput.time(token.lastUsedAtMs),
                            CLIOutput.time(token.revokedAtMs),
                        ]
                    })
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by id: every later call with it fails with UNAUTHENTICATED.",
            discussion: """
                Example:
                  aimass token revoke 7
                """
        )
        @OptionGroup var options: ClientOptions

        @Argument(help: "The token's id (from `aimass token list`).")
        var id: Int64

        func run() async throws {
            await options.run { client in
                let token: Token = try await client.unary(AccessMethods.revokeToken, RevokeTokenRequest(id: id))
                if options.json { CLIOutput.printJSON(JSONForm.token(token)) } else { print("revoked token \(token.id) of \(token.user)") }
            }
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
        case .unavailable: "UNAVAILABLE"
        default: "INTERNAL"
        }
    }
}
