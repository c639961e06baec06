/// One `.proto` file as server reflection serves it: its serialized `FileDescriptorProto` and what a client may look
/// it up by.
///
/// scripts/generate-protos.sh writes these from the descriptor sets that `protoc --descriptor_set_out
/// --include_imports` makes (AIMassAPI's `DescriptorSets`), so the reflection service needs no descriptor parser.
public struct ReflectionFile: Sendable, Hashable {
    /// An extension field declared by the file.
    public struct Extension: Sendable, Hashable {
        /// The full name of the extended message, without a leading dot.
        public var extendee: String
        /// The extension's field number.
        public var number: Int32

        public init(extendee: String, number: Int32) {
            self.extendee = extendee
            self.number = number
        }
    }

    /// The file's name as imported, e.g. `aimass/v1/common.proto`.
    public var name: String
    /// The names of the files it imports.
    public var dependencies: [String]
    /// Every full name it defines (messages, fields, enums and their values, services, methods, extensions).
    public var symbols: [String]
    /// The extensions it declares.
    public var extensions: [Extension]
    /// The serialized `google.protobuf.FileDescriptorProto`, base64-encoded.
    public var base64: String

    public init(name: String, dependencies: [String], symbols: [String], extensions: [Extension], base64: String) {
        self.name = name
        self.dependencies = dependencies
        self.symbols = symbols
        self.extensions = extensions
        self.base64 = base64
    }
}
