import NIOCore

/// Writes what an ``HTTP2Session`` wants to send into a channel, safely re-entrant.
///
/// nghttp2 runs callbacks inside `receive` and `drainOutput`, and those callbacks may ask for
/// another flush (a stream closed, a connection drained). Such a flush is recorded and done by the
/// flush already running, or after the read. A class, so that no exclusive access to the owner's
/// state is held while nghttp2 calls back.
final class OutputPump {
    /// Set while bytes are being fed to the session: flushes wait for the end of the read.
    var isReading = false
    private var isFlushing = false
    private var needsFlush = false

    /// Whether a read or a flush is under way (a flush asked for now is done by it, later).
    var isBusy: Bool { isReading || isFlushing }

    /// Drains the session into the channel. Returns `false` when the session failed; the channel
    /// is then being closed.
    @discardableResult
    func flush(_ session: HTTP2Session, to context: ChannelHandlerContext) -> Bool {
        if isReading || isFlushing {
            needsFlush = true
            return true
        }
        isFlushing = true
        defer { isFlushing = false }
        repeat {
            needsFlush = false
            do {
                var out = context.channel.allocator.buffer(capacity: 16 * 1024)
                if try session.drainOutput(into: &out) {
                    context.writeAndFlush(NIOAny(out), promise: nil)
                }
            } catch {
                context.close(promise: nil)
                return false
            }
        } while needsFlush
        return true
    }
}
