import ArgumentParser

/// `aimass`: the AI Mass command line.
@main
struct AIMassCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aimass",
        abstract: "AI Mass: an inference platform for recommendation models, served as gRPC.",
        subcommands: [
            Serve.self, RecommendCommand.self, SimilarCommand.self, EvaluateCommand.self, ModelCommand.self, TokenCommand.self,
            UserCommand.self, AuditCommand.self, FeedbackCommand.self, TuneCommand.self, RetrainCommand.self,
            PromoteCommand.self, ABCommand.self,
            DeployCommand.self, UndeployCommand.self, ScaleCommand.self, DeploymentsCommand.self, PoolCommand.self, WatchCommand.self,
            RecommendLoadCommand.self,
        ]
    )
}
