import AIMassAPI
import ArgumentParser
import RPCCore

/// `aimass user …`: users, through the server's `aimass.v1.Access` service (admin).
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Create and list users (admin).",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user; give it a token with `aimass token create --user NAME`.",
            discussion: """
                Example:
                  aimass user create ana
                  aimass user create ops --admin
                """
        )
        @OptionGroup var options: ClientOptions

        @Argument(help: "The user's name.")
        var name: String

        @Flag(help: "Make the user a global admin.")
        var admin = false

        func run() async throws {
            await options.run { client in
                let user: AIMassAPI.User = try await client.unary(
                    AccessMethods.createUser, CreateUserRequest(name: name, admin: admin))
                if options.json { CLIOutput.printJSON(JSONForm.user(user)) } else { print("created user \(user.name)") }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every user.")
        @OptionGroup var options: ClientOptions

        func run() async throws {
            await options.run { client in
                let listed: ListUsersResponse = try await client.unary(AccessMethods.listUsers, ListUsersRequest())
                if options.json {
                    CLIOutput.printJSON(listed.users.map(JSONForm.user))
                    return
                }
                CLIOutput.printTable(
                    ["NAME", "ADMIN", "GROUPS", "CREATED"],
                    listed.users.map {
                        [$0.name, $0.admin ? "yes" : "no", $0.groups.joined(separator: ","), CLIOutput.time($0.createdAtMs)]
                    })
            }
        }
    }
}

/// `aimass audit`: the audit log of mutating calls (admin).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List the audit log: who changed what, when, and how it ended (admin).",
        discussion: """
            Example:
              aimass audit --user bob
              aimass audit --method aimass.v1.ModelRegistry/SetAlias --json
              aimass audit --method aimass.v1.Scheduler
            """
    )
    @OptionGroup var options: ClientOptions

    @Option(help: "Only this user's calls.")
    var user: String?

    @Option(help: "Only this method (package.Service/Method) or service (package.Service).")
    var method: String?

    @Option(help: "Only events after this id.")
    var after: Int64 = 0

    @Option(help: "At most this many events (1 to 1000).")
    var limit: UInt32 = 100

    func run() async throws {
        await options.run { client in
            let listed: ListAuditEventsResponse = try await client.unary(
                AccessMethods.listAuditEvents,
                ListAuditEventsRequest(user: user ?? "", method: method ?? "", afterId: after, pageSize: limit))
            if options.json {
                CLIOutput.printJSON(listed.events.map(JSONForm.auditEvent))
                return
            }
            CLIOutput.printTable(
                ["ID", "TIME", "USER", "METHOD", "TARGET", "CODE", "MESSAGE"],
                listed.events.map {
                    [
                        String($0.id), CLIOutput.time($0.atMs), $0.user.isEmpty ? "-" : $0.user, $0.method,
                        $0.target.isEmpty ? "-" : $0.target, StatusCode(wireValue: $0.code).description, $0.message,
                    ]
                })
        }
    }
}

extension JSONForm {
    static func user(_ user: AIMassAPI.User) -> [String: Any] {
        ["name": user.name, "admin": user.admin, "created_at_ms": user.createdAtMs, "groups": user.groups]
    }

    static func token(_ token: Token) -> [String: Any] {
        var form: [String: Any] = [
            "id": token.id, "user": token.user, "label": token.label, "created_at_ms": token.createdAtMs,
            "expires_at_ms": token.expiresAtMs, "revoked_at_ms": token.revokedAtMs,
            "last_used_at_ms": token.lastUsedAtMs, "requests_per_second": token.requestsPerSecond,
        ]
        if let scope = token.scope { form["scope"] = ["role_ceiling": scope.roleCeiling, "models": scope.models] }
        return form
    }

    static func auditEvent(_ event: AIMassAPI.AuditEvent) -> [String: Any] {
        [
            "id": event.id, "at_ms": event.atMs, "user": event.user, "token_id": event.tokenId, "method": event.method,
            "target": event.target, "code": event.code, "message": event.message, "peer": event.peer,
        ]
    }
}
