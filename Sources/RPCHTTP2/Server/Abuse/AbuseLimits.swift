/// What one client connection may do wrong, or cost, within a window before the server sends it
/// GOAWAY(ENHANCE_YOUR_CALM) and closes it. See docs/security.md for the threat model behind each figure.
///
/// Every limit counts per connection and per ``window`` (a fixed window: counts restart when it has passed).
/// The defaults leave legitimate clients far below them: a gRPC client never resets hundreds of its own calls,
/// sends invalid frames, or header lists above ``ServerConfiguration/maxHeaderListSize``.
public struct AbuseLimits: Sendable, Hashable {
    /// The window the counts below are taken over.
    public var window: Duration
    /// Calls the client reset (RST_STREAM) before the server had answered them: CVE-2023-44487's "rapid reset",
    /// which makes the server start work for every stream and drop it at once. Netty allows 200 in 30 s.
    public var maxRapidResets: Int
    /// Frames nghttp2 refused as a stream error (it resets the stream and goes on): DATA on a closed stream,
    /// a HEADERS beyond MAX_CONCURRENT_STREAMS, an invalid header field, …
    public var maxInvalidFrames: Int
    /// Header lists that went past ``ServerConfiguration/maxHeaderListSize`` (each one is answered with
    /// RESOURCE_EXHAUSTED and its stream reset as soon as the limit is reached).
    public var maxOversizedHeaderLists: Int
    /// Header lists that went past twice ``ServerConfiguration/maxHeaderListSize`` (an HPACK bomb's blocks) tolerated
    /// per window. Resetting only the stream would leave nghttp2 to decode the rest of the block to keep the HPACK
    /// table in step (~65,000 table lookups, ~1.7 ms of the event loop for a bomb's block, measured); closing the
    /// connection stops at once. The default, 0, closes at the first such list with the same
    /// `too_many_oversized_headers` as ``maxOversizedHeaderLists``: metadata a little too large (up to twice the
    /// limit) still gets `RESOURCE_EXHAUSTED` and keeps its connection.
    public var maxHeaderBombs: Int
    /// Header bytes decoded (name + value + 32 per field, as SETTINGS_MAX_HEADER_LIST_SIZE counts them): the CPU
    /// budget of HPACK decoding, which can turn one byte on the wire into a 4 KiB field. The default allows about
    /// 25 MiB/s, which is ~40,000 calls a second with 600-byte header lists on one connection.
    public var maxHeaderBytesDecoded: Int

    public init(
        window: Duration = .seconds(10),
        maxRapidResets: Int = 200,
        maxInvalidFrames: Int = 100,
        maxOversizedHeaderLists: Int = 20,
        maxHeaderBombs: Int = 0,
        maxHeaderBytesDecoded: Int = 256 * 1024 * 1024
    ) {
        self.window = window
        self.maxRapidResets = maxRapidResets
        self.maxInvalidFrames = maxInvalidFrames
        self.maxOversizedHeaderLists = maxOversizedHeaderLists
        self.maxHeaderBombs = maxHeaderBombs
        self.maxHeaderBytesDecoded = maxHeaderBytesDecoded
    }

    public static var defaults: Self { Self() }
}
