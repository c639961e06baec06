/// Every metric AI Mass exports: its help text and, for histograms, its buckets.
///
/// swift-metrics has no help text, and `promtool check metrics` wants one on every metric family, so the exporter
/// (``PrometheusExporter``) looks the name up here; a name missing from the catalogue is exported with a generic help
/// text. The gRPC buckets are gRFC A66's.
public enum MetricCatalog {
    /// gRFC A66's latency buckets, in seconds.
    public static let latencyBuckets: [Duration] = [
        0.00001, 0.00005, 0.0001, 0.0003, 0.0006, 0.0008, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.013,
        0.016, 0.02, 0.025, 0.03, 0.04, 0.05, 0.065, 0.08, 0.1, 0.13, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5, 0.65, 0.8, 1, 2, 5,
        10, 20, 50, 100,
    ].map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }

    /// gRFC A66's message-size buckets, in bytes.
    public static let sizeBuckets: [Int64] = [
        0, 1024, 2048, 4096, 16384, 65536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864, 268_435_456,
        1_073_741_824, 4_294_967_296,
    ]

    /// The help text of `name`.
    public static func help(_ name: String) -> String {
        helpTexts[name] ?? "AI Mass metric \(name)."
    }

    /// The buckets of a value histogram (sizes, counts); the sizes' by default.
    public static func valueBuckets(_ name: String) -> [Int64] { sizeBuckets }

    /// The buckets of a duration histogram; A66's latency buckets.
    public static func durationBuckets(_ name: String) -> [Duration] { latencyBuckets }

    static let helpTexts: [String: String] = [
        // gRFC A66, server
        "grpc_server_call_started_total": "The total number of calls started, including calls that are not completed.",
        "grpc_server_call_duration_seconds": "End-to-end time taken to complete a call from the server's perspective.",
        "grpc_server_call_sent_total_compressed_message_size_bytes":
            "Compressed message bytes sent per server call (gRPC's 5-byte message prefixes excluded).",
        "grpc_server_call_rcvd_total_compressed_message_size_bytes":
            "Compressed message bytes received per server call (gRPC's 5-byte message prefixes excluded).",
        // gRFC A66, client
        "grpc_client_attempt_started_total": "The total number of call attempts started, including transparent retries.",
        "grpc_client_attempt_duration_seconds": "End-to-end time taken to complete a client call attempt.",
        "grpc_client_call_duration_seconds": "Time taken by the client to complete a call, from the application's view.",
        // HTTP/2 transport
        "aimass_http2_connections_open": "HTTP/2 connections open on the gRPC server.",
        "aimass_http2_connections_total": "HTTP/2 connections accepted by the gRPC server.",
        "aimass_http2_streams_open": "HTTP/2 streams (calls) open on the gRPC server.",
        "aimass_http2_streams_total": "HTTP/2 streams (calls) opened on the gRPC server.",
        "aimass_http2_frames_rejected_total":
            "HTTP/2 frames the gRPC server refused as protocol errors (on a stream, or ending the connection).",
        "aimass_http2_rapid_resets_total": "HTTP/2 streams the clients reset before the gRPC server answered them.",
        "aimass_http2_invalid_frames_total": "HTTP/2 frames the gRPC server refused as stream errors (invalid frames).",
        "aimass_http2_header_lists_refused_total":
            "Request header lists the gRPC server refused for passing its header-list limit (RESOURCE_EXHAUSTED).",
        "aimass_http2_abuse_goaways_total":
            "Connections the gRPC server closed with GOAWAY(ENHANCE_YOUR_CALM) for passing an abuse limit, by reason.",
        "aimass_http2_connections_evicted_total":
            "Connections the gRPC server closed to make room (its connection cap, or out of file descriptors).",
        // The server-wide call gate (before a request is decoded)
        "aimass_gate_admitted_total": "Inference calls the server's call gate admitted (at once or from its queue).",
        "aimass_gate_queued_total": "Inference calls the server's call gate queued for a slot.",
        "aimass_gate_shed_total": "Inference calls the server's call gate shed, by reason.",
        "aimass_gate_queue_seconds": "Time inference calls waited in the server's call-gate queue before their turn.",
        "aimass_gate_limit": "The server's call-gate concurrency limit (gradient limiter).",
        "aimass_gate_in_flight": "Inference calls admitted by the server's call gate and not yet ended.",
        // Per replica (model, version)
        "aimass_inference_calls_total":
            "Inference calls that reached a replica, by model, version and outcome (ok, error, shed, deadline).",
        "aimass_inference_duration_seconds":
            "Time from a replica's admission of an inference call to its answer (waits for a thread included).",
        "aimass_admission_admitted_total": "Inference calls a replica's admission control admitted.",
        "aimass_admission_queued_total": "Inference calls a replica's admission control queued.",
        "aimass_admission_shed_total": "Inference calls a replica's admission control rejected, by reason.",
        "aimass_admission_queue_seconds": "Time inference calls waited in a replica's admission queue.",
        "aimass_admission_limit": "A replica's current concurrency limit (gradient limiter).",
        "aimass_worker_replicas": "Replicas this worker holds, by model, version and state (loading, ready, draining).",
        // The control plane's view of the pool (set when it publishes the view to the mesh)
        "aimass_replicas": "Replicas in the pool, by model, version and state (pending, loading, ready, draining, failed).",
        "aimass_deployment_replicas_desired": "Replicas a deployment asks for (autoscaler or operator), by model and version.",
        "aimass_deployment_replicas_ready": "Replicas of a deployment that serve, by model and version.",
        "aimass_autoscaler_decisions_total":
            "Autoscaler decisions that changed a deployment's desired replicas, by model, version and direction (up, down).",
        "aimass_worker_capacity": "What a worker offers, by worker and resource (cpu_millis, memory_bytes, replica_slots).",
        "aimass_worker_allocated": "What a worker's replicas reserve, by worker and resource.",
        "aimass_worker_utilisation": "A worker's busy fraction (0 to 1) from its latest load report.",
        // Mesh Watch streams (control plane)
        "aimass_mesh_subscribers": "Mesh Watch streams open on the control plane.",
        "aimass_mesh_events_sent_total": "Mesh events written to Watch streams.",
        "aimass_mesh_subscribers_dropped_total":
            "Mesh Watch streams the hub ended, their queued events dropped, by reason (too_slow, shutdown).",
        // Registry
        "aimass_registry_uploads_total": "Model version uploads, by model and outcome (ok, error).",
        "aimass_registry_upload_bytes_total": "Artifact bytes of model versions stored by uploads, by model.",
    ]
}
