import AIMassAPI
import AIMassClient
import ArgumentParser
@preconcurrency import Foundation
import RPCCore
import RPCHTTP2

/// `aimass promote`: champion/challenger — move an alias to a challenger only when its stored metric earns it.
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Move an alias to a challenger version only if its stored metric beats the champion's by a margin.",
        discussion: """
            The server compares the challenger's stored metric with the one of the version the alias points at \\
            (evaluate both first: aimass evaluate --protocol holdout) and moves the alias only when the challenger \\
            is at least --margin higher, recording the comparison as the move's reason (aimass model alias M A \\
            shows it). Otherwise nothing moves and the command fails with FAILED_PRECONDITION naming both figures.

            Example:
              aimass promote --model movies --alias production --challenger 4 --metric holdout.precision@10 --margin 0.005
            """
    )
    @OptionGroup var options: ClientOptions
    @Option(help: "The model.") var model: String
    @Option(help: "The alias to move.") var alias: String = "production"
    @Option(help: "The challenger version number.") var challenger: UInt32
    @Option(help: "The stored metric to compare (higher is better).") var metric: String = "holdout.precision@10"
    @Option(help: "How much higher the challenger must be.") var margin: Double = 0
    @Option(help: "Why (kept with the comparison in the alias history).") var reason: String = ""

    func run() async throws {
        await options.run { client in
            let response: SetAliasResponse = try await client.unary(
                ModelRegistryMethods.setAlias,
                SetAliasRequest(
                    model: model, alias: alias, version: challenger, reason: reason, requireMetric: metric, margin: margin))
            let change = response.change ?? AliasChange()
            if options.json { CLIOutput.printJSON(JSONForm.aliasChange(change)); return }
            print("\(model) \(alias): \(change.previousVersion == 0 ? "-" : String(change.previousVersion)) -> \(change.version)")
            print(change.reason)
        }
    }
}

/// `aimass ab`: an online A/B split of an alias, and its report.
struct ABCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ab",
        abstract: "Split an alias's users with a challenger version, and report per-version outcomes.",
        subcommands: [Split.self, Report.self]
    )

    struct Split: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "split",
            abstract: "Send a percentage of users (sticky by user) of an alias to a challenger; --percent 0 ends it.",
            discussion: """
                Recommend calls for the alias with a user id are served by the challenger for --percent % of users \\
                (by a hash of model, alias and user: the same user always gets the same version), by the alias's \\
                version for the others; served_by.version says which. Moving the alias ends the split.

                Example:
                  aimass ab split --model movies --alias production --challenger 4 --percent 20
                """
        )
        @OptionGroup var options: ClientOptions
        @Option(help: "The model.") var model: String
        @Option(help: "The alias.") var alias: String = "production"
        @Option(help: "The challenger version number (0 ends the split).") var challenger: UInt32 = 0
        @Option(help: "Share of users for the challenger, 0-100.") var percent: UInt32

        func run() async throws {
            await options.run { client in
                let response: SetAliasSplitResponse = try await client.unary(
                    ModelRegistryMethods.setAliasSplit,
                    SetAliasSplitRequest(model: model, alias: alias, challengerVersion: challenger, percent: percent))
                let split = response.split ?? AliasSplit()
                if options.json {
                    CLIOutput.printJSON([
                        "alias": split.alias, "version": split.version, "challenger_version": split.challengerVersion,
                        "percent": split.percent,
                    ])
                    return
                }
                if split.percent == 0 {
                    print("\(model) \(alias): no split")
                } else {
                    print("\(model) \(alias): \(100 - split.percent)% version \(split.version), \(split.percent)% version \(split.challengerVersion)")
                }
            }
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "report",
            abstract: "Per served version: impressions (views), clicks, purchases, ratings, click-through with a 95% interval.",
            discussion: """
                Reads the model's feedback and groups it by served_version (the version that served the \\
                recommendation; 0 = unknown). Click-through = clicks / views, where a client records a view for \\
                each recommended item it shows and a click when one is clicked; the interval is Wilson's score \\
                interval at 95%.

                Example:
                  aimass ab report --model movies --json
                """
        )
        @OptionGroup var options: ClientOptions
        @Option(help: "The model.") var model: String

        func run() async throws {
            await options.run { client in
                let report = try await ABReport.read(model: model) { request in
                    try await client.unary(FeedbackMethods.listFeedback, request)
                }
                if options.json {
                    CLIOutput.printJSON(report.jsonObject(model: model))
                    return
                }
                CLIOutput.printTable(
                    ["VERSION", "VIEWS", "CLICKS", "CTR", "95% CI", "PURCHASES", "RATINGS"],
                    report.rows.map { version, outcome in
                        let (low, high) = outcome.clickThroughInterval
                        return [
                            version == 0 ? "unknown" : String(version), String(outcome.views), String(outcome.clicks),
                            outcome.clickThrough.map { String(format: "%.4f", $0) } ?? "-",
                            outcome.views == 0 ? "-" : String(format: "%.4f-%.4f", low, high),
                            String(outcome.purchases), String(outcome.ratings),
                        ]
                    })
            }
        }
    }
}
