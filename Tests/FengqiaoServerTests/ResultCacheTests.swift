@testable import FengqiaoServer
import Foundation
import Synchronization
import Testing

@Suite("result cache")
struct ResultCacheTests {
    final class Counter: Sendable {
        let n = Atomic<Int>(0)
        func next() -> Int { n.add(1, ordering: .relaxed).newValue }
    }
    struct Boom: Error {}

    @Test("sixteen concurrent misses of one key compute once and all get the value; another key computes its own")
    func singleFlight() async throws {
        let cache = ResultCache<String, Int>(capacity: 4)
        let calls = Counter()
        let values = try await withThrowingTaskGroup(of: Int.self) { g in
            for _ in 0..<16 {
                g.addTask {
                    try await cache.value("a") {
                        try await Task.sleep(for: .milliseconds(100))
                        return 40 + calls.next()
                    }
                }
            }
            return try await g.reduce(into: []) { $0.append($1) }
        }
        #expect(values == Array(repeating: 41, count: 16))
        #expect(calls.n.load(ordering: .relaxed) == 1)
        #expect(try await cache.value("b") { 7 } == 7)
        #expect(try await cache.value("a") { 0 } == 41, "a stored value is returned without computing")
        let c = cache.counts
        #expect(c.misses == 2 && c.hits == 16 && c.entries == 2)
    }

    @Test("a failed computation is not stored: the waiting callers get the error, the next call computes again")
    func failureNotStored() async throws {
        let cache = ResultCache<String, Int>()
        await #expect(throws: Boom.self) { try await cache.value("k") { throw Boom() } }
        #expect(try await cache.value("k") { 5 } == 5)
    }

    @Test("at capacity the oldest entry leaves")
    func capacity() async throws {
        let cache = ResultCache<Int, Int>(capacity: 2)
        for k in 1...3 { _ = try await cache.value(k) { k * 10 } }
        #expect(cache.counts.entries == 2)
        #expect(try await cache.value(1) { -1 } == -1, "the first key was evicted and computes again")
        #expect(try await cache.value(3) { -1 } == 30)
    }
}
