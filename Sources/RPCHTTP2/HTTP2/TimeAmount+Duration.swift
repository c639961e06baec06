import NIOCore
import RPCCore

extension TimeAmount {
    /// The NIO amount of a Swift duration (saturating).
    init(_ duration: Duration) {
        self = .nanoseconds(duration.saturatingNanoseconds)
    }
}
