/// Polls `condition` every 10 ms until it holds or `timeout` has passed, and returns its last answer.
///
/// The timeout only catches a condition that never comes true: it is long on purpose, so that a loaded machine
/// (two cores, a CPU hog, other builds) never reaches it while the awaited event is merely slow to arrive.
///
/// ```swift
/// #expect(await eventually { watcher.view.revision == 3 })
/// ```
public func eventually(timeout: Duration = .seconds(60), _ condition: () -> Bool) async -> Bool {
    let end = ContinuousClock.now + timeout
    while ContinuousClock.now < end {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
