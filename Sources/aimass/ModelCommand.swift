import AIMassAPI
import ArgumentParser
@preconcurrency import Foundation
import ModelRegistry
import RPCCore
import RPCHTTP2

/// `aimass model …`: the model registry from the command line, over gRPC.
struct ModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Register, upload, download and manage models in the registry.",
        discussion: """
            Every subcommand talks to a server (--server, $AIMASS_SERVER, default 127.0.0.1:50051) with a \
            token (--token, $AIMASS_TOKEN, else admin.token in --data-dir / $AIMASS_DATA_DIR / ./aimass-data).
            """,
        subcommands: [
            Create.self, List.self, Show.self, Update.self, Upload.self, Download.self, Versions.self, Diff.self,
            AliasCmd.self, Delete.self, Grant.self, Revoke.self,
        ]
    )

    // MARK: create

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a new model (no versions yet).",
            discussion: """
                Example:
                  aimass model create movies-itemcf --description "item CF on MovieLens" --tag movies \\
                      --manifest algorithm=itemcf --manifest neighbours=50 --input user_id:string
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name: 1-64 characters of [A-Za-z0-9._-].") var name: String
        @Option(help: "Free-text description.") var description: String = ""
        @Option(name: .customLong("tag"), help: "A tag (repeatable).") var tags: [String] = []
        @Option(name: .customLong("manifest"), help: "A manifest entry KEY=VALUE (repeatable).") var manifest: [String] = []
        @Option(name: .customLong("annotation"), help: "An annotation KEY=VALUE (repeatable).") var annotations: [String] = []
        @Option(name: .customLong("dependency"), help: "A dependency (repeatable).") var dependencies: [String] = []
        @Option(name: .customLong("input"), help: "An input schema field NAME:TYPE (repeatable).") var input: [String] = []
        @Option(name: .customLong("output"), help: "An output schema field NAME:TYPE (repeatable).") var output: [String] = []
        @Option(help: "The intended use and its limits.") var intendedUse: String = ""

        func run() async throws {
            let model = AIMassAPI.Model(
                name: name, description: description, tags: tags, inputSchema: schemaFields(input, option: "input"),
                outputSchema: schemaFields(output, option: "output"), dependencies: dependencies,
                intendedUse: intendedUse, annotations: keyValues(annotations, option: "annotation"),
                manifest: keyValues(manifest, option: "manifest")
            )
            await options.run { client in
                let created: AIMassAPI.Model = try await client.unary(ModelRegistryMethods.createModel, CreateModelRequest(model: model))
                if options.json { CLIOutput.printJSON(JSONForm.model(created)) } else { print("created model \(created.name)") }
            }
        }
    }

    // MARK: list

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the models you can read (every page).",
            discussion: """
                Example:
                  aimass model list --tag movies
                  aimass model list --prefix movies- --json
                """
        )
        @OptionGroup var options: ClientOptions
        @Option(help: "Only models with this tag.") var tag: String = ""
        @Option(help: "Only models whose author is this principal, e.g. user:ana.") var author: String = ""
        @Option(help: "Only models whose name starts with this.") var prefix: String = ""

        func run() async throws {
            await options.run { client in
                var models: [AIMassAPI.Model] = []
                var token = ""
                repeat {
                    let page: ListModelsResponse = try await client.unary(
                        ModelRegistryMethods.listModels,
                        ListModelsRequest(pageSize: 500, pageToken: token, tag: tag, author: author, namePrefix: prefix)
                    )
                    models += page.models
                    token = page.nextPageToken
                } while !token.isEmpty
                if options.json {
                    CLIOutput.printJSON(["models": models.map(JSONForm.model)])
                    return
                }
                CLIOutput.printTable(
                    ["NAME", "LATEST", "SIZE", "AUTHOR", "ALIASES", "TAGS", "UPDATED"],
                    models.map { m in
                        [
                            m.name, m.latestVersion == 0 ? "-" : "\(m.latestVersion)", CLIOutput.bytes(m.sizeBytes), m.author,
                            m.aliases.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
                            m.tags.joined(separator: ","), CLIOutput.time(m.updatedAtMs),
                        ]
                    }
                )
            }
        }
    }

    // MARK: show

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a model's metadata, or one version's with --version.",
            discussion: """
                Example:
                  aimass model show movies-itemcf
                  aimass model show movies-itemcf --version production --json
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Option(help: "A version number or alias.") var version: String?

        func run() async throws {
            await options.run { client in
                if let version {
                    let v: Version = try await client.unary(
                        ModelRegistryMethods.getVersion, GetVersionRequest(model: name, version: versionSelector(version)))
                    if options.json { CLIOutput.printJSON(JSONForm.version(v)) } else { printVersion(v) }
                    return
                }
                let m: AIMassAPI.Model = try await client.unary(ModelRegistryMethods.getModel, GetModelRequest(name: name))
                if options.json { CLIOutput.printJSON(JSONForm.model(m)); return }
                print("name:           \(m.name)")
                print("description:    \(m.description)")
                print("author:         \(m.author)")
                print("created:        \(CLIOutput.time(m.createdAtMs))")
                print("updated:        \(CLIOutput.time(m.updatedAtMs))")
                print("latest version: \(m.latestVersion == 0 ? "-" : "\(m.latestVersion)") (\(CLIOutput.bytes(m.sizeBytes)))")
                print("tags:           \(m.tags.joined(separator: ", "))")
                print("aliases:        \(m.aliases.sorted { $0.key < $1.key }.map { "\($0.key) -> \($0.value)" }.joined(separator: ", "))")
                print("intended use:   \(m.intendedUse)")
                print("dependencies:   \(m.dependencies.joined(separator: ", "))")
                print("input schema:   \(m.inputSchema.map { "\($0.name): \($0.type)" }.joined(separator: ", "))")
                print("output schema:  \(m.outputSchema.map { "\($0.name): \($0.type)" }.joined(separator: ", "))")
                printMap("manifest", m.manifest)
                printMap("annotations", m.annotations)
                printMap("metrics", m.metrics.mapValues { "\($0)" })
            }
        }
    }

    // MARK: upload

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a file as the model's next version (sha256 computed first; progress on stderr).",
            discussion: """
                Example:
                  aimass model upload movies-itemcf ratings.tsv --description "more neighbours" \\
                      --manifest neighbours=100 --metric loo.ndcg@10=0.31
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "The artifact file.") var file: String
        @Option(help: "What changed in this version.") var description: String = ""
        @Option(name: .customLong("manifest"), help: "A manifest entry KEY=VALUE overriding the model's (repeatable).")
        var manifest: [String] = []
        @Option(name: .customLong("metric"), help: "A metric KEY=NUMBER (repeatable).") var metrics: [String] = []
        @Option(name: .customLong("annotation"), help: "An annotation KEY=VALUE (repeatable).") var annotations: [String] = []
        @Option(help: "Chunk size in KiB (64-1024).") var chunkKib: Int = 1024
        @Flag(help: "Always draw the progress bar, even when stderr is not a terminal.") var progress = false

        func run() async throws {
            guard (64...1024).contains(chunkKib) else { CLIOutput.fail("--chunk-kib must be 64-1024") }
            guard let handle = FileHandle(forReadingAtPath: file),
                let attributes = try? FileManager.default.attributesOfItem(atPath: file),
                let size = (attributes[.size] as? NSNumber)?.int64Value
            else {
                CLIOutput.fail("cannot read \(file)")
            }
            let chunkSize = chunkKib * 1024
            let hasher = try SHA256Hasher()
            let hashing = ProgressBar(label: "hashing  ", total: size, enabled: progress || isatty(STDERR_FILENO) == 1)
            while true {
                let data = handle.readData(ofLength: chunkSize)
                if data.isEmpty { break }
                try hasher.update([UInt8](data))
                hashing.advance(by: data.count)
            }
            hashing.finish()
            let sha256 = try hasher.finish()
            let header = AIMassAPI.VersionHeader(
                model: name, description: description, sizeBytes: size, sha256: sha256,
                manifest: keyValues(manifest, option: "manifest"), metrics: metricValues(metrics),
                annotations: keyValues(annotations, option: "annotation")
            )
            await options.run { client in
                handle.seek(toFileOffset: 0)
                let bar = ProgressBar(label: "uploading", total: size, enabled: progress || isatty(STDERR_FILENO) == 1)
                let version: Version = try await client.clientStreaming(ModelRegistryMethods.uploadVersion) { call in
                    try await call.send(UploadVersionRequest(part: .header(header)))
                    while true {
                        let data = handle.readData(ofLength: chunkSize)
                        if data.isEmpty { break }
                        try await call.send(UploadVersionRequest(part: .chunk([UInt8](data))))
                        bar.advance(by: data.count)
                    }
                }
                bar.finish()
                if options.json {
                    CLIOutput.printJSON(JSONForm.version(version))
                } else {
                    print("uploaded \(name) version \(version.number) (\(CLIOutput.bytes(version.sizeBytes)), sha256 \(version.sha256))")
                }
            }
        }
    }

    // MARK: download

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a version's artifact and verify its sha256 (progress on stderr).",
            discussion: """
                Example:
                  aimass model download movies-itemcf --version production --output ratings.tsv
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Option(help: "A version number or alias (default: latest).") var version: String?
        @Option(name: [.short, .long], help: "Where to write (default: NAME-vN.bin).") var output: String?
        @Flag(help: "Always draw the progress bar, even when stderr is not a terminal.") var progress = false

        func run() async throws {
            await options.run { client in
                let call: ClientCall<DownloadVersionRequest, DownloadVersionResponse> = try await client.client.serverStreaming(
                    ModelRegistryMethods.downloadVersion,
                    request: DownloadVersionRequest(model: name, version: versionSelector(version)),
                    options: options.callOptions(transfer: true)
                )
                guard let first = try await call.next(), case .version(let info)? = first.part else {
                    throw RPCError(code: .internalError, message: "the server did not send the version first")
                }
                let path = output ?? "\(name)-v\(info.number).bin"
                let partial = path + ".part"
                guard FileManager.default.createFile(atPath: partial, contents: nil),
                    let out = FileHandle(forWritingAtPath: partial)
                else {
                    CLIOutput.fail("cannot write \(partial)")
                }
                let hasher = try SHA256Hasher()
                let bar = ProgressBar(label: "downloading", total: info.sizeBytes, enabled: progress || isatty(STDERR_FILENO) == 1)
                do {
                    while let message = try await call.next() {
                        guard case .chunk(let bytes)? = message.part else { continue }
                        try hasher.update(bytes)
                        out.write(Data(bytes))
                        bar.advance(by: bytes.count)
                    }
                    bar.finish()
                    try out.synchronize()
                    try out.close()
                    let digest = try hasher.finish()
                    guard digest == info.sha256 else {
                        throw RPCError(code: .dataLoss, message: "downloaded bytes have sha256 \(digest), the version says \(info.sha256)")
                    }
                    _ = try? FileManager.default.removeItem(atPath: path)
                    try FileManager.default.moveItem(atPath: partial, toPath: path)
                } catch {
                    try? out.close()
                    try? FileManager.default.removeItem(atPath: partial)
                    throw error
                }
                if options.json {
                    var object = JSONForm.version(info)
                    object["path"] = path
                    CLIOutput.printJSON(object)
                } else {
                    print("downloaded \(name) version \(info.number) to \(path) (\(CLIOutput.bytes(info.sizeBytes)), sha256 verified)")
                }
            }
        }
    }

    // MARK: versions

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a model's versions, newest first.",
            discussion: """
                Example:
                  aimass model versions movies-itemcf
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String

        func run() async throws {
            await options.run { client in
                var versions: [Version] = []
                var token = ""
                repeat {
                    let page: ListVersionsResponse = try await client.unary(
                        ModelRegistryMethods.listVersions, ListVersionsRequest(model: name, pageSize: 500, pageToken: token))
                    versions += page.versions
                    token = page.nextPageToken
                } while !token.isEmpty
                if options.json {
                    CLIOutput.printJSON(["versions": versions.map(JSONForm.version)])
                    return
                }
                CLIOutput.printTable(
                    ["VERSION", "SIZE", "SHA256", "CREATED", "AUTHOR", "ALIASES", "DESCRIPTION"],
                    versions.map { v in
                        [
                            "\(v.number)", CLIOutput.bytes(v.sizeBytes), String(v.sha256.prefix(12)), CLIOutput.time(v.createdAtMs),
                            v.author, v.aliases.joined(separator: ","), v.description,
                        ]
                    }
                )
            }
        }
    }

    // MARK: diff

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what changed between two versions (default: the latest and the one before).",
            discussion: """
                Example:
                  aimass model diff movies-itemcf
                  aimass model diff movies-itemcf --from 1 --to production
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Option(help: "The older version (number or alias).") var from: String?
        @Option(help: "The newer version (number or alias).") var to: String?

        func run() async throws {
            await options.run { client in
                let diff: DiffVersionsResponse = try await client.unary(
                    ModelRegistryMethods.diffVersions,
                    DiffVersionsRequest(model: name, oldVersion: versionSelector(from), newVersion: versionSelector(to))
                )
                if options.json {
                    CLIOutput.printJSON([
                        "model": diff.model, "old_version": diff.oldVersion, "new_version": diff.newVersion,
                        "changes": diff.changes.map(JSONForm.change),
                    ])
                    return
                }
                print("\(diff.model): version \(diff.oldVersion) -> \(diff.newVersion)")
                if diff.changes.isEmpty { print("(no differences)"); return }
                CLIOutput.printTable(
                    ["FIELD", "OLD", "NEW"],
                    diff.changes.map { [$0.field, $0.oldValue.isEmpty ? "-" : $0.oldValue, $0.newValue.isEmpty ? "-" : $0.newValue] }
                )
            }
        }
    }

    // MARK: alias

    struct AliasCmd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "alias",
            abstract: "Point an alias at a version (rollback = point it back), delete it, or show its history.",
            discussion: """
                Examples:
                  aimass model alias movies-itemcf production 3
                  aimass model alias movies-itemcf production 2 --reason "rollback: ndcg dropped"
                  aimass model alias movies-itemcf production --delete
                  aimass model alias movies-itemcf production        # history of the alias
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "The alias, e.g. production.") var alias: String
        @Argument(help: "The version number to point at; omit to show the alias's history.") var version: UInt32?
        @Option(help: "Why (kept with the move).") var reason: String = ""
        @Flag(help: "Delete the alias.") var delete = false

        func run() async throws {
            await options.run { client in
                if version != nil || delete {
                    let target: UInt32 = delete ? 0 : (version ?? 0)
                    guard delete || target > 0 else { CLIOutput.fail("version must be >= 1 (use --delete to remove)") }
                    let response: SetAliasResponse = try await client.unary(
                        ModelRegistryMethods.setAlias, SetAliasRequest(model: name, alias: alias, version: target, reason: reason))
                    let change = response.change ?? AliasChange()
                    if options.json { CLIOutput.printJSON(JSONForm.aliasChange(change)); return }
                    let from = change.previousVersion == 0 ? "(new)" : "\(change.previousVersion)"
                    let to = change.version == 0 ? "(deleted)" : "\(change.version)"
                    print("\(name) alias \(alias): \(from) -> \(to)")
                    return
                }
                let history: ListAliasHistoryResponse = try await client.unary(
                    ModelRegistryMethods.listAliasHistory, ListAliasHistoryRequest(model: name, alias: alias, pageSize: 500))
                if options.json { CLIOutput.printJSON(["changes": history.changes.map(JSONForm.aliasChange)]); return }
                CLIOutput.printTable(
                    ["WHEN", "ALIAS", "FROM", "TO", "BY", "REASON"],
                    history.changes.map {
                        [
                            CLIOutput.time($0.changedAtMs), $0.alias, $0.previousVersion == 0 ? "-" : "\($0.previousVersion)",
                            $0.version == 0 ? "-" : "\($0.version)", $0.principal, $0.reason,
                        ]
                    }
                )
            }
        }
    }

    // MARK: grant / revoke

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grant a role (reader, writer, owner) on a model to user:NAME or group:NAME.",
            discussion: """
                Example:
                  aimass model grant movies-itemcf user:bob reader
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "user:NAME or group:NAME.") var principal: String
        @Argument(help: "reader, writer or owner.") var role: String

        func run() async throws {
            let parsed: AIMassAPI.Role =
                switch role.lowercased() {
                case "reader": .reader
                case "writer": .writer
                case "owner": .owner
                default: CLIOutput.fail("role must be reader, writer or owner, got '\(role)'")
                }
            await options.run { client in
                let response: PermissionsResponse = try await client.unary(
                    ModelRegistryMethods.setPermission, SetPermissionRequest(model: name, principal: principal, role: parsed))
                printPermissions(response, json: options.json)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a principal's role on a model.",
            discussion: """
                Example:
                  aimass model revoke movies-itemcf user:bob
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Argument(help: "user:NAME or group:NAME.") var principal: String

        func run() async throws {
            await options.run { client in
                let response: PermissionsResponse = try await client.unary(
                    ModelRegistryMethods.setPermission, SetPermissionRequest(model: name, principal: principal, role: .none))
                printPermissions(response, json: options.json)
            }
        }
    }
}

private func printMap(_ title: String, _ map: [String: String]) {
    print("\(title):")
    for (key, value) in map.sorted(by: { $0.key < $1.key }) { print("  \(key) = \(value)") }
}

private func printVersion(_ v: Version) {
    print("model:       \(v.model)")
    print("version:     \(v.number)")
    print("created:     \(CLIOutput.time(v.createdAtMs)) by \(v.author)")
    print("description: \(v.description)")
    print("size:        \(CLIOutput.bytes(v.sizeBytes)) (\(v.sizeBytes) bytes)")
    print("sha256:      \(v.sha256)")
    print("aliases:     \(v.aliases.joined(separator: ", "))")
    printMap("manifest", v.manifest)
    printMap("metrics", v.metrics.mapValues { "\($0)" })
    printMap("annotations", v.annotations)
}

private func printPermissions(_ response: PermissionsResponse, json: Bool) {
    if json { CLIOutput.printJSON(JSONForm.permissions(response)); return }
    CLIOutput.printTable(["PRINCIPAL", "ROLE"], response.permissions.map { [$0.principal, JSONForm.roleName($0.role)] })
}
