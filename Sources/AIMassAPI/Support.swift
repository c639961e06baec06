import RPCProtobufC

// Non-throwing readers of repeated and map fields, shared by the message conversions of this module.
// (`ProtobufC.repeated` takes a throwing closure; none of these conversions can fail.)

/// The elements of a repeated message field, converted.
func cMessages<T, R>(
    _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<T>?>?,
    count: Int,
    _ convert: (T) -> R
) -> [R] {
    guard let pointer, count > 0 else { return [] }
    var result: [R] = []
    result.reserveCapacity(count)
    for index in 0..<count {
        if let element = pointer[index] { result.append(convert(element.pointee)) }
    }
    return result
}

/// A map field (a repeated `…Entry` message) as a dictionary; a key seen twice keeps its last value,
/// as protobuf requires.
func cMap<Entry, Value>(
    _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?,
    count: Int,
    _ entry: (Entry) -> (String, Value)
) -> [String: Value] {
    var result: [String: Value] = [:]
    for (key, value) in cMessages(pointer, count: count, entry) { result[key] = value }
    return result
}
