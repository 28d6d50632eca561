import Foundation
import Synchronization

/// A bounded in-process cache of computed answers (statistics), for answers whose key already
/// names everything they depend on: the caller's filter, the change counters of the tables read
/// (M0029, so any committed write anywhere starts a new key) and the time bucket of the answer
/// (figures such as "overdue" move with the clock). A stale entry is never returned because it
/// is never looked up again; entries leave oldest-first when `capacity` is reached.
///
/// Two callers missing the same key at once both compute it (no lock is held while computing);
/// the answers are equal, and the second one stored wins.
final class ResultCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct State {
        var entries: [Key: (value: Value, stamp: UInt64)] = [:]
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = max(1, capacity) }

    /// The cached value for `key`, or `compute()`'s, stored.
    func value(_ key: Key, compute: () async throws -> Value) async throws -> Value {
        if let v = state.withLock({ s -> Value? in
            guard let e = s.entries[key] else { s.misses += 1; return nil }
            s.hits += 1
            return e.value
        }) { return v }
        let v = try await compute()
        state.withLock { s in
            s.clock += 1
            s.entries[key] = (v, s.clock)
            if s.entries.count > capacity, let oldest = s.entries.min(by: { $0.value.stamp < $1.value.stamp })?.key {
                s.entries[oldest] = nil
            }
        }
        return v
    }

    /// (hits, misses, entries) since start, for tests and diagnostics.
    var counts: (hits: Int, misses: Int, entries: Int) { state.withLock { ($0.hits, $0.misses, $0.entries.count) } }
}
