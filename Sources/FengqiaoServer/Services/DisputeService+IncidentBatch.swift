import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Batch intake of police incidents (接警) from the dispatch system (110 接处警): the feed sends the
/// calls of the last minutes together, and each is stored exactly as `receiveIncident` stores one.
extension DisputeService {
    /// Most incidents in one batch.
    public static let incidentBatchLimit = 500

    /// One incident of a batch: stored (with its repeat outcome), or refused with the field and
    /// reason `receiveIncident` would have given.
    public enum IncidentBatchItem: Sendable {
        case stored(IncidentOutcome)
        case refused(field: String, reason: String)
    }

    /// Receives up to `incidentBatchLimit` incidents in one transaction (one commit, one disk
    /// flush, instead of one each).
    ///
    /// Each incident is validated and located as in `receiveIncident`; those that fail are
    /// reported by position and the others are still stored (nothing good is lost). The stored
    /// ones go through the same `ingest` in list order, so the repeat rule (§3.7.3) sees the
    /// incidents stored earlier in the batch: three calls from one address in one batch make a
    /// first incident and two repeats, and the third raises the open dispute behind them.
    /// - Returns: one item per input, in order.
    /// - Throws: `.invalidField("incidents", …)` for an empty or oversized batch; a database
    ///   failure rolls the whole batch back.
    /// - Parameter count: the entries of the whole batch as sent, when the caller refused some
    ///   before (undecodable entries); the size limit applies to it.
    public func receiveIncidents(_ inputs: [PoliceIncidentInput], actor: Actor, visible: VisibleTerritory, count: Int? = nil) async throws -> [IncidentBatchItem] {
        let sent = count ?? inputs.count
        guard sent > 0 else { throw DomainError.invalidField(field: "incidents", reason: "is empty") }
        guard sent <= Self.incidentBatchLimit else {
            throw DomainError.invalidField(field: "incidents", reason: "has \(sent) entries; send at most \(Self.incidentBatchLimit) per batch")
        }
        guard !inputs.isEmpty else { return [] }
        let now = settings.clock()
        var items: [IncidentBatchItem?] = []
        var located: [(Int, IncidentRecord)] = []
        for (n, input) in inputs.enumerated() {
            do {
                located.append((n, try await incidentRecord(input, visible: visible, now: now)))
                items.append(nil)
            } catch let DomainError.invalidField(field, reason) {
                items.append(.refused(field: field, reason: reason.english))
            } catch DomainError.notFound(let kind) {
                items.append(.refused(field: kind == "grid" ? "gridId" : "addressId", reason: "no such \(kind) in your territory"))
            }
        }
        let work = located
        let stored = try await app.store.write { db in
            try await self.incidents.lockKeys(work.map { self.incidents.keys($0.1) }, on: db)
            var out: [(Int, IncidentOutcome)] = []
            for (n, rec) in work { out.append((n, try await self.ingest(rec, actor: actor, on: db, now: now))) }
            return out
        }
        for (n, o) in stored { items[n] = .stored(o) }
        return items.map { $0! }
    }
}
