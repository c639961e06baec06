import Testing

@testable import AIMassEtcd

/// When a lease holder keeps its lease alive and until when it may act on it.
@Suite("Lease clock")
struct LeaseClockTests {
    @Test("Keep-alives go every third of the TTL")
    func interval() {
        #expect(LeaseClock(ttl: 9, grantedAt: 100).keepAliveInterval == 3)
    }

    @Test("Valid for one TTL after the request that was answered was sent, not after the answer")
    func validity() {
        var clock = LeaseClock(ttl: 10, grantedAt: 100)
        #expect(clock.isValid(at: 109.9))
        #expect(!clock.isValid(at: 110))
        clock.renewed(sentAt: 105)
        #expect(clock.validUntil == 115)
        #expect(clock.isValid(at: 114.9))
        #expect(!clock.isValid(at: 115))
    }

    @Test("A late answer to an older keep-alive never moves the deadline back")
    func outOfOrder() {
        var clock = LeaseClock(ttl: 10, grantedAt: 100)
        clock.renewed(sentAt: 108)
        clock.renewed(sentAt: 104)
        #expect(clock.validUntil == 118)
    }

    @Test("Failed keep-alives: the holder stops acting one TTL after the last answered one")
    func failures() {
        var clock = LeaseClock(ttl: 6, grantedAt: 0)
        clock.renewed(sentAt: 2)  // answered
        // keep-alives sent at 4 and 6 were not answered (etcd unreachable)
        #expect(clock.isValid(at: 7.9))
        #expect(!clock.isValid(at: 8))
    }
}
