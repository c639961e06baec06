/// Names a version of a model: by number, by alias, or the latest.
///
/// Integer and string literals work: `3` is `.number(3)`, `"production"` is `.alias("production")`, and
/// ``init(parsing:)`` reads the text a user typed (`"3"`, `"latest"`, `"production"`).
public enum VersionReference: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral
{
    /// A version number (1, 2, 3 …).
    case number(Int)
    /// An alias such as `production`.
    case alias(String)
    /// The highest-numbered version.
    case latest

    public init(integerLiteral value: Int) { self = .number(value) }

    public init(stringLiteral value: String) { self = .alias(value) }

    /// Parses user text: digits are a number, `latest` is ``latest``, anything else an alias (validated when used).
    public init(parsing text: String) {
        if let number = Int(text), number > 0, text.allSatisfy(\.isASCII) {
            self = .number(number)
        } else if text == "latest" {
            self = .latest
        } else {
            self = .alias(text)
        }
    }

    public var description: String {
        switch self {
        case .number(let number): "version \(number)"
        case .alias(let alias): "alias '\(alias)'"
        case .latest: "latest version"
        }
    }
}
