#!/usr/bin/env python3
"""Generates the API reference in docs/api/ from the comments of the .proto files in proto/.

Standard library only (no protoc): a small tokenizer and parser for the proto3 subset our files use
(comments, package, import, option, service, rpc with `stream` markers, message, nested message and
enum, oneof, map, repeated/optional, reserved), a type resolver that follows protobuf's scoping rules,
and a Markdown writer.

    scripts/gen-api-docs.py            # (re)writes docs/api/README.md and one page per service
    scripts/gen-api-docs.py --check    # regenerates into a temporary folder; exit 1 if docs/api differs
    scripts/gen-api-docs.py --out DIR  # writes into DIR instead of docs/api

Comments: the `//` lines (or `/* */` block) directly above a declaration are its comment; a `//`
comment after a field on the same line is appended to it. The comment above `syntax` is the file's.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = REPO_ROOT / "proto"
OUT_DIR = REPO_ROOT / "docs" / "api"
# The public API: our package and the standard health service (grpc.testing is interop-only).
SOURCES = ["aimass/v1", "grpc/health/v1"]

STATUS_CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
                "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
SERVICE_ORDER = ["ModelRegistry", "Scheduler", "Recommend", "Mesh", "Health"]
SCALARS = {"double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64",
           "sfixed32", "sfixed64", "bool", "string", "bytes"}


class ProtoError(Exception):
    pass


# -- tokenizer ---------------------------------------------------------------------------------

@dataclass
class Token:
    kind: str   # ident, int, str, sym, comment
    value: str
    line: int
    end_line: int = 0


_TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<line_comment>//[^\n]*)
  | (?P<block_comment>/\*.*?\*/)
  | (?P<str>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<int>-?(?:0[xX][0-9A-Fa-f]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?))
  | (?P<sym>[{}()\[\]<>;=,:.+-])
""", re.S | re.X)


def tokenize(text: str, path: str) -> list[Token]:
    tokens, pos, line = [], 0, 1
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            raise ProtoError(f"{path}:{line}: unexpected character {text[pos]!r}")
        kind, value = m.lastgroup, m.group()
        start = line
        line += value.count("\n")
        pos = m.end()
        if kind in ("ws", "nl"):
            continue
        if kind == "line_comment":
            tokens.append(Token("comment", value[2:], start, start))
        elif kind == "block_comment":
            body = value[2:-2]
            lines = [re.sub(r"^\s*\* ?", "", l) if l.strip().startswith("*") else l for l in body.split("\n")]
            tokens.append(Token("comment", "\n".join(lines).strip("\n"), start, line))
        else:
            tokens.append(Token(kind, value, start, start))
    return tokens


def clean_comment(lines: list[str]) -> str:
    """Strips the one space after `//` and surrounding blank lines; keeps further indentation."""
    out = [l[1:] if l.startswith(" ") else l for l in "\n".join(lines).split("\n")]
    out = [l.rstrip() for l in out]
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


# -- model ---------------------------------------------------------------------------------------

@dataclass
class Field:
    name: str
    number: int
    type: str           # as written (scalar, or a type name); for maps the value type
    label: str = ""      # "", "repeated", "optional"
    key_type: str = ""   # maps only
    oneof: str = ""
    comment: str = ""
    resolved: str = ""   # fully qualified name of a message/enum type, else ""


@dataclass
class EnumValue:
    name: str
    number: int
    comment: str = ""


@dataclass
class Enum:
    name: str
    full_name: str
    file: "ProtoFile"
    comment: str = ""
    values: list = field(default_factory=list)


@dataclass
class Message:
    name: str
    full_name: str
    file: "ProtoFile"
    comment: str = ""
    fields: list = field(default_factory=list)
    oneofs: list = field(default_factory=list)      # (name, comment)
    messages: list = field(default_factory=list)
    enums: list = field(default_factory=list)


@dataclass
class Rpc:
    name: str
    request: str
    response: str
    client_streaming: bool
    server_streaming: bool
    comment: str = ""
    request_resolved: str = ""
    response_resolved: str = ""

    @property
    def kind(self) -> str:
        if self.client_streaming and self.server_streaming:
            return "bidirectional streaming"
        if self.client_streaming:
            return "client streaming"
        if self.server_streaming:
            return "server streaming"
        return "unary"


@dataclass
class Service:
    name: str
    full_name: str
    file: "ProtoFile"
    comment: str = ""
    rpcs: list = field(default_factory=list)


@dataclass
class ProtoFile:
    path: str            # relative to proto/
    comment: str = ""
    package: str = ""
    syntax: str = ""
    imports: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    enums: list = field(default_factory=list)
    services: list = field(default_factory=list)


# -- parser --------------------------------------------------------------------------------------

class Parser:
    def __init__(self, text: str, path: str):
        self.path = path
        self.tokens = tokenize(text, path)
        self.i = 0
        self.last = None          # last non-comment token consumed
        self.last_decl = None     # element whose trailing same-line comment may follow
        self.pending: list[Token] = []

    # Comments are consumed lazily: `_skip_comments` files them as pending (leading) comments, or as
    # the trailing comment of the previous declaration when on the same line as its last token.
    def _skip_comments(self):
        while self.i < len(self.tokens) and self.tokens[self.i].kind == "comment":
            tok = self.tokens[self.i]
            self.i += 1
            if self.last is not None and tok.line == self.last.line and self.last_decl is not None \
                    and not self.pending:
                extra = clean_comment([tok.value])
                self.last_decl.comment = (self.last_decl.comment + "\n" + extra).strip("\n")
                continue
            self.pending.append(tok)

    def peek(self) -> Token | None:
        self._skip_comments()
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def leading_comment(self) -> str:
        """The pending comment block that ends on the line right above the next token."""
        tok = self.peek()
        if tok is None or not self.pending:
            self.pending = []
            return ""
        block, expect = [], tok.line - 1
        for c in reversed(self.pending):
            if c.end_line != expect:
                break
            block.insert(0, c)
            expect = c.line - 1
        self.pending = []
        return clean_comment([c.value for c in block])

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise ProtoError(f"{self.path}: unexpected end of file")
        self.i += 1
        self.pending = []
        self.last = tok
        return tok

    def expect(self, value: str) -> Token:
        tok = self.next()
        if tok.value != value:
            raise ProtoError(f"{self.path}:{tok.line}: expected {value!r}, found {tok.value!r}")
        return tok

    def ident(self) -> str:
        tok = self.next()
        if tok.kind != "ident":
            raise ProtoError(f"{self.path}:{tok.line}: expected a name, found {tok.value!r}")
        return tok.value

    def accept(self, value: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.value == value and tok.kind in ("sym", "ident"):
            self.next()
            return True
        return False

    def skip_statement(self):
        """Skips to the end of an option/reserved/extensions statement (balanced brackets)."""
        depth = 0
        while True:
            tok = self.next()
            if tok.value in ("{", "[", "("):
                depth += 1
            elif tok.value in ("}", "]", ")"):
                depth -= 1
            elif tok.value == ";" and depth == 0:
                return

    def skip_brackets(self, open_: str, close: str):
        depth = 0
        while True:
            tok = self.next()
            if tok.value == open_:
                depth += 1
            elif tok.value == close:
                depth -= 1
                if depth == 0:
                    return

    # file
    def parse(self) -> ProtoFile:
        f = ProtoFile(path=self.path)
        first = True
        while self.peek() is not None:
            comment = self.leading_comment()
            tok = self.peek()
            if first and tok.value == "syntax":
                f.comment = comment
            first = False
            word = self.ident()
            if word == "syntax":
                self.expect("=")
                f.syntax = self.next().value.strip("\"'")
                self.expect(";")
            elif word == "package":
                f.package = self.ident()
                self.expect(";")
            elif word == "import":
                tok = self.next()
                if tok.value in ("public", "weak"):
                    tok = self.next()
                f.imports.append(tok.value.strip("\"'"))
                self.expect(";")
            elif word == "option":
                self.skip_statement()
            elif word == "message":
                f.messages.append(self.message(f, f.package, comment))
            elif word == "enum":
                f.enums.append(self.enum(f, f.package, comment))
            elif word == "service":
                f.services.append(self.service(f, comment))
            elif word == ";":
                continue
            else:
                raise ProtoError(f"{self.path}:{self.last.line}: unexpected {word!r} at top level")
        if f.syntax != "proto3":
            raise ProtoError(f"{self.path}: only proto3 files are supported (syntax {f.syntax!r})")
        return f

    def _qualify(self, scope: str, name: str) -> str:
        return f"{scope}.{name}" if scope else name

    def service(self, f: ProtoFile, comment: str) -> Service:
        name = self.ident()
        svc = Service(name, self._qualify(f.package, name), f, comment)
        self.expect("{")
        while not self.accept("}"):
            comment = self.leading_comment()
            word = self.ident() if self.peek().kind == "ident" else self.next().value
            if word == "option":
                self.skip_statement()
            elif word == ";":
                continue
            elif word == "rpc":
                rname = self.ident()
                self.expect("(")
                cs = self.accept("stream")
                req = self.ident()
                self.expect(")")
                self.expect("returns")
                self.expect("(")
                ss = self.accept("stream")
                resp = self.ident()
                self.expect(")")
                rpc = Rpc(rname, req, resp, cs, ss, comment)
                if self.peek().value == "{":
                    self.skip_brackets("{", "}")
                    self.accept(";")
                else:
                    self.expect(";")
                svc.rpcs.append(rpc)
                self.last_decl = rpc
            else:
                raise ProtoError(f"{self.path}:{self.last.line}: unexpected {word!r} in service {name}")
        self.last_decl = None
        return svc

    def enum(self, f: ProtoFile, scope: str, comment: str) -> Enum:
        name = self.ident()
        en = Enum(name, self._qualify(scope, name), f, comment)
        self.expect("{")
        while not self.accept("}"):
            comment = self.leading_comment()
            tok = self.next()
            if tok.value in ("option", "reserved"):
                self.skip_statement()
            elif tok.value == ";":
                continue
            elif tok.kind == "ident":
                self.expect("=")
                number = int(self.next().value, 0)
                if self.peek().value == "[":
                    self.skip_brackets("[", "]")
                self.expect(";")
                value = EnumValue(tok.value, number, comment)
                en.values.append(value)
                self.last_decl = value
            else:
                raise ProtoError(f"{self.path}:{tok.line}: unexpected {tok.value!r} in enum {name}")
        self.last_decl = None
        self.accept(";")
        return en

    def message(self, f: ProtoFile, scope: str, comment: str) -> Message:
        name = self.ident()
        msg = Message(name, self._qualify(scope, name), f, comment)
        self.expect("{")
        self._message_body(f, msg, oneof="")
        self.accept(";")
        return msg

    def _message_body(self, f: ProtoFile, msg: Message, oneof: str):
        while not self.accept("}"):
            comment = self.leading_comment()
            tok = self.peek()
            word = tok.value
            if word in ("option", "reserved", "extensions"):
                self.next()
                self.skip_statement()
            elif word == ";":
                self.next()
            elif word == "message" and not oneof:
                self.next()
                msg.messages.append(self.message(f, msg.full_name, comment))
            elif word == "enum" and not oneof:
                self.next()
                msg.enums.append(self.enum(f, msg.full_name, comment))
            elif word == "oneof" and not oneof:
                self.next()
                oname = self.ident()
                msg.oneofs.append((oname, comment))
                self.expect("{")
                self._message_body(f, msg, oneof=oname)
            elif word == "map":
                self.next()
                self.expect("<")
                key = self.ident()
                self.expect(",")
                value = self.ident()
                self.expect(">")
                self._field(msg, value, "", comment, oneof, key_type=key)
            elif tok.kind == "ident":
                self.next()
                label = ""
                if word in ("repeated", "optional", "required"):
                    label, word = word, self.ident()
                self._field(msg, word, label, comment, oneof)
            else:
                raise ProtoError(f"{self.path}:{tok.line}: unexpected {word!r} in message {msg.name}")
        self.last_decl = None

    def _field(self, msg: Message, type_: str, label: str, comment: str, oneof: str, key_type: str = ""):
        name = self.ident()
        self.expect("=")
        number = int(self.next().value, 0)
        if self.peek().value == "[":
            self.skip_brackets("[", "]")
        self.expect(";")
        fld = Field(name, number, type_, label, key_type, oneof, comment)
        msg.fields.append(fld)
        self.last_decl = fld


# -- loading and resolving ------------------------------------------------------------------------

class Registry:
    def __init__(self, proto_root: Path, sources=SOURCES):
        self.root = proto_root
        self.files: dict[str, ProtoFile] = {}
        self.types: dict[str, Message | Enum] = {}
        for src in sources:
            for path in sorted((proto_root / src).glob("*.proto")):
                self.load(path.relative_to(proto_root).as_posix())
        for f in list(self.files.values()):
            for m in f.messages:
                self._resolve_message(m)
            for s in f.services:
                for r in s.rpcs:
                    r.request_resolved = self.resolve(r.request, f.package, f, f"rpc {s.name}.{r.name}")
                    r.response_resolved = self.resolve(r.response, f.package, f, f"rpc {s.name}.{r.name}")
                    for t, what in ((r.request_resolved, "request"), (r.response_resolved, "response")):
                        if not isinstance(self.types[t], Message):
                            raise ProtoError(f"{f.path}: rpc {s.name}.{r.name}: {what} {t} is not a message")

    def load(self, rel: str):
        if rel in self.files:
            return
        path = self.root / rel
        if not path.is_file():
            raise ProtoError(f"import not found: {rel} (looked in {self.root})")
        f = Parser(path.read_text(encoding="utf-8"), rel).parse()
        self.files[rel] = f

        def register(items):
            for t in items:
                if t.full_name in self.types:
                    raise ProtoError(f"{rel}: {t.full_name} is defined twice")
                self.types[t.full_name] = t
                if isinstance(t, Message):
                    register(t.messages)
                    register(t.enums)

        register(f.messages)
        register(f.enums)
        for imp in f.imports:
            self.load(imp)

    def visible_files(self, f: ProtoFile) -> set:
        return {f.path, *f.imports}

    def resolve(self, name: str, scope: str, f: ProtoFile, where: str) -> str:
        """protobuf scoping: innermost scope outwards; a leading dot means fully qualified."""
        if name.startswith("."):
            candidates = [name[1:]]
        else:
            parts = scope.split(".") if scope else []
            candidates = [".".join(parts[:i] + [name]) for i in range(len(parts), -1, -1)]
        for c in candidates:
            t = self.types.get(c)
            if t is not None:
                if t.file.path not in self.visible_files(f):
                    raise ProtoError(f"{f.path}: {where}: {c} is defined in {t.file.path}, which is not imported")
                return c
        raise ProtoError(f"{f.path}: {where}: unknown type {name!r}")

    def _resolve_message(self, m: Message):
        for fld in m.fields:
            if fld.type not in SCALARS:
                fld.resolved = self.resolve(fld.type, m.full_name, m.file, f"field {m.full_name}.{fld.name}")
            if fld.key_type and fld.key_type not in SCALARS:
                raise ProtoError(f"{m.file.path}: map key of {m.full_name}.{fld.name} must be a scalar")
        for nested in m.messages:
            self._resolve_message(nested)

    def services(self) -> list[Service]:
        """The services in the order of the design (registry first), others by name after them."""
        found = [s for path in sorted(self.files) for s in self.files[path].services]
        return sorted(found, key=lambda s: (SERVICE_ORDER.index(s.name) if s.name in SERVICE_ORDER
                                            else len(SERVICE_ORDER), s.full_name))

    def closure(self, svc: Service) -> list[str]:
        """Every message and enum the service uses, in order of first use (breadth first)."""
        order, seen = [], set()
        queue = []
        for r in svc.rpcs:
            queue += [r.request_resolved, r.response_resolved]
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.add(name)
            order.append(name)
            t = self.types[name]
            if isinstance(t, Message):
                queue += [fld.resolved for fld in t.fields if fld.resolved]
        return order


# -- Markdown ------------------------------------------------------------------------------------

_LIST_RE = re.compile(r"^\s*(?:[*+-]|\d+\.)\s")


def render_block(text: str) -> str:
    """A comment as Markdown: indented layouts (aligned tables) become ```text blocks; lists stay."""
    out, fence, prev = [], False, None
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip():
            if fence:
                out.append("```")
                fence = False
            out.append("")
            prev = None
        elif _LIST_RE.match(line) and not fence:
            out.append(line.strip() if indent < 2 else line)
            prev = "list"
        elif indent >= 2 and prev == "list":
            out.append("  " + line.strip())
        elif indent >= 2 or (fence and indent >= 1):
            if not fence:
                out.append("```text")
                fence = True
            out.append(line)
            prev = "fence"
        else:
            if fence:
                out.append("```")
                fence = False
            out.append(line)
            prev = "text"
    if fence:
        out.append("```")
    return "\n".join(out).strip("\n")


def render_cell(text: str) -> str:
    """A comment in one table cell: lines joined, paragraphs and list items kept with <br>."""
    paras, cur = [], []
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                paras.append(" ".join(cur))
                cur = []
        elif _LIST_RE.match(line) and cur:
            paras.append(" ".join(cur))
            cur = [line.strip()]
        else:
            cur.append(line.strip())
    if cur:
        paras.append(" ".join(cur))
    return "<br>".join(paras).replace("|", "\\|")


def slugify(heading: str) -> str:
    """GitHub's heading anchors: lower case, punctuation except - and _ dropped, spaces to -."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def status_codes_in(text: str) -> list[str]:
    return [c for c in STATUS_CODES if re.search(rf"(?<![A-Z_]){c}(?![A-Z_])", text) and c != "OK"]


def page_name(service: Service) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", service.name).lower() + ".md"


class Page:
    def __init__(self, reg: Registry, svc: Service):
        self.reg, self.svc = reg, svc
        self.types = reg.closure(svc)
        self.package = svc.file.package
        self.headings: dict[str, int] = {}
        self.anchor: dict[str, str] = {}

    def display(self, full_name: str) -> str:
        t = self.reg.types[full_name]
        pkg = t.file.package
        return full_name[len(pkg) + 1:] if pkg and full_name.startswith(pkg + ".") else full_name

    def heading(self, text: str) -> str:
        slug = slugify(text)
        n = self.headings.get(slug, 0)
        self.headings[slug] = n + 1
        return slug if n == 0 else f"{slug}-{n}"

    def link(self, full_name: str, text: str | None = None) -> str:
        return f"[`{text or self.display(full_name)}`](#{self.anchor[full_name]})"

    def field_type(self, fld: Field) -> str:
        if fld.key_type:
            value = self.display(fld.resolved) if fld.resolved else fld.type
            text = f"map<{fld.key_type}, {value}>"
            return self.link(fld.resolved, text) if fld.resolved else f"`{text}`"
        base = self.link(fld.resolved) if fld.resolved else f"`{fld.type}`"
        return f"{fld.label} {base}" if fld.label else base

    def render(self) -> str:
        svc, f = self.svc, self.svc.file
        # Anchors in heading order, so duplicates get GitHub's -1, -2 suffixes.
        title = f"{svc.name} (`{svc.full_name}`)"
        self.heading(title)
        for h in ("Methods", "Notes from the proto file", "Method details"):
            self.heading(h)
        rpc_anchor = {r.name: self.heading(r.name) for r in svc.rpcs}
        self.heading("Messages")
        msgs = [t for t in self.types if isinstance(self.reg.types[t], Message)]
        enums = [t for t in self.types if isinstance(self.reg.types[t], Enum)]
        for t in msgs:
            self.anchor[t] = self.heading(self.display(t))
        if enums:
            self.heading("Enums")
        for t in enums:
            self.anchor[t] = self.heading(self.display(t))

        out = [f"# {title}", "",
               f"<!-- Generated by scripts/gen-api-docs.py from proto/{f.path}; do not edit by hand. -->", "",
               f"Defined in [`proto/{f.path}`](../../proto/{f.path}), package `{f.package}`. "
               f"[All services](README.md).", ""]
        if svc.comment:
            out += [render_block(svc.comment), ""]
        out += ["## Methods", "", "| Method | Request | Response | Kind |", "|---|---|---|---|"]
        for r in svc.rpcs:
            req = ("stream " if r.client_streaming else "") + self.link(r.request_resolved)
            resp = ("stream " if r.server_streaming else "") + self.link(r.response_resolved)
            out.append(f"| [{r.name}](#{rpc_anchor[r.name]}) | {req} | {resp} | {r.kind} |")
        out.append("")
        if f.comment:
            out += ["## Notes from the proto file", "", render_block(f.comment), ""]
        out += ["## Method details", ""]
        for r in svc.rpcs:
            out += [f"### {r.name}", "", "```proto",
                    f"rpc {r.name}({'stream ' if r.client_streaming else ''}{r.request}) returns "
                    f"({'stream ' if r.server_streaming else ''}{r.response});", "```", "",
                    f"- Path: `/{svc.full_name}/{r.name}`",
                    f"- Kind: {r.kind}",
                    f"- Request: {'a stream of ' if r.client_streaming else ''}{self.link(r.request_resolved)}",
                    f"- Response: {'a stream of ' if r.server_streaming else ''}{self.link(r.response_resolved)}"]
            codes = status_codes_in(r.comment)
            if codes:
                out.append("- Status codes named in its contract: " + ", ".join(f"`{c}`" for c in codes))
            elif status_codes_in(f.comment):
                out.append("- Status codes: see [Notes from the proto file](#notes-from-the-proto-file)")
            out.append("")
            if r.comment:
                out += [render_block(r.comment), ""]
        out += ["## Messages", ""]
        for t in msgs:
            out += self.render_message(self.reg.types[t])
        if enums:
            out += ["## Enums", ""]
            for t in enums:
                out += self.render_enum(self.reg.types[t])
        return "\n".join(out).rstrip("\n") + "\n"

    def render_message(self, m: Message) -> list[str]:
        out = [f"### {self.display(m.full_name)}", "", f"`{m.full_name}` — from `proto/{m.file.path}`", ""]
        if m.comment:
            out += [render_block(m.comment), ""]
        for oname, ocomment in m.oneofs:
            members = ", ".join(f"`{fld.name}`" for fld in m.fields if fld.oneof == oname)
            line = f"Oneof `{oname}`: at most one of {members} is set."
            if ocomment:
                line += " " + render_cell(ocomment)
            out += [line, ""]
        if not m.fields:
            out += ["No fields.", ""]
            return out
        out += ["| Field | Number | Type | Description |", "|---|---|---|---|"]
        for fld in m.fields:
            desc = render_cell(fld.comment)
            if fld.oneof:
                desc = f"*oneof `{fld.oneof}`.* " + desc
            out.append(f"| `{fld.name}` | {fld.number} | {self.field_type(fld)} | {desc.strip()} |")
        out.append("")
        return out

    def render_enum(self, e: Enum) -> list[str]:
        out = [f"### {self.display(e.full_name)}", "", f"`{e.full_name}` (enum) — from `proto/{e.file.path}`", ""]
        if e.comment:
            out += [render_block(e.comment), ""]
        out += ["| Name | Number | Description |", "|---|---|---|"]
        for v in e.values:
            out.append(f"| `{v.name}` | {v.number} | {render_cell(v.comment)} |")
        out.append("")
        return out


def render_index(reg: Registry) -> str:
    out = ["# API reference", "",
           "<!-- Generated by scripts/gen-api-docs.py from proto/; do not edit by hand. -->", "",
           "One page per gRPC service, generated from the comments of the `.proto` files in "
           "[`proto/`](../../proto) by `scripts/gen-api-docs.py` (`--check` verifies these pages are "
           "current; the test suite runs it). Each page lists every method and every message and enum "
           "the service uses, with field numbers, so it can be read without the `.proto` files.", "",
           "| Service | Full name | Page | Methods | Proto file |", "|---|---|---|---|---|"]
    for svc in reg.services():
        rpcs = ", ".join(r.name for r in svc.rpcs)
        out.append(f"| {svc.name} | `{svc.full_name}` | [{page_name(svc)}]({page_name(svc)}) | {rpcs} | "
                   f"[`{svc.file.path}`](../../proto/{svc.file.path}) |")
    out.append("")
    out += ["From Python, the [`aimass` package](../../clients/python/) (`pip install ./clients/python`) wraps "
            "these services in a typed client (its stubs are generated from these files when it is built).", "",
            "Generate a client in any language from the same files, e.g. Python "
            "(see [`examples/python/`](../../examples/python/)):", "",
            "    python -m grpc_tools.protoc -Iproto --python_out=OUT --grpc_python_out=OUT \\",
            "        aimass/v1/common.proto aimass/v1/registry.proto aimass/v1/scheduler.proto \\",
            "        aimass/v1/recommend.proto aimass/v1/mesh.proto", "",
            "Beside these, on the same port: the Open Inference Protocol v2 "
            "([protocols/open-inference.md](protocols/open-inference.md), `inference.GRPCInferenceService`, for "
            "Triton's and KServe's clients) and server reflection ([protocols/reflection.md](protocols/reflection.md)). "
            "Over HTTP (`aimass serve --http-port P`): the REST form of the Open Inference Protocol with JSON and "
            "binary tensors ([protocols/open-inference.md#rest-form-http-port]"
            "(protocols/open-inference.md#rest-form-http-port)) and the web console's JSON API "
            "([../console.md](../console.md#json-api)), each a gateway onto the gRPC calls above with the same "
            "authorization and errors (a 429 carries `Retry-After`).", ""]
    for path in sorted(reg.files):
        f = reg.files[path]
        if not f.services and f.comment:
            out += [f"## Conventions (`proto/{path}`)", "", render_block(f.comment), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def generate(proto_root: Path = PROTO_ROOT) -> dict[str, str]:
    reg = Registry(proto_root)
    pages = {"README.md": render_index(reg)}
    for svc in reg.services():
        name = page_name(svc)
        if name in pages:
            raise ProtoError(f"two services map to docs/api/{name}")
        pages[name] = Page(reg, svc).render()
    return pages


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and fail if docs/api differs")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default docs/api)")
    ap.add_argument("--proto-root", type=Path, default=PROTO_ROOT, help="folder of the .proto files")
    args = ap.parse_args(argv)
    try:
        pages = generate(args.proto_root)
    except ProtoError as e:
        print(f"gen-api-docs: {e}", file=sys.stderr)
        return 2
    if args.check:
        with tempfile.TemporaryDirectory(prefix="aimass-api-docs-") as tmp:
            for name, text in pages.items():
                (Path(tmp) / name).write_text(text, encoding="utf-8")
            problems = []
            committed = {p.name for p in args.out.glob("*.md")} if args.out.is_dir() else set()
            for name in sorted(set(pages) | committed):
                new = Path(tmp) / name
                old = args.out / name
                if not new.exists():
                    problems.append(f"{old}: not generated from proto/ any more (delete it)")
                elif not old.exists():
                    problems.append(f"{old}: missing")
                elif old.read_text(encoding="utf-8") != new.read_text(encoding="utf-8"):
                    diff = difflib.unified_diff(old.read_text(encoding="utf-8").splitlines(),
                                                new.read_text(encoding="utf-8").splitlines(),
                                                str(old), "regenerated", lineterm="", n=1)
                    problems.append(f"{old}: out of date\n" + "\n".join(list(diff)[:40]))
        if problems:
            print("gen-api-docs --check: docs/api is not what proto/ generates; run scripts/gen-api-docs.py\n"
                  + "\n".join(problems), file=sys.stderr)
            return 1
        print(f"gen-api-docs --check: {len(pages)} pages up to date")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (args.out / name).write_text(text, encoding="utf-8")
    print(f"gen-api-docs: wrote {len(pages)} pages to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
