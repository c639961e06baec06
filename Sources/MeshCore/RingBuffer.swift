/// A growable FIFO queue on one array (MeshCore has no dependencies, so no `Deque`).
struct RingBuffer<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { self.count == 0 }

    mutating func append(_ element: Element) {
        if self.count == self.storage.count {
            self.grow()
        }
        self.storage[(self.head + self.count) % self.storage.count] = element
        self.count += 1
    }

    mutating func popFirst() -> Element? {
        guard self.count > 0 else { return nil }
        let element = self.storage[self.head]
        self.storage[self.head] = nil
        self.head = (self.head + 1) % self.storage.count
        self.count -= 1
        return element
    }

    mutating func removeAll() {
        self = RingBuffer()
    }

    private mutating func grow() {
        var grown = [Element?](repeating: nil, count: max(16, self.storage.count * 2))
        for offset in 0..<self.count {
            grown[offset] = self.storage[(self.head + offset) % self.storage.count]
        }
        self.storage = grown
        self.head = 0
    }
}
extension RingBuffer: Sendable where Element: Sendable {}
