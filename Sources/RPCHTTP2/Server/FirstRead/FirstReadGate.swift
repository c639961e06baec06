import NIOCore

/// The ``SilentConnectionQueue`` of one event loop with its rounds' timer: a new connection whose bytes have arrived
/// is read at once; a silent one is checked for them now and then (``SilentConnectionQueue``). Used only on its
/// event loop.
final class FirstReadGate {
    private let eventLoop: any EventLoop
    private var queue = SilentConnectionQueue<ObjectIdentifier>(
        perCheck: 32, shortestPause: .milliseconds(1), longestPause: .milliseconds(200)
    )
    private var waiting: [ObjectIdentifier: FirstReadGateHandler] = [:]

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// A new connection asks for its first read: granted at once if it has sent something, else once it has.
    func arrived(_ handler: FirstReadGateHandler) {
        guard !handler.hasSpoken() else { return handler.open() }
        let id = ObjectIdentifier(handler)
        waiting[id] = handler
        if let pause = queue.arrived(id) { schedule(after: pause) }
    }

    /// `handler`'s connection closed before it spoke.
    func left(_ handler: FirstReadGateHandler) {
        let id = ObjectIdentifier(handler)
        guard waiting.removeValue(forKey: id) != nil else { return }
        queue.left(id)
    }

    private func schedule(after pause: Duration) {
        let gate = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: TimeAmount(pause)) { gate.value.check() }
    }

    private func check() {
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
        if let pause = queue.checked(stillSilent: silent, spoke: spoke) { schedule(after: pause) }
    }
}
