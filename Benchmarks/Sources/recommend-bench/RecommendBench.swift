// recommend-bench: reference dumps, benchmarks, offline evaluation and synthetic data for RecommendCore.
//
//   recommend-bench reference --data FILE [manifest options] [--top 10] --out FILE.json
//   recommend-bench bench (--data FILE | --synthetic) [manifest options] [--queries 2000]
//   recommend-bench evaluate --data FILE [manifest options] [--protocol loo|8020|both] [--out FILE.json] [--grid]
//   recommend-bench search --data FILE [--user-attributes F] [--item-attributes F] [--similarities a,b] [--neighbours 20,50]
//                          [--feature-weights 0,0.2] [--weightings] ...   (80/20 holdout grid, Markdown table by P@10)
//   recommend-bench query --data FILE [manifest options] (--user U | --seeds A,B | --similar ITEM) [--k 10]
//   recommend-bench generate --out FILE [--users 100000] [--items 20000] [--interactions 10000000]
//
// Manifest options: --manifest FILE, or --algorithm itemcf|usercf --neighbours K --feedback implicit|explicit
//                   --weighting none|iuf|iif --normalize --similarity cosine|pearson|adjusted_cosine|jaccard|euclidean
//                   [--user-attributes F --user-features COLS --user-feature-weight W] [--item-attributes ... same]
import ArgumentParser

@main
struct RecommendBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend-bench",
        abstract: "Reference dumps, benchmarks, offline evaluation and synthetic data for RecommendCore.",
        subcommands: [ReferenceCommand.self, BenchCommand.self, EvaluateCommand.self, SearchCommand.self, QueryCommand.self, GenerateCommand.self]
    )
}
