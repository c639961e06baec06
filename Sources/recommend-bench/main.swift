// recommend-bench: reference dumps, benchmarks, offline evaluation and synthetic data for RecommendCore.
//
//   recommend-bench reference --data FILE [manifest options] [--top 10] --out FILE.json
//   recommend-bench bench (--data FILE | --synthetic) [manifest options] [--queries 2000]
//   recommend-bench evaluate --data FILE [manifest options] [--protocol loo|8020|both] [--out FILE.json] [--grid]
//   recommend-bench query --data FILE [manifest options] (--user U | --seeds A,B | --similar ITEM) [--k 10]
//   recommend-bench generate --out FILE [--users 100000] [--items 20000] [--interactions 10000000]
//
// Manifest options: --manifest FILE, or --algorithm itemcf|usercf --neighbours K --feedback implicit|explicit
//                   --weighting none|iuf|iif --normalize
import Foundation
import RecommendCore

let usage = """
    usage: recommend-bench <reference|bench|evaluate|query|generate> [options]
      reference --data FILE [manifest options] [--top 10] --out FILE.json
      bench (--data FILE | --synthetic [--users N --items N --interactions N --alpha A]) [manifest options]
            [--queries 2000]
      evaluate --data FILE [manifest options] [--protocol loo|8020|both] [--out FILE.json] [--grid]
      query --data FILE [manifest options] (--user U | --seeds A,B | --similar ITEM) [--k 10]
      generate --out FILE [--users 100000] [--items 20000] [--interactions 10000000] [--alpha 0.8] [--seed 42]
    manifest options: --manifest FILE | --algorithm itemcf|usercf [--neighbours 20] [--feedback implicit|explicit]
                      [--weighting none|iuf|iif] [--normalize]
    """

do {
    var arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
    switch arguments.command {
    case "reference": try ReferenceCommand.run(&arguments)
    case "bench": try BenchCommand.run(&arguments)
    case "evaluate": try EvaluateCommand.run(&arguments)
    case "query": try QueryCommand.run(&arguments)
    case "generate": try GenerateCommand.run(&arguments)
    default: throw UsageError(message: "unknown command '\(arguments.command)'")
    }
    try arguments.finish()
} catch let error as UsageError {
    FileHandle.standardError.write(Data("error: \(error.message)\n\(usage)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
