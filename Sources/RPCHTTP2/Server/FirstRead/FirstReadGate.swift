import NIOCore

/// The ``SilentConnectionQueue`` of one event loop with its rounds' timer: a new connection whose bytes have arrived
/// is read at once; a silent one is checked for them at the next round, then now and then. Used only on its loop.
final class FirstReadGate {
    private let eventLoop: any EventLoop
    private var queue = SilentConnectionQueue<ObjectIdentifier>(
        perCheck: 32, shortestPause: .milliseconds(1), longestPause: .milliseconds(200)
    )
    private var waiting: [ObjectIdentifier: FirstReadGateHandler] = [:]
    /// The next round, when one is scheduled.
    private var nextRound: (due: NIODeadline, task: Scheduled<Void>)?

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// A new connection asks for its first read: granted at once if it has sent something, else once it has.
    func arrived(_ handler: FirstReadGateHandler) {
        guard !handler.hasSpoken() else { return handler.open() }
        let id = ObjectIdentifier(handler)
        waiting[id] = handler
        scheduleRound(within: queue.arrived(id))
    }

    /// `handler`'s connection closed before it spoke.
    func left(_ handler: FirstReadGateHandler) {
        let id = ObjectIdentifier(handler)
        guard waiting.removeValue(forKey: id) != nil else { return }
        queue.left(id)
    }

    /// Makes sure a round runs within `pause`: keeps the scheduled one if it is due by then, else replaces it.
    private func scheduleRound(within pause: Duration) {
        let due = NIODeadline.now() + TimeAmount(pause)
        if let nextRound, nextRound.due <= due { return }
        nextRound?.task.cancel()
        let gate = NIOLoopBound(self, eventLoop: eventLoop)
        nextRound = (due, eventLoop.scheduleTask(deadline: due) { gate.value.check() })
    }

    private func check() {
        nextRound = nil
        var silent: [ObjectIdentifier] = []
        var spoke = 0
        for id in queue.round() {
            guard let handler = waiting[id] else { continue }
            if handler.hasSpoken() {
                waiting[id] = nil
                spoke += 1
                handler.open()
            } else {
                silent.append(id)
            }
        }
        if let pause = queue.checked(stillSilent: silent, spoke: spoke) { scheduleRound(within: pause) }
    }
}
