import FoundationEssentials

/// An error from the recommendation core: a ``Code`` saying what kind of failure it was and a message with context.
///
/// Every message names what was wrong: the offending id, argument or line number. Errors are values; the library never
/// prints and never traps on input.
///
/// ```swift
/// do {
///     _ = try recommender.recommend(user: "42", k: 10)
/// } catch {
///     if error.code == .notFound { ... }   // error.message == "unknown user '42'"
/// }
/// ```
public struct RecommendError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure. A struct over a private enum so that cases can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidArgument
            case notFound
            case malformedInput
            case ioError
        }

        private let wrapped: Wrapped

        private init(_ wrapped: Wrapped) {
            self.wrapped = wrapped
        }

        /// An argument or manifest value is out of range or inconsistent (for example `k` ≤ 0).
        public static let invalidArgument = Code(.invalidArgument)
        /// A user or item id is not in the model.
        public static let notFound = Code(.notFound)
        /// An interactions file or manifest text could not be parsed.
        public static let malformedInput = Code(.malformedInput)
        /// A file could not be read.
        public static let ioError = Code(.ioError)

        public var description: String {
            switch self.wrapped {
            case .invalidArgument: "invalidArgument"
            case .notFound: "notFound"
            case .malformedInput: "malformedInput"
            case .ioError: "ioError"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// A human-readable message naming the offending id, argument or line.
    public var message: String
    /// The 1-based line of the input that failed to parse, when the error comes from a parser.
    public var line: Int?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What went wrong, naming the offending value.
    ///   - line: The 1-based input line, for parse errors.
    public init(code: Code, message: String, line: Int? = nil) {
        self.code = code
        self.message = message
        self.line = line
    }

    public var description: String {
        "\(self.code): \(self.message)"
    }
}

extension RecommendError {
    static func invalidArgument(_ message: String) -> RecommendError {
        RecommendError(code: .invalidArgument, message: message)
    }

    static func notFound(_ message: String) -> RecommendError {
        RecommendError(code: .notFound, message: message)
    }

    /// The bytes of a file, or an `ioError` naming it.
    static func reading(_ path: String) throws(RecommendError) -> Data {
        do {
            return try Data(contentsOf: URL(filePath: path))
        } catch {
            throw RecommendError(code: .ioError, message: "cannot read '\(path)': \(error)")
        }
    }

    static func malformed(line: Int, _ message: String) -> RecommendError {
        RecommendError(code: .malformedInput, message: "line \(line): \(message)", line: line)
    }
}
