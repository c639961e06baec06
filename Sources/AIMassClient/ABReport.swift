import AIMassAPI
import Foundation

/// Per served version outcomes of a model's recorded feedback: what `aimass ab report` prints and the console's A/B
/// chart draws. Built from Feedback.ListFeedback (which needs READER), grouped by `served_version` (0 = unknown).
///
/// ```swift
/// let report = try await ABReport.read(model: "movies") { request in
///     try await client.unary(FeedbackMethods.listFeedback, request: request, options: options)
/// }
/// for (version, outcome) in report.rows { print(version, outcome.clickThrough ?? 0) }
/// ```
public struct ABReport: Sendable {
    /// Outcomes by served version.
    public private(set) var outcomes: [UInt32: ABOutcome] = [:]

    public init() {}

    /// The outcomes, by version number ascending.
    public var rows: [(version: UInt32, outcome: ABOutcome)] {
        outcomes.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Counts one event for the version that served it.
    public mutating func count(_ event: FeedbackEvent) {
        outcomes[event.servedVersion, default: ABOutcome()].count(event)
    }

    /// The largest page Feedback.ListFeedback returns.
    public static let pageSize: UInt32 = 10_000

    /// Reads every recorded event of `model`, page by page through `page`, and counts them.
    public static func read(
        model: String, page: (ListFeedbackRequest) async throws -> ListFeedbackResponse
    ) async throws -> ABReport {
        var report = ABReport()
        var after: UInt64 = 0
        while true {
            let events = try await page(ListFeedbackRequest(model: model, afterSequence: after, pageSize: pageSize)).events
            guard let last = events.last else { return report }
            after = last.sequence
            for recorded in events { if let event = recorded.event { report.count(event) } }
        }
    }

    /// The JSON form (`aimass ab report --json`, the console's `/api/models/M/ab`): `{"model", "versions": [...]}`.
    public func jsonObject(model: String) -> [String: Any] {
        ["model": model, "versions": rows.map { $0.outcome.jsonObject(version: $0.version) }]
    }
}

/// One version's feedback counts in an A/B report.
public struct ABOutcome: Sendable, Equatable {
    public var views = 0
    public var clicks = 0
    public var purchases = 0
    public var ratings = 0
    public var ratingSum = 0.0

    public init() {}

    public mutating func count(_ event: FeedbackEvent) {
        switch event.kind {
        case .view: views += 1
        case .click: clicks += 1
        case .purchase: purchases += 1
        case .rating:
            ratings += 1
            ratingSum += event.value
        default: break
        }
    }

    /// Clicks per view, when there were views.
    public var clickThrough: Double? { views == 0 ? nil : Double(clicks) / Double(views) }

    public var meanRating: Double? { ratings == 0 ? nil : ratingSum / Double(ratings) }

    /// Wilson's 95% score interval of the click-through (clicks capped at views); (0, 0) without views.
    public var clickThroughInterval: (low: Double, high: Double) {
        guard views > 0 else { return (0, 0) }
        let n = Double(views)
        let p = min(Double(clicks), n) / n
        let z = 1.959963984540054
        let centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        let half = z / (1 + z * z / n) * (p * (1 - p) / n + z * z / (4 * n * n)).squareRoot()
        return (max(0, centre - half), min(1, centre + half))
    }

    /// `{"version", "views", "clicks", "purchases", "ratings", "mean_rating", "click_through",
    /// "click_through_ci95": [low, high]}`, a missing figure as `null`.
    public func jsonObject(version: UInt32) -> [String: Any] {
        let (low, high) = clickThroughInterval
        return [
            "version": version, "views": views, "clicks": clicks, "purchases": purchases, "ratings": ratings,
            "mean_rating": meanRating ?? NSNull(), "click_through": clickThrough ?? NSNull(),
            "click_through_ci95": [low, high],
        ]
    }
}
