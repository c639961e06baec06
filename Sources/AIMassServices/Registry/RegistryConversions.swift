import AIMassAPI
import Foundation
import ModelRegistry
import RPCCore

/// Conversions between the `aimass.v1` registry messages and the ModelRegistry core's types, plus the request
/// checks that the proto states and the core does not make.
enum RegistryConversions {
    /// Milliseconds since 1970 UTC.
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// `user:NAME`, the principal string of the API.
    static func principalString(user: String) -> String { "user:\(user)" }

    // MARK: Schemas

    /// The core stores a schema as free text; the API carries a list of fields. The service stores the list as
    /// a JSON array of `{"name","type","description"}` objects; text that is not such an array (written through the
    /// Swift API) reads back as one field named `schema` whose type is the text.
    static func schemaText(_ fields: [SchemaField]) -> String {
        guard !fields.isEmpty else { return "" }
        let objects = fields.map { ["name": $0.name, "type": $0.type, "description": $0.description] }
        guard let data = try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys]) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    static func schemaFields(_ text: String) -> [SchemaField] {
        guard !text.isEmpty else { return [] }
        if let data = text.data(using: .utf8),
            let array = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        {
            return array.map {
                SchemaField(
                    name: $0["name"] as? String ?? "",
                    type: $0["type"] as? String ?? "",
                    description: $0["description"] as? String ?? ""
                )
            }
        }
        return [SchemaField(name: "schema", type: text)]
    }

    /// Rejects duplicate or empty schema field names, which the proto forbids.
    static func validateSchema(_ fields: [SchemaField], field: String) throws(RPCError) {
        var seen = Set<String>()
        for schemaField in fields {
            guard !schemaField.name.isEmpty else {
                throw RPCError(code: .invalidArgument, message: "\(field): every field needs a name")
            }
            guard seen.insert(schemaField.name).inserted else {
                throw RPCError(code: .invalidArgument, message: "\(field): field '\(schemaField.name)' appears twice")
            }
        }
    }

    // MARK: Models

    /// The API model for a core model, its current aliases and the metrics of its latest version.
    static func apiModel(_ model: DomainModel, aliases: [Alias], latestMetrics: [String: Double]) -> AIMassAPI.Model {
        AIMassAPI.Model(
            name: model.name,
            description: model.description,
            createdAtMs: milliseconds(model.createdAt),
            updatedAtMs: milliseconds(model.updatedAt),
            latestVersion: UInt32(clamping: model.latestVersion ?? 0),
            author: model.author.isEmpty ? principalString(user: model.createdBy) : model.author,
            tags: model.tags,
            inputSchema: schemaFields(model.inputSchema),
            outputSchema: schemaFields(model.outputSchema),
            metrics: latestMetrics,
            dependencies: model.dependencies,
            sizeBytes: model.sizeBytes,
            intendedUse: model.intendedUse,
            annotations: model.annotations,
            manifest: model.manifest,
            aliases: Dictionary(aliases.map { ($0.name, UInt32(clamping: $0.version)) }, uniquingKeysWith: { $1 })
        )
    }

    /// The core model for the editable fields of an API model; `author` is the creating principal.
    static func domainModel(_ model: AIMassAPI.Model, author: String = "") throws(RPCError) -> DomainModel {
        try validateSchema(model.inputSchema, field: "input_schema")
        try validateSchema(model.outputSchema, field: "output_schema")
        return DomainModel(
            name: model.name,
            description: model.description,
            author: author,
            tags: model.tags,
            inputSchema: schemaText(model.inputSchema),
            outputSchema: schemaText(model.outputSchema),
            dependencies: model.dependencies,
            intendedUse: model.intendedUse,
            annotations: model.annotations,
            manifest: model.manifest
        )
    }

    /// The fields `UpdateModel` may name, as spelled in `aimass.v1.Model`.
    static let updatableFields = [
        "description", "tags", "input_schema", "output_schema", "dependencies", "intended_use", "annotations",
        "manifest",
    ]
    static let outputOnlyFields: Set<String> = [
        "name", "created_at_ms", "updated_at_ms", "latest_version", "author", "metrics", "size_bytes", "aliases",
    ]

    /// The core field mask for an API `update_mask`.
    static func fieldMask(_ mask: [String]) throws(RPCError) -> Set<String> {
        guard !mask.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "update_mask is empty: name the fields to change, or '*'")
        }
        if mask == ["*"] { return Set(updatableFields) }
        var result = Set<String>()
        for entry in mask {
            if entry == "*" {
                throw RPCError(code: .invalidArgument, message: "update_mask: '*' must be the only entry")
            }
            if outputOnlyFields.contains(entry) {
                throw RPCError(code: .invalidArgument, message: "update_mask: '\(entry)' is output only (or immutable)")
            }
            guard updatableFields.contains(entry) else {
                throw RPCError(
                    code: .invalidArgument,
                    message: "update_mask: unknown field '\(entry)'; expected one of \(updatableFields.joined(separator: ", ")) or '*'"
                )
            }
            result.insert(entry)
        }
        return result
    }

    // MARK: Versions

    /// The API version for a core version; `latest` is added to its aliases when it is the model's newest.
    static func apiVersion(_ version: ModelVersion, latestNumber: Int?) -> Version {
        var aliases = version.aliases
        if latestNumber == version.number, !aliases.contains("latest") { aliases.append("latest") }
        return Version(
            model: version.model,
            number: UInt32(clamping: version.number),
            createdAtMs: milliseconds(version.createdAt),
            author: principalString(user: version.createdBy),
            description: version.description,
            sizeBytes: version.sizeBytes,
            sha256: version.sha256,
            manifest: version.manifest,
            metrics: version.metrics,
            metricsUpdatedAtMs: version.metricsUpdatedAt.map(milliseconds) ?? 0,
            dependencies: version.dependencies,
            inputSchema: schemaFields(version.inputSchema),
            outputSchema: schemaFields(version.outputSchema),
            annotations: version.annotations,
            aliases: aliases.sorted()
        )
    }

    /// The core reference for an API selector: absent or empty is the newest version.
    static func reference(_ selector: VersionSelector?, model: String) throws(RPCError) -> VersionReference {
        guard let selector else { return .latest }
        switch (selector.number, selector.alias) {
        case (0, ""): return .latest
        case (let number, "") : return .number(Int(number))
        case (0, "latest"): return .latest
        case (0, let alias): return .alias(alias)
        default:
            throw RPCError(
                code: .invalidArgument,
                message: "version selector of model '\(model)' sets both number \(selector.number) and alias '\(selector.alias)'; set one"
            )
        }
    }

    /// The core header for an API header; empty schemas and dependencies inherit the model's, and the manifest is
    /// merged over the model's.
    static func domainHeader(_ header: AIMassAPI.VersionHeader, model: DomainModel) throws(RPCError) -> DomainHeader {
        guard header.sizeBytes > 0 else {
            throw RPCError(
                code: .invalidArgument,
                message: "upload to model '\(header.model)': header size_bytes must be > 0, got \(header.sizeBytes)"
            )
        }
        try validateSchema(header.inputSchema, field: "header.input_schema")
        try validateSchema(header.outputSchema, field: "header.output_schema")
        return DomainHeader(
            sizeBytes: header.sizeBytes,
            sha256: header.sha256,
            description: header.description,
            metrics: header.metrics,
            dependencies: header.dependencies.isEmpty ? model.dependencies : header.dependencies,
            inputSchema: header.inputSchema.isEmpty ? model.inputSchema : schemaText(header.inputSchema),
            outputSchema: header.outputSchema.isEmpty ? model.outputSchema : schemaText(header.outputSchema),
            annotations: header.annotations,
            manifest: model.manifest.merging(header.manifest) { $1 }
        )
    }

    // MARK: Diff

    /// Field-by-field differences between two versions, ordered by field, in the paths that `FieldChange`
    /// documents (`manifest.neighbours`, `input_schema.user_id`, `dependencies.itemcf>=1`, …).
    static func diff(_ old: ModelVersion, _ new: ModelVersion) -> [FieldChange] {
        var changes: [FieldChange] = []
        func add(_ field: String, _ a: String?, _ b: String?) {
            guard a != b else { return }
            let kind: ChangeKind = a == nil ? .added : (b == nil ? .removed : .changed)
            changes.append(FieldChange(field: field, oldValue: a ?? "", newValue: b ?? "", kind: kind))
        }
        func map(_ field: String, _ a: [String: String], _ b: [String: String]) {
            for key in Set(a.keys).union(b.keys) { add("\(field).\(key)", a[key], b[key]) }
        }
        func schema(_ field: String, _ a: String, _ b: String) {
            let pairs = { (text: String) in
                Dictionary(schemaFields(text).map { ($0.name, $0.type) }, uniquingKeysWith: { $1 })
            }
            map(field, pairs(a), pairs(b))
        }
        add("description", old.description, new.description)
        add("size_bytes", String(old.sizeBytes), String(new.sizeBytes))
        add("sha256", old.sha256, new.sha256)
        map("manifest", old.manifest, new.manifest)
        map("annotations", old.annotations, new.annotations)
        map("metrics", old.metrics.mapValues { "\($0)" }, new.metrics.mapValues { "\($0)" })
        let dependencies = { (list: [String]) in Dictionary(list.map { ($0, $0) }, uniquingKeysWith: { $1 }) }
        map("dependencies", dependencies(old.dependencies), dependencies(new.dependencies))
        schema("input_schema", old.inputSchema, new.inputSchema)
        schema("output_schema", old.outputSchema, new.outputSchema)
        return changes.sorted { $0.field < $1.field }
    }

    // MARK: Aliases and permissions

    static func aliasChange(_ move: AliasMove) -> AliasChange {
        AliasChange(
            model: move.model,
            alias: move.alias,
            previousVersion: UInt32(clamping: move.fromVersion ?? 0),
            version: UInt32(clamping: move.toVersion ?? 0),
            principal: principalString(user: move.by),
            changedAtMs: milliseconds(move.at),
            reason: move.reason
        )
    }

    static func aliasSplit(_ split: DomainAliasSplit) -> AIMassAPI.AliasSplit {
        AIMassAPI.AliasSplit(
            alias: split.alias, version: UInt32(clamping: split.version),
            challengerVersion: UInt32(clamping: split.challengerVersion), percent: UInt32(clamping: split.percent))
    }

    /// `user:NAME` or `group:NAME`.
    static func grantee(_ principal: String) throws(RPCError) -> Grantee {
        if principal.hasPrefix("user:"), principal.count > 5 { return .user(String(principal.dropFirst(5))) }
        if principal.hasPrefix("group:"), principal.count > 6 { return .group(String(principal.dropFirst(6))) }
        throw RPCError(
            code: .invalidArgument,
            message: "principal '\(principal)' must be 'user:NAME' or 'group:NAME'"
        )
    }

    static func principalString(_ grantee: Grantee) -> String {
        switch grantee {
        case .user(let name): "user:\(name)"
        case .group(let name): "group:\(name)"
        }
    }

    /// The core role for an API role; `nil` removes the grant.
    static func domainRole(_ role: AIMassAPI.Role, model: String) throws(RPCError) -> DomainRole? {
        switch role {
        case .none: return nil
        case .reader: return .reader
        case .writer: return .writer
        case .owner: return .owner
        case .unspecified:
            throw RPCError(code: .invalidArgument, message: "SetPermission on model '\(model)': role is unspecified")
        }
    }

    static func apiRole(_ role: DomainRole) -> AIMassAPI.Role {
        switch role {
        case .reader: .reader
        case .writer: .writer
        case .owner: .owner
        }
    }

    static func apiPermission(_ permission: DomainPermission) -> AIMassAPI.Permission {
        AIMassAPI.Permission(principal: principalString(permission.grantee), role: apiRole(permission.role))
    }

    // MARK: Paging

    /// `page_size` 0 → 50, above 500 → 500.
    static func pageSize(_ size: UInt32) -> Int {
        size == 0 ? 50 : min(Int(size), 500)
    }

    /// Tokens for lists the service pages itself: `<kind>1.<position>`, position an index into the full list.
    static func pageToken(kind: String, position: Int) -> String { "\(kind)1.\(position)" }

    static func pagePosition(_ token: String, kind: String, limit: Int) throws(RPCError) -> Int? {
        guard !token.isEmpty else { return nil }
        let prefix = "\(kind)1."
        guard token.hasPrefix(prefix), let position = Int(token.dropFirst(prefix.count)), position >= 0,
            position <= limit
        else {
            throw RPCError(code: .invalidArgument, message: "malformed or expired page_token '\(token)'")
        }
        return position
    }
}
