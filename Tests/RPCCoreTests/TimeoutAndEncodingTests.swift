import Testing

@testable import RPCCore

@Suite("grpc-timeout")
struct GRPCTimeoutTests {
    @Test(
        "parses every unit",
        arguments: [
            ("1H", Duration.seconds(3600)),
            ("2M", .seconds(120)),
            ("3S", .seconds(3)),
            ("4m", .milliseconds(4)),
            ("5u", .microseconds(5)),
            ("6n", .nanoseconds(6)),
            ("0m", .zero),
            ("00000010S", .seconds(10)),
            ("99999999H", .seconds(99_999_999 * 3600)),
        ]
    )
    func parsesUnits(header: String, expected: Duration) {
        #expect(GRPCTimeout.parse(header) == expected)
    }

    @Test("accepts 8 digits, refuses 9")
    func digitLimit() {
        #expect(GRPCTimeout.parse("12345678m") == .milliseconds(12_345_678))
        #expect(GRPCTimeout.parse("123456789m") == nil)
        #expect(GRPCTimeout.parse("000000001S") == nil)
    }

    @Test(
        "refuses malformed values",
        arguments: ["", "S", "m", "1", "10", "1s", "1h", "1x", "-1S", "+1S", "1.5S", " 1S", "1S ", "1 S", "S1", "1SS", "１S"]
    )
    func refusesMalformed(header: String) {
        #expect(GRPCTimeout.parse(header) == nil)
    }

    @Test(
        "formats with the finest unit that fits in 8 digits",
        arguments: [
            (Duration.nanoseconds(1), "1n"),
            (.nanoseconds(99_999_999), "99999999n"),
            (.milliseconds(50), "50000000n"),
            (.milliseconds(100), "100000u"),
            (.seconds(1), "1000000u"),
            (.seconds(100), "100000m"),
            (.seconds(100_000), "100000S"),
            (.seconds(100_000_000), "1666667M"),
            (.seconds(6_000_000_000), "1666667H"),
        ]
    )
    func formats(duration: Duration, expected: String) {
        #expect(GRPCTimeout.format(duration) == expected)
    }

    @Test("never formats a shorter timeout, and never zero or negative")
    func roundsUp() throws {
        #expect(GRPCTimeout.format(.zero) == "1n")
        #expect(GRPCTimeout.format(.seconds(-5)) == "1n")
        // 100_000_001 ns does not fit in 8 digits of n: it becomes 100001u (rounded up, not down).
        #expect(GRPCTimeout.format(.nanoseconds(100_000_001)) == "100001u")
        for duration: Duration in [.nanoseconds(123_456_789_123), .milliseconds(1_234_567_891), .seconds(98_765_432)] {
            let formatted = GRPCTimeout.format(duration)
            let parsed = try #require(GRPCTimeout.parse(formatted), "\(formatted) does not parse")
            #expect(parsed >= duration)
            #expect(formatted.utf8.count <= 9)
        }
    }

    @Test("huge timeouts format without overflowing (clamped to hours)")
    func hugeTimeouts() throws {
        // 10^10 s is more than Int64 nanoseconds can hold.
        #expect(GRPCTimeout.format(.seconds(10_000_000_000)) == "2777778H")
        #expect(GRPCTimeout.format(.seconds(Int64.max)) == "99999999H")
        let parsed = try #require(GRPCTimeout.parse(GRPCTimeout.format(.seconds(9_999_999_999))))
        #expect(parsed >= .seconds(9_999_999_999))
    }
}

@Suite("grpc-message percent-encoding")
struct GRPCMessageEncodingTests {
    static let special = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"

    @Test("the interop special_status_message round-trips")
    func specialStatusMessage() {
        let encoded = GRPCMessageEncoding.encode(Self.special)
        #expect(encoded.hasPrefix("%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88"))
        #expect(encoded.hasSuffix("%09%0A"))
        // Only printable ASCII goes on the wire.
        #expect(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        #expect(GRPCMessageEncoding.decode(encoded) == Self.special)
    }

    @Test("percent itself is escaped; printable ASCII is kept")
    func percentEscaped() {
        #expect(GRPCMessageEncoding.encode("100% sure") == "100%25 sure")
        #expect(GRPCMessageEncoding.decode("100%25 sure") == "100% sure")
        let printable = String(decoding: Array(0x20...0x7E).filter { $0 != 0x25 }.map { UInt8($0) }, as: UTF8.self)
        #expect(GRPCMessageEncoding.encode(printable) == printable)
        #expect(GRPCMessageEncoding.encode("") == "")
    }

    @Test("decodes lower- and upper-case hex")
    func hexCase() {
        #expect(GRPCMessageEncoding.decode("%e2%98%ba") == "☺")
        #expect(GRPCMessageEncoding.decode("%E2%98%BA") == "☺")
        #expect(GRPCMessageEncoding.decode("a%41b") == "aAb")
    }

    @Test(
        "keeps malformed escapes as they are",
        arguments: [
            ("%", "%"), ("%4", "%4"), ("abc%", "abc%"), ("abc%4", "abc%4"), ("%zz", "%zz"), ("%4g", "%4g"),
            ("%%41", "%A"), ("%41%", "A%"), ("%G1%41", "%G1A"), ("100% sure", "100% sure"),
        ]
    )
    func malformedEscapes(input: String, expected: String) {
        #expect(GRPCMessageEncoding.decode(input) == expected)
    }

    @Test("escapes that are not UTF-8 decode without crashing")
    func invalidUTF8() {
        let decoded = GRPCMessageEncoding.decode("x%FF%FEy")
        #expect(decoded.hasPrefix("x"))
        #expect(decoded.hasSuffix("y"))
        #expect(decoded.unicodeScalars.contains("\u{FFFD}"))
    }
}

@Suite("Base64")
struct Base64Tests {
    @Test(
        "encodes with padding (RFC 4648 vectors)",
        arguments: [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="),
                    ("foobar", "Zm9vYmFy")]
    )
    func encodes(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("decodes unpadded input", arguments: [("Zg", "f"), ("Zm8", "fo"), ("Zm9vYg", "foob"), ("Zm9vYmE", "fooba")])
    func decodesUnpadded(encoded: String, plain: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test("round-trips every byte value and every length up to 64")
    func roundTrip() {
        let all = (0...255).map(UInt8.init)
        #expect(Base64.decode(Base64.encode(all)) == all)
        for length in 0...64 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Base64.encode(bytes)
            #expect(encoded.utf8.count == (length + 2) / 3 * 4)
            #expect(Base64.decode(encoded) == bytes)
            #expect(Base64.decode(String(encoded.filter { $0 != "=" })) == bytes)
        }
    }

    @Test("accepts the URL-safe alphabet")
    func urlSafe() {
        #expect(Base64.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64.decode("+/8") == [0xFB, 0xFF])
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
    }

    @Test("refuses characters outside the alphabet", arguments: ["Zm9v!", "Zm 9v", "Zm9v\n", "Zm9*", "é", "Zm\u{0}9v"])
    func invalid(text: String) {
        #expect(Base64.decode(text) == nil)
    }
}
