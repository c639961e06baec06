import AIMassAPI
import AIMassClient
import Hummingbird
import RPCCore

/// `GET /api/models/M/ab`: per served version outcomes of the model's recorded feedback (views, clicks, purchases,
/// ratings, click-through with Wilson's 95% interval), the same report as `aimass ab report --json`, read with the
/// caller's token through Feedback.ListFeedback (READER on the model; NOT_FOUND when it cannot be read).
enum ABReportRoute {
    static func register(on router: Router<BasicRequestContext>, gateway g: Gateway) {
        router.get("/api/models/:model/ab") { request, context in
            await answering(g.logger) {
                let model = try context.path("model")
                let options = g.options(for: request)
                let report = try await ABReport.read(model: model) { page in
                    try await g.client.unary(FeedbackMethods.listFeedback, request: page, options: options)
                }
                return JSONResponse.make(report.jsonObject(model: model))
            }
        }
    }
}
