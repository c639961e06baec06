import AIMassAPI
import ArgumentParser

/// `aimass model update` and `aimass model delete`: change a model's metadata, delete a model or one version.
extension ModelCommand {
    // MARK: update

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a model's metadata: only the fields given are replaced (needs writer).",
            discussion: """
                A repeatable option replaces the whole list or map (give every entry you want to keep); \
                --clear FIELD empties one (tags, manifest, annotations, dependencies, input_schema, output_schema, \
                description, intended_use).

                Examples:
                  aimass model update movies-itemcf --description "item CF, K=50"
                  aimass model update movies-itemcf --manifest algorithm=itemcf --manifest neighbours=50 --json
                  aimass model update movies-itemcf --clear tags
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Option(help: "Free-text description.") var description: String?
        @Option(name: .customLong("tag"), help: "A tag (repeatable; replaces the tags).") var tags: [String] = []
        @Option(name: .customLong("manifest"), help: "A manifest entry KEY=VALUE (repeatable; replaces the manifest).")
        var manifest: [String] = []
        @Option(name: .customLong("annotation"), help: "An annotation KEY=VALUE (repeatable; replaces the annotations).")
        var annotations: [String] = []
        @Option(name: .customLong("dependency"), help: "A dependency (repeatable; replaces the list).") var dependencies: [String] = []
        @Option(name: .customLong("input"), help: "An input schema field NAME:TYPE (repeatable).") var input: [String] = []
        @Option(name: .customLong("output"), help: "An output schema field NAME:TYPE (repeatable).") var output: [String] = []
        @Option(help: "The intended use and its limits.") var intendedUse: String?
        @Option(name: .customLong("clear"), help: "A field to empty (repeatable).") var clear: [String] = []

        func run() async throws {
            var model = AIMassAPI.Model(name: name)
            var mask: [String] = clear
            func set(_ field: String, _ given: Bool, _ apply: (inout AIMassAPI.Model) -> Void) {
                guard given else { return }
                apply(&model)
                mask.append(field)
            }
            set("description", description != nil) { $0.description = description ?? "" }
            set("tags", !tags.isEmpty) { $0.tags = tags }
            set("manifest", !manifest.isEmpty) { $0.manifest = keyValues(manifest, option: "manifest") }
            set("annotations", !annotations.isEmpty) { $0.annotations = keyValues(annotations, option: "annotation") }
            set("dependencies", !dependencies.isEmpty) { $0.dependencies = dependencies }
            set("input_schema", !input.isEmpty) { $0.inputSchema = schemaFields(input, option: "input") }
            set("output_schema", !output.isEmpty) { $0.outputSchema = schemaFields(output, option: "output") }
            set("intended_use", intendedUse != nil) { $0.intendedUse = intendedUse ?? "" }
            guard !mask.isEmpty else {
                CLIOutput.fail("nothing to update: give --description, --tag, --manifest, ... or --clear FIELD")
            }
            await options.run { client in
                let updated: AIMassAPI.Model = try await client.unary(
                    ModelRegistryMethods.updateModel, UpdateModelRequest(model: model, updateMask: mask))
                if options.json {
                    CLIOutput.printJSON(JSONForm.model(updated))
                } else {
                    print("updated model \(updated.name): \(mask.joined(separator: ", "))")
                }
            }
        }
    }

    // MARK: delete

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a model with all its versions, or one version with --version (needs owner).",
            discussion: """
                A version an alias points at (the newest is 'latest') or a deployment serves cannot be deleted: \
                move the alias or undeploy first. Its artifact is removed when no other version shares it.

                Examples:
                  aimass model delete movies-itemcf --version 2
                  aimass model delete movies-itemcf --json
                """
        )
        @OptionGroup var options: ClientOptions
        @Argument(help: "The model's name.") var name: String
        @Option(help: "Delete only this version number.") var version: UInt32?

        func run() async throws {
            if let version, version == 0 { CLIOutput.fail("--version must be a version number of 1 or more") }
            await options.run { client in
                if let version {
                    let _: DeleteVersionResponse = try await client.unary(
                        ModelRegistryMethods.deleteVersion, DeleteVersionRequest(model: name, version: version))
                    if options.json {
                        CLIOutput.printJSON(["model": name, "version": version, "deleted": true] as [String: Any])
                    } else {
                        print("deleted \(name) version \(version)")
                    }
                    return
                }
                let _: DeleteModelResponse = try await client.unary(ModelRegistryMethods.deleteModel, DeleteModelRequest(name: name))
                if options.json { CLIOutput.printJSON(["model": name, "deleted": true] as [String: Any]) } else { print("deleted model \(name)") }
            }
        }
    }
}
