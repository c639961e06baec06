import Instrumentation
import RPCCore

/// Reads trace headers from gRPC request metadata.
public struct MetadataExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: Metadata) -> String? {
        // Several `tracestate` headers form one list (W3C Trace Context §3.3.1.1).
        let values = carrier[key].compactMap { value -> String? in
            if case .string(let string) = value { return string }
            return nil
        }
        return values.isEmpty ? nil : values.joined(separator: ",")
    }
}

/// Writes trace headers into gRPC request metadata.
public struct MetadataInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout Metadata) {
        carrier.removeAll(forKey: key)
        carrier.add(value, forKey: key)
    }
}
