#!/usr/bin/env python3
"""Generates the Swift side of protobuf messages into one file per .proto (scripts/generate-protos.sh runs it).

For each message: a Swift struct with the `///` docs of the .proto, every field defaulted, and a memberwise init; and
its `ProtobufCConvertible` conformance (RPCProtobufC), whose `map(_:)` names each field once with the field of the
struct protoc-c generates (`c.field(&name, \\.name)`): `ProtobufCFields` copies it whichever way the struct goes, and
the protocol does the wire round trip. For each enum: a Swift enum and its `ProtobufCEnum` conformance. For each
service: an enum of `MethodDescriptor` constants (`ServiceMethods`).

    scripts/gen-swift-messages.py OUT_DIR PROTO_DIR...   # OUT_DIR/<proto>.pb.swift for every PROTO_DIR/*.proto
    scripts/gen-swift-messages.py --descriptor-index OUT_FILE SET...
        # OUT_FILE: the files of the descriptor sets SET... (protoc --descriptor_set_out --include_imports) with
        # the symbols each defines, as Swift `ReflectionFile` values for the reflection service (RPCReflection)

PROTO_DIR is relative to proto/ (`aimass/v1`); the messages of one run may refer to each other.

Needs grpcio-tools (protoc and the descriptor classes), which the repository's .venv has.
"""

from __future__ import annotations

import base64
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from google.protobuf import descriptor_pb2
from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = REPO_ROOT / "proto"
LINE_LENGTH = 120

F = descriptor_pb2.FieldDescriptorProto
SCALARS = {  # protobuf type: (Swift type, default)
    F.TYPE_DOUBLE: ("Double", "0"), F.TYPE_FLOAT: ("Float", "0"),
    F.TYPE_INT64: ("Int64", "0"), F.TYPE_SINT64: ("Int64", "0"), F.TYPE_SFIXED64: ("Int64", "0"),
    F.TYPE_UINT64: ("UInt64", "0"), F.TYPE_FIXED64: ("UInt64", "0"),
    F.TYPE_INT32: ("Int32", "0"), F.TYPE_SINT32: ("Int32", "0"), F.TYPE_SFIXED32: ("Int32", "0"),
    F.TYPE_UINT32: ("UInt32", "0"), F.TYPE_FIXED32: ("UInt32", "0"),
    F.TYPE_BOOL: ("Bool", "false"), F.TYPE_STRING: ("String", '""'), F.TYPE_BYTES: ("[UInt8]", "[]"),
}
# Words that need backticks where Swift declares or names them bare.
SWIFT_KEYWORDS = {
    "associatedtype", "as", "break", "case", "catch", "class", "continue", "default", "defer", "deinit", "do",
    "else", "enum", "extension", "fallthrough", "false", "fileprivate", "for", "func", "guard", "if", "import", "in",
    "init", "inout", "internal", "is", "let", "nil", "operator", "private", "protocol", "public", "repeat",
    "rethrows", "return", "self", "Self", "static", "struct", "subscript", "super", "switch", "throw", "throws",
    "true", "try", "typealias", "var", "where", "while",
}
# protoc-c appends `_` to a field named like a C or C++ keyword (c_helpers.cc, kKeywordList).
C_KEYWORDS = {
    "and", "and_eq", "asm", "auto", "bitand", "bitor", "bool", "break", "case", "catch", "char", "class", "compl",
    "const", "const_cast", "continue", "default", "delete", "do", "double", "dynamic_cast", "else", "enum",
    "explicit", "extern", "false", "float", "for", "friend", "goto", "if", "inline", "int", "long", "mutable",
    "namespace", "new", "not", "not_eq", "operator", "or", "or_eq", "private", "protected", "public", "register",
    "reinterpret_cast", "return", "short", "signed", "sizeof", "static", "static_cast", "struct", "switch",
    "template", "this", "throw", "true", "try", "typedef", "typeid", "typename", "union", "unsigned", "using",
    "virtual", "void", "volatile", "wchar_t", "while", "xor", "xor_eq",
}


class GeneratorError(Exception):
    pass


# -- names -------------------------------------------------------------------------------------------------------

def lower_camel(snake: str) -> str:
    words = [w for w in snake.lower().split("_") if w]
    return words[0] + "".join(w[0].upper() + w[1:] for w in words[1:])


def upper_camel(snake: str) -> str:
    camel = lower_camel(snake)
    return camel[0].upper() + camel[1:]


def bare(name: str) -> str:
    """A Swift name where it stands alone (a declaration, a label, a variable)."""
    return f"`{name}`" if name in SWIFT_KEYWORDS else name


def camel_to_lower(name: str) -> str:
    """protoc-c's CamelToLower: `_` before a capital that follows a small letter or digit (`Sha256Sum` is
    `sha256_sum`, `ABCThing` is `abcthing`)."""
    out = name[0].lower()
    for previous, ch in zip(name, name[1:]):
        out += ("_" if ch.isupper() and not previous.isupper() else "") + ch.lower()
    return out


def lower_first_word(name: str) -> str:
    """`GetModel` is `getModel`, `ABCThing` is `abcThing`."""
    capitals = len(name) - len(name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if 1 < capitals < len(name):
        capitals -= 1
    return name[:capitals].lower() + name[capitals:]


def c_field(field: F) -> str:
    name = field.name.lower()
    return name + "_" if name in C_KEYWORDS else name


@dataclass
class CNames:
    """protoc-c's names for one message: struct `Aimass__V1__Model`, init `aimass__v1__model__init`, and the
    constant prefix `AIMASS__V1__MODEL` of its oneof cases."""

    type: str
    function: str
    constant: str

    @classmethod
    def of(cls, package: str, path: list[str]) -> "CNames":
        package_parts = package.split(".")
        return cls(
            type="__".join([p.capitalize() for p in package_parts] + path),
            function="__".join(package_parts + [camel_to_lower(p) for p in path]),
            constant="__".join([p.upper() for p in package_parts] + [camel_to_lower(p).upper() for p in path]),
        )


# -- comments ----------------------------------------------------------------------------------------------------

class Comments:
    """The comments of one .proto file by descriptor path: the leading comment, then a trailing one if any."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto):
        self.by_path: dict[tuple[int, ...], list[str]] = {}
        self.line: dict[tuple[int, ...], int] = {}
        for location in file.source_code_info.location:
            path = tuple(location.path)
            self.line.setdefault(path, location.span[0])
            text = "\n\n".join(c for c in (location.leading_comments, location.trailing_comments) if c.strip())
            if text:
                lines = [line[1:] if line.startswith(" ") else line for line in text.rstrip().split("\n")]
                self.by_path[path] = [line.rstrip() for line in lines]

    def get(self, path: tuple[int, ...]) -> list[str]:
        return self.by_path.get(path, [])


def doc(lines: list[str], indent: str, lead: str = "") -> list[str]:
    """`///` lines; `lead` starts the first line, which is wrapped if it grows past the line length."""
    lines = list(lines)
    # Nested declarations are indented once more when their enclosing one is written: leave room for that.
    width = LINE_LENGTH - len(indent) - 8
    if lead:
        first = lead + (lines[0] if lines else "")
        lines[:1] = wrap(first, width)
    wrapped: list[str] = []
    for line in lines:
        if len(line) <= width:
            wrapped.append(line)
            continue
        # A long comment line (OpenTelemetry's have examples): wrapped at spaces, keeping its indentation.
        margin = line[: len(line) - len(line.lstrip())]
        wrapped += [margin + part for part in wrap(line.strip(), width - len(margin))]
    return [f"{indent}///" + (" " + line if line else "") for line in wrapped]


def packed(items: list[str], indent: str) -> list[str]:
    """`items` separated by commas, as many a line as fit."""
    lines = [indent]
    for item in items:
        if lines[-1] != indent and len(lines[-1] + item) + 2 > LINE_LENGTH:
            lines.append(indent)
        lines[-1] += item + ", "
    lines[-1] = lines[-1][:-2]
    return lines


def wrap(text: str, width: int) -> list[str]:
    out: list[str] = []
    while len(text) > width and " " in text[:width]:
        cut = text.rindex(" ", 0, width)
        out.append(text[:cut])
        text = text[cut + 1:]
    return out + [text]


def fit(call: str, arguments: list[str], indent: str, end: str = ")") -> list[str]:
    """`call` (ending in `(`) with its arguments on one line, or one a line when that line would be too long."""
    line = call + ", ".join(arguments) + end
    if len(indent + line) <= LINE_LENGTH:
        return [line]
    return [call] + [f"    {a}," for a in arguments[:-1]] + [f"    {arguments[-1]}", end]


# -- the model of one proto file ---------------------------------------------------------------------------------

class Types:
    """Every message and enum of the generated files by full name (`.aimass.v1.Model`), with Swift and C names."""

    def __init__(self):
        self.swift: dict[str, str] = {}
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.enums: dict[str, descriptor_pb2.EnumDescriptorProto] = {}
        self.c: dict[str, CNames] = {}

    def add_file(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        def add(declaration, table: dict, path: list[str]) -> None:
            """A message or enum whose path of names from the package is `path` (`Model`, `MetricsEntry`)."""
            full = ".".join(["", file.package] + path)
            table[full] = declaration
            # Swift forbids a member type named `Type` (etcd's `authpb.Permission.Type`): it is `PermissionType`.
            swift_path = [f"{path[i - 1]}{name}" if name == "Type" and i > 0 else name for i, name in enumerate(path)]
            self.swift[full] = ".".join(swift_path)
            self.c[full] = CNames.of(file.package, path)
            for nested in getattr(declaration, "nested_type", []):
                add(nested, self.messages, path + [nested.name])
            for enum in getattr(declaration, "enum_type", []):
                add(enum, self.enums, path + [enum.name])

        for message in file.message_type:
            add(message, self.messages, [message.name])
        for enum in file.enum_type:
            add(enum, self.enums, [enum.name])

    def map_entry(self, field: F) -> descriptor_pb2.DescriptorProto | None:
        if field.type != F.TYPE_MESSAGE or field.label != F.LABEL_REPEATED:
            return None
        message = self.messages.get(field.type_name)
        return message if message is not None and message.options.map_entry else None


def enum_case(enum: descriptor_pb2.EnumDescriptorProto, value: descriptor_pb2.EnumValueDescriptorProto) -> str:
    """`EVENT_KIND_WORKER_JOINED` of `EventKind` is `workerJoined`."""
    prefix = camel_to_lower(enum.name).upper() + "_"
    name = value.name[len(prefix):] if value.name.startswith(prefix) else value.name
    return lower_camel(name)


@dataclass
class Field:
    """One stored property of a Swift message: a field, or a oneof (whose cases are fields)."""

    name: str
    swift_type: str
    default: str
    doc: list[str]
    # The lines of `map(_:)` that copy it (ProtobufCFields in RPCProtobufC, both ways).
    map: list[str]


class MessageWriter:
    def __init__(self, types: Types, comments: Comments, file: descriptor_pb2.FileDescriptorProto):
        self.types = types
        self.comments = comments
        self.file = file
        # The extensions of the messages declared so far, which go after the outermost one.
        self.conformances: list[list[str]] = []
        # Messages that are the values of a map field, which need a `ProtobufCMapValue` conformance.
        self.map_values: set[str] = set()

    # Fields ----------------------------------------------------------------------------------------------------

    def value_type(self, field: F) -> tuple[str, str]:
        """The Swift type and default of a singular field."""
        if field.type in SCALARS:
            return SCALARS[field.type]
        if field.type == F.TYPE_ENUM:
            enum = self.types.enums[field.type_name]
            return self.types.swift[field.type_name], "." + enum_case(enum, enum.value[0])
        if field.type == F.TYPE_MESSAGE:
            return self.types.swift[field.type_name], "nil"
        raise GeneratorError(f"{field.name}: unsupported type {field.type}")

    def field(self, field: F, path: tuple[int, ...]) -> Field:
        name = lower_camel(field.name)
        c = c_field(field)
        if field.proto3_optional:
            raise GeneratorError(f"{field.name}: proto3 `optional` is not used in aimass.v1 (see common.proto)")
        entry = self.types.map_entry(field)
        if entry is not None:
            key, value = entry.field
            if key.type != F.TYPE_STRING or value.type not in (F.TYPE_STRING, F.TYPE_DOUBLE, F.TYPE_UINT32,
                                                               F.TYPE_MESSAGE):
                raise GeneratorError(f"{field.name}: maps from string to string, double, uint32 or a message only")
            if value.type == F.TYPE_MESSAGE:
                value_type = self.types.swift[value.type_name]
                self.map_values.add(value_type)
            else:
                value_type = SCALARS[value.type][0]
            return Field(name, f"[String: {value_type}]", "[:]", self.comments.get(path),
                         [f"c.map(&{bare(name)}, \\.{c}, count: \\.n_{c})"])
        swift_type, default = self.value_type(field)
        if field.label == F.LABEL_REPEATED:
            return Field(name, f"[{swift_type}]", "[]", self.comments.get(path),
                         [f"c.repeated(&{bare(name)}, \\.{c}, count: \\.n_{c})"])
        if field.type == F.TYPE_MESSAGE:
            swift_type += "?"
        return Field(name, swift_type, default, self.comments.get(path), [f"c.field(&{bare(name)}, \\.{c})"])

    def oneof(self, message, c_names: CNames, index: int, members: list[tuple[F, tuple[int, ...]]],
              path: tuple[int, ...]) -> tuple[Field, list[str]]:
        """The property of a oneof and the lines of its nested enum."""
        oneof = message.oneof_decl[index]
        enum_name = upper_camel(oneof.name)
        name = lower_camel(oneof.name)
        case_prefix = f"{c_names.constant}__{oneof.name.upper()}_"
        cases = [f"    /// The value of the `{oneof.name}` oneof.", f"    public enum {enum_name}: Hashable, Sendable {{"]
        read = [f"{bare(name)} = switch c.c.{oneof.name}_case {{"]
        write = [f"switch {bare(name)} {{"]
        for field, field_path in members:
            case = lower_camel(field.name)
            swift_type = self.value_type(field)[0]
            cases += doc(self.comments.get(field_path), "        ") + [f"        case {bare(case)}({swift_type})"]
            constant = case_prefix + field.name.upper()
            read += [f"case {constant}:", f"    .{case}(c.oneof(\\.{c_field(field)}))"]
            arguments = ["value", f"\\.{c_field(field)}", f"selected: \\.{oneof.name}_case", constant]
            write += [f"case .{case}(let value)?:"] + ["    " + line for line in
                                                       fit("c.oneof(", arguments, " " * 20)]
        read += ["default:", "    nil", "}"]
        write += ["case nil:", "    break", "}"]
        cases.append("    }")
        comment = self.comments.get(path) or [f"The `{oneof.name}` oneof: at most one of its cases is set."]
        lines = ["if c.isReading {"] + ["    " + line for line in read] + ["} else {"]
        lines += ["    " + line for line in write] + ["}"]
        return Field(name, enum_name + "?", "nil", comment, lines), cases

    # Declarations ----------------------------------------------------------------------------------------------

    def message(self, message, path: tuple[int, ...], full_name: str, indent: str = "") -> list[str]:
        swift_name = self.types.swift[full_name]
        short = swift_name.split(".")[-1]
        c_names = self.types.c[full_name]
        fields: list[Field] = []
        nested: list[str] = []
        seen_oneofs: set[int] = set()
        for number, field in enumerate(message.field):
            field_path = path + (2, number)
            if field.HasField("oneof_index") and not field.proto3_optional:
                if field.oneof_index in seen_oneofs:
                    continue
                seen_oneofs.add(field.oneof_index)
                members = [(f, path + (2, i)) for i, f in enumerate(message.field)
                           if f.HasField("oneof_index") and f.oneof_index == field.oneof_index]
                property_, cases = self.oneof(message, c_names, field.oneof_index, members,
                                              path + (8, field.oneof_index))
                fields.append(property_)
                nested += cases + [""]
            else:
                fields.append(self.field(field, field_path))
        for number, enum in enumerate(message.enum_type):
            nested += self.enum(enum, path + (4, number), f"{full_name}.{enum.name}", "    ") + [""]
        for number, inner in enumerate(message.nested_type):
            if not inner.options.map_entry:
                nested += self.message(inner, path + (3, number), f"{full_name}.{inner.name}", "    ") + [""]

        body = list(nested)
        for property_ in fields:
            body += doc(property_.doc, "    ")
            body.append(f"    public var {bare(property_.name)}: {property_.swift_type} = {property_.default}")
        # The `init()` of ProtobufCConvertible goes with the conformance, except where it is the only init (a struct
        # without an init of its own has an implicit one, which another in an extension would redeclare).
        body += ([""] if body and body[-1] else []) + (self.memberwise_init(fields) if fields else ["    public init() {}"])
        lines = doc(self.comments.get(path), "", f"`{full_name[1:]}`: ")
        lines.append(f"public struct {short}: Hashable, Sendable {{")
        lines += body
        lines.append("}")
        self.conformances.append(self.conformance(swift_name, c_names, fields))
        return [indent + line if line else "" for line in lines]

    @staticmethod
    def memberwise_init(fields: list[Field]) -> list[str]:
        """`init(a:b:)` with every argument defaulted: arguments and assignments packed onto as few lines as fit."""
        parameters = [f"{bare(p.name)}: {p.swift_type} = {p.default}" for p in fields]
        one_line = "    public init(" + ", ".join(parameters) + ") {"
        lines = [one_line] if len(one_line) <= LINE_LENGTH else (
            ["    public init("] + [line.rstrip() for line in packed(parameters, " " * 8)] + ["    ) {"])
        if len(fields) == 1:
            return lines + [f"        self.{fields[0].name} = {bare(fields[0].name)}", "    }"]
        targets = "(" + ", ".join(f"self.{p.name}" for p in fields) + ")"
        values = "(" + ", ".join(bare(p.name) for p in fields) + ")"
        if len(f"        {targets} = {values}") <= LINE_LENGTH:
            lines.append(f"        {targets} = {values}")
        elif len(f"        {targets} =") <= LINE_LENGTH:
            lines += [f"        {targets} =", f"            {values}"]
        else:
            lines += [f"        self.{p.name} = {bare(p.name)}" for p in fields]
        return lines + ["    }"]

    def conformance(self, swift_name: str, c_names: CNames, fields: list[Field]) -> list[str]:
        lines = [
            f"extension {swift_name}: ProtobufCConvertible {{",
            f"    public static let cInit = {c_names.function}__init",
            "",
        ] + (["    public init() {}", ""] if fields else [])
        signature = f"    public mutating func map(_ c: inout ProtobufCFields<{c_names.type}>) {{"
        if not fields:
            signature = signature.replace("(_ c:", "(_:") + "}"
        if len(signature) > LINE_LENGTH:
            signature = signature.replace("(_", "(\n        _").replace(">) {", ">\n    ) {")
        lines += signature.split("\n")
        if fields:
            lines += ["        " + line for f in fields for line in f.map]
            lines.append("    }")
        lines.append("}")
        return lines

    def enum(self, enum, path: tuple[int, ...], full_name: str, indent: str = "") -> list[str]:
        swift_name = self.types.swift[full_name]
        if enum.value[0].number != 0:
            raise GeneratorError(f"{enum.name}: the first value must be 0 (proto3)")
        lines = doc(self.comments.get(path), "", f"`{full_name[1:]}`: ")
        lines.append(f"public enum {swift_name.split('.')[-1]}: Int32, CaseIterable, ProtobufCEnum {{")
        lines.append(f"    public typealias CEnum = {self.types.c[full_name].type}")
        lines.append("")
        for number, value in enumerate(enum.value):
            lines += doc(self.comments.get(path + (2, number)), "    ")
            lines.append(f"    case {bare(enum_case(enum, value))} = {value.number}")
        lines.append("}")
        return [indent + line if line else "" for line in lines]

    def service(self, service, path: tuple[int, ...]) -> list[str]:
        full_name = f"{self.file.package}.{service.name}"
        comment = self.comments.get(path)
        lines = doc([f"The methods of `{full_name}`."] + ([""] + comment if comment else []), "")
        lines += [
            f"public enum {service.name}Methods: ServiceMethods {{",
            f"    /// `{full_name}`.",
            f'    public static let serviceName = "{full_name}"',
        ]
        for number, method in enumerate(service.method):
            request = self.types.swift[method.input_type]
            response = self.types.swift[method.output_type]
            call = ("stream " if method.client_streaming else "") + f"``{request}`` → " + (
                "stream " if method.server_streaming else "") + f"``{response}``"
            lines.append("")
            lines += doc(self.comments.get(path + (2, number)) + ["", call + "."], "    ")
            lines.append(
                f'    public static let {lower_first_word(method.name)} = method("{method.name}")'
            )
        names = [lower_first_word(method.name) for method in service.method]
        one_line = f"    public static let all: [MethodDescriptor] = [{', '.join(names)}]"
        lines += ["", f"    /// Every method of `{full_name}`, in the .proto's order."]
        lines += [one_line] if len(one_line) <= LINE_LENGTH else (
            ["    public static let all: [MethodDescriptor] = ["] + [f"        {name}," for name in names] + ["    ]"])
        lines.append("}")
        return lines

    # The file ------------------------------------------------------------------------------------------------

    def source(self) -> str:
        if self.file.syntax != "proto3":
            raise GeneratorError(f"{self.file.name}: proto3 only")
        declarations: list[tuple[int, list[str]]] = []
        for number, service in enumerate(self.file.service):
            path = (6, number)
            declarations.append((self.comments.line[path], self.service(service, path)))
        for number, enum in enumerate(self.file.enum_type):
            path = (5, number)
            full = f".{self.file.package}.{enum.name}"
            declarations.append((self.comments.line[path], self.enum(enum, path, full)))
        for number, message in enumerate(self.file.message_type):
            path = (4, number)
            full = f".{self.file.package}.{message.name}"
            lines = self.message(message, path, full)
            for conformance in reversed(self.conformances):
                lines += [""] + conformance
            self.conformances.clear()
            declarations.append((self.comments.line[path], lines))
        for value_type in sorted(self.map_values):
            lines = [f"extension {value_type}: ProtobufCMapValue {{}}"]
            declarations.append((max(self.comments.line.values()) + 1, lines))
        imports = ["CAIMassProtos"] + (["RPCCore"] if self.file.service else []) + ["RPCProtobufC"]
        lines = [
            f"// Generated by scripts/gen-swift-messages.py from proto/{self.file.name}:",
            "// edit the .proto and run scripts/generate-protos.sh, whose --check fails when this file is stale.",
            "",
        ] + [f"import {module}" for module in imports]
        for _, block in sorted(declarations, key=lambda d: d[0]):
            lines += [""] + block
        too_long = [line for line in lines if len(line) > LINE_LENGTH]
        if too_long:
            raise GeneratorError(f"{self.file.name}: lines longer than {LINE_LENGTH}: {too_long[:3]}")
        return "\n".join(lines) + "\n"


def output_name(proto: str) -> str:
    return Path(proto).stem + ".pb.swift"


def load(protos: list[str]) -> descriptor_pb2.FileDescriptorSet:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "descriptors.pb"
        status = protoc.main(["protoc", f"-I{PROTO_ROOT}", "--include_source_info",
                              f"--descriptor_set_out={out}", *protos])
        if status != 0:
            raise GeneratorError(f"protoc failed with status {status}")
        files = descriptor_pb2.FileDescriptorSet()
        files.ParseFromString(out.read_bytes())
        return files


# -- the descriptor index of the reflection service -------------------------------------------------------------

def symbols(file: descriptor_pb2.FileDescriptorProto) -> list[str]:
    """Every full name a reflection client may ask `file_containing_symbol` for: messages (nested too), their fields
    and oneofs, enums and their values (which protobuf scopes beside the enum), services and their methods, and
    extensions."""
    names: list[str] = []
    prefix = file.package + "." if file.package else ""

    def enum(scope: str, declaration) -> None:
        names.append(scope + declaration.name)
        names.extend(scope + value.name for value in declaration.value)

    def message(scope: str, declaration) -> None:
        full = scope + declaration.name
        names.append(full)
        names.extend(f"{full}.{field.name}" for field in list(declaration.field) + list(declaration.extension))
        names.extend(f"{full}.{oneof.name}" for oneof in declaration.oneof_decl)
        for nested in declaration.nested_type:
            message(full + ".", nested)
        for nested in declaration.enum_type:
            enum(full + ".", nested)

    for declaration in file.message_type:
        message(prefix, declaration)
    for declaration in file.enum_type:
        enum(prefix, declaration)
    for service in file.service:
        names.append(prefix + service.name)
        names.extend(f"{prefix}{service.name}.{method.name}" for method in service.method)
    names.extend(prefix + extension.name for extension in file.extension)
    return sorted(set(names))


def extensions(file: descriptor_pb2.FileDescriptorProto) -> list[tuple[str, int]]:
    """The (extended message, field number) of every extension the file declares, at any depth."""
    found = [(e.extendee.lstrip("."), e.number) for e in file.extension]

    def message(declaration) -> None:
        found.extend((e.extendee.lstrip("."), e.number) for e in declaration.extension)
        for nested in declaration.nested_type:
            message(nested)

    for declaration in file.message_type:
        message(declaration)
    return sorted(found)


def swift_strings(values: list[str], indent: str) -> list[str]:
    """The elements of a Swift array literal of strings, as many a line as fit."""
    rows: list[list[str]] = [[]]
    for value in values:
        if rows[-1] and len(indent) + sum(len(v) + 4 for v in rows[-1] + [value]) > LINE_LENGTH:
            rows.append([])
        rows[-1].append(value)
    return [indent + ", ".join(f'"{v}"' for v in row) + "," for row in rows if row]


def descriptor_index(sets: list[Path]) -> str:
    """The Swift source of `DescriptorSets`: one `[ReflectionFile]` constant per descriptor set."""
    lines = [
        "// Generated by scripts/gen-swift-messages.py from the descriptor sets in proto/descriptor-sets (made by",
        "// `protoc --descriptor_set_out --include_imports`): run scripts/generate-protos.sh, whose --check fails when",
        "// this file is stale.",
        "",
        "import RPCReflection",
        "",
        "/// The descriptor sets of the services this project serves, for server reflection: each file's serialized",
        "/// `FileDescriptorProto` with the names it defines and depends on.",
        "public enum DescriptorSets {",
    ]
    for path in sets:
        files = descriptor_pb2.FileDescriptorSet()
        files.ParseFromString(path.read_bytes())
        constant = lower_camel(path.stem.replace(".", "_"))
        lines += doc(wrap(f"The files of `{path.name}`: {', '.join(f'`{f.name}`' for f in files.file)}.",
                          LINE_LENGTH - 8), "    ")
        lines.append(f"    public static let {constant}: [ReflectionFile] = [")
        for file in files.file:
            encoded = base64.b64encode(file.SerializeToString(deterministic=True)).decode()
            width = LINE_LENGTH - 16  # a whole number of base64 quads a line, with the indent and `\`
            chunks = [encoded[i:i + width] for i in range(0, len(encoded), width)]
            extension_list = ", ".join(f'.init(extendee: "{t}", number: {n})' for t, n in extensions(file))
            dependencies = ", ".join(f'"{d}"' for d in file.dependency)
            lines += [
                "        ReflectionFile(",
                f'            name: "{file.name}",',
                f"            dependencies: [{dependencies}],",
                "            symbols: [",
            ] + swift_strings(symbols(file), " " * 16) + [
                "            ],",
                f"            extensions: [{extension_list}],",
                '            base64: """',
            ]
            # A multi-line literal whose lines end in `\` (no newline between them).
            lines += [f"            {chunk}\\" for chunk in chunks[:-1]] + [f"            {chunks[-1]}"]
            lines += ['            """', "        ),"]
        lines.append("    ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) >= 4 and argv[1] == "--descriptor-index":
        Path(argv[2]).write_text(descriptor_index([Path(p) for p in argv[3:]]))
        return 0
    if len(argv) < 3 or argv[1].startswith("-"):
        print(__doc__.strip().split("\n\n")[-3], file=sys.stderr)
        return 2
    out_dir = Path(argv[1])
    protos = sorted(p.relative_to(PROTO_ROOT).as_posix() for d in argv[2:] for p in (PROTO_ROOT / d).glob("*.proto"))
    files = load(protos)
    types = Types()
    for file in files.file:
        types.add_file(file)
    out_dir.mkdir(parents=True, exist_ok=True)
    for file in files.file:
        source = MessageWriter(types, Comments(file), file).source()
        (out_dir / output_name(file.name)).write_text(source)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except GeneratorError as error:
        print(f"gen-swift-messages: {error}", file=sys.stderr)
        sys.exit(1)
