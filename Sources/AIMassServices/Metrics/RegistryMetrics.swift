import Metrics

/// The registry's upload metrics: `aimass_registry_uploads_total{model,outcome}` (`ok`, `error`) and
/// `aimass_registry_upload_bytes_total{model}`. Counted only for uploads that began (the model exists and the caller
/// may write it), so a client cannot add label values for models that do not exist. Uploads are rare: their
/// counters are looked up per upload.
enum RegistryMetrics {
    static func uploaded(model: String, bytes: Int64) {
        Counter(label: "aimass_registry_uploads_total", dimensions: [("model", model), ("outcome", "ok")]).increment()
        Counter(label: "aimass_registry_upload_bytes_total", dimensions: [("model", model)]).increment(by: bytes)
    }

    static func uploadFailed(model: String) {
        Counter(label: "aimass_registry_uploads_total", dimensions: [("model", model), ("outcome", "error")]).increment()
    }
}
