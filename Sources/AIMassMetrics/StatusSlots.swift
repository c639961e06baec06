import RPCCore
import Synchronization

/// Instruments labelled with a gRPC status, made on a status's first use: a method that only ever answers OK
/// exports OK series only.
///
/// A call finds its status's instruments without a lock: one acquiring load of a bit set, then a read of the slot.
/// Only a status's first use takes the lock, to make its instruments and publish them (slot written, then the bit set
/// with release ordering, so a reader that sees the bit sees the slot).
final class StatusSlots<Instruments: Sendable>: @unchecked Sendable {
    // @unchecked: a slot is written once, under `making`, before its bit in `made` is released; readers read a slot
    // only after acquiring its bit. `slots` is allocated in init and freed in deinit (its one owner).
    private static var count: Int { 17 }
    private let slots: UnsafeMutablePointer<Instruments?>
    private let made = Atomic<UInt32>(0)
    private let making = Mutex<Void>(())
    private let make: @Sendable (StatusCode) -> Instruments

    init(_ make: @escaping @Sendable (StatusCode) -> Instruments) {
        self.make = make
        slots = .allocate(capacity: Self.count)
        slots.initialize(repeating: nil, count: Self.count)
    }

    deinit {
        slots.deinitialize(count: Self.count)
        slots.deallocate()
    }

    /// The instruments of `code`, made once.
    subscript(code: StatusCode) -> Instruments {
        let index = min(Int(code.rawValue), Self.count - 1)
        let bit = UInt32(1) << UInt32(index)
        if made.load(ordering: .acquiring) & bit != 0, let instruments = slots[index] { return instruments }
        return making.withLock { _ in
            if let instruments = slots[index] { return instruments }
            let instruments = make(code)
            slots[index] = instruments
            made.bitwiseOr(bit, ordering: .releasing)
            return instruments
        }
    }
}
