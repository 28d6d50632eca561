import Foundation
import Synchronization

/// A bounded in-process cache of computed answers (statistics), for answers whose key already
/// names everything they depend on: the caller's filter, the change counters of the tables read
/// (M0029, so any committed write anywhere starts a new key) and the time bucket of the answer
/// (figures such as "overdue" move with the clock). A stale entry is never returned because it
/// is never looked up again; entries leave oldest-first when `capacity` is reached.
///
/// Concurrent misses of one key share one computation (single flight): the first caller
/// computes, the others await its result, so sixteen users opening the same statistics page
/// after a write cost one set of aggregate queries, not sixteen. A failed computation is not
/// stored; each waiting caller receives its error and the next request computes again.
final class ResultCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private enum Slot {
        case ready(Value, stamp: UInt64)
        case computing(Task<Value, any Error>)
    }
    private struct State {
        var slots: [Key: Slot] = [:]
        var clock: UInt64 = 0
        var hits = 0
        var misses = 0
        var ready: Int { slots.values.reduce(0) { if case .ready = $1 { $0 + 1 } else { $0 } } }
    }
    private enum Next { case hit(Value), wait(Task<Value, any Error>), run(Task<Value, any Error>) }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 256) { self.capacity = max(1, capacity) }

    /// The cached value for `key`, or `compute()`'s (computed once however many callers ask at
    /// the same time), stored.
    func value(_ key: Key, compute: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let next: Next = state.withLock { s in
            switch s.slots[key] {
            case .ready(let v, _):
                s.hits += 1
                return .hit(v)
            case .computing(let t):
                s.hits += 1
                return .wait(t)
            case nil:
                s.misses += 1
                let t = Task { try await compute() }
                s.slots[key] = .computing(t)
                return .run(t)
            }
        }
        switch next {
        case .hit(let v):
            return v
        case .wait(let t):
            return try await t.value
        case .run(let t):
            do {
                let v = try await t.value
                state.withLock { s in
                    s.clock += 1
                    s.slots[key] = .ready(v, stamp: s.clock)
                    if s.slots.count > capacity {
                        let oldest = s.slots.compactMap { k, slot -> (Key, UInt64)? in
                            if case .ready(_, let stamp) = slot { (k, stamp) } else { nil }
                        }.min { $0.1 < $1.1 }
                        if let oldest { s.slots[oldest.0] = nil }
                    }
                }
                return v
            } catch {
                state.withLock { s in s.slots[key] = nil }
                throw error
            }
        }
    }

    /// (hits, misses, stored entries) since start, for tests and diagnostics.
    var counts: (hits: Int, misses: Int, entries: Int) { state.withLock { ($0.hits, $0.misses, $0.ready) } }
}
