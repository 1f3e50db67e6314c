import Foundation
import Locking
import Testing

@Suite struct LockedTests {
    @Test func incrementsFromManyThreadsAreNeverLost() {
        let counter = Locked(0)
        let threads = 4, rounds = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0 ..< rounds { counter.withLock { $0 += 1 } }
        }
        #expect(counter.withLock { $0 } == threads * rounds)
    }

    @Test func aThrowingBodyReleasesTheLock() {
        struct Refused: Error {}
        let value = Locked([Int]())
        #expect(throws: Refused.self) { try value.withLock { _ in throw Refused() } }
        value.withLock { $0.append(1) }
        #expect(value.withLock { $0 } == [1])
    }
}
