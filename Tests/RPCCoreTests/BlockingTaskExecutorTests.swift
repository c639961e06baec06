import Foundation
import Logging
import Synchronization
import Testing

@testable import RPCCore

@Suite("BlockingTaskExecutor")
struct BlockingTaskExecutorTests {
    @Test("a router's methods preferring it run their synchronous work on its threads", arguments: [false, true])
    func routesRunOnItsThreads(streaming: Bool) async throws {
        let executor = BlockingTaskExecutor(threads: 2, name: "test-blocking")
        let descriptor = MethodDescriptor(service: "test.Blocking", method: "Write")
        var router = RPCRouter()
        let ranOnExecutor = Mutex<Bool?>(nil)
        if streaming {
            router.register(descriptor, handler: .streaming { _, _, _ in
                ranOnExecutor.withLock { $0 = executor.ownsCurrentThread }
            })
        } else {
            router.register(descriptor, handler: .inlineUnary { _, _ in
                .continueAsync { executor.ownsCurrentThread ? [1] : [0] }
            })
        }
        let route = try #require(router.preferringExecutor(executor).route(forPath: descriptor.path))
        let context = ServerContext(
            descriptor: descriptor, requestMetadata: Metadata(), deadline: nil, remotePeer: "ipv4:127.0.0.1:5000",
            peerAcceptsGzip: false, logger: Logger(label: "test"))
        switch route.handler {
        case .streaming(let body):
            try await body(InboundMessageQueue(), DiscardingSink(), context)
        case .inlineUnary(let body):
            guard case .continueAsync(let rest) = try body(InboundMessage(bytes: [], wasCompressed: false), context) else {
                Issue.record("the inline part answered")
                return
            }
            let bytes = try await rest()
            ranOnExecutor.withLock { $0 = bytes == [1] }
        }
        #expect(ranOnExecutor.withLock { $0 } == true)
    }

    @Test("handlers blocked on it leave Swift's cooperative pool free for other tasks")
    func blockedHandlersLeaveThePoolFree() async {
        let blocked = ProcessInfo.processInfo.activeProcessorCount + 2
        let executor = BlockingTaskExecutor(threads: blocked, name: "test-blocked")
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let handlers = (0..<blocked).map { _ in
            Task(executorPreference: executor) {
                started.signal()
                release.wait()  // a store waiting for a silent etcd
            }
        }
        for _ in 0..<blocked {
            await withCheckedContinuation { resumed in
                DispatchQueue.global().async {
                    started.wait()
                    resumed.resume()
                }
            }
        }
        // More blocked handlers than the pool has threads, and a plain task still runs.
        let answer = await Task { 42 }.value
        #expect(answer == 42)
        for _ in 0..<blocked { release.signal() }
        for handler in handlers { await handler.value }
    }
}

/// A response sink that drops what it is given.
private struct DiscardingSink: ResponseSink {
    func send(_ message: [UInt8], compress: Bool) async throws {}
}
