import RPCCore
import Synchronization

/// Instruments labelled with a gRPC status, made on a status's first use: a method that only ever answers OK
/// exports OK series only, and no call looks up labels (an array slot per status code under a lock).
final class StatusSlots<Instruments: Sendable>: Sendable {
    private let slots = Mutex<[Instruments?]>(Array(repeating: nil, count: 17))
    private let make: @Sendable (StatusCode) -> Instruments

    init(_ make: @escaping @Sendable (StatusCode) -> Instruments) {
        self.make = make
    }

    /// The instruments of `code`, made once.
    subscript(code: StatusCode) -> Instruments {
        slots.withLock { slots in
            let index = Int(code.rawValue)
            if let made = slots[index] { return made }
            let made = make(code)
            slots[index] = made
            return made
        }
    }
}
