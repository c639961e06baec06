import Synchronization

/// Named steps of the write path where a test can stop the process (with `kill -9`) to prove crash safety.
///
/// Nothing is installed in production: ``reach(_:)`` then costs one uncontended lock. Tests install a handler in
/// an exit-test child process (Swift Testing `#expect(processExitsWith:)`) and `SIGKILL` themselves at the step.
enum CrashPoint: Sendable, Hashable {
    /// The artifact file is at its content-addressed path; the version row is not committed yet.
    case artifactInstalled
    /// A model's rows are deleted and committed; its artifact files are not deleted yet.
    case modelRowsDeleted

    private static let handler = Mutex<(@Sendable (CrashPoint) -> Void)?>(nil)

    /// Installs (or with `nil` removes) the handler called at every crash point.
    static func install(_ handler: (@Sendable (CrashPoint) -> Void)?) {
        self.handler.withLock { $0 = handler }
    }

    /// Calls the handler, if any, for `point`.
    static func reach(_ point: CrashPoint) {
        let handler = self.handler.withLock { $0 }
        handler?(point)
    }
}
