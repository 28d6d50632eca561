import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Reads the web pages of the incident → dispute workflow need beside the JSON API (issue 4):
/// the incident list, the mediators a case may be given, and display names for timelines.
extension DisputeService {
    /// Police incidents in the visible grids, newest first, with the total before paging.
    /// - Parameters: `limit` 1…200, `offset` ≥ 0.
    /// - Throws: `.invalidField("limit" | "offset", …)` out of range.
    public func incidents(visible: VisibleTerritory, limit: Int, offset: Int) async throws -> ([IncidentRecord], Int) {
        guard (1...200).contains(limit) else { throw DomainError.invalidField(field: "limit", reason: "must be 1…200") }
        guard offset >= 0 else { throw DomainError.invalidField(field: "offset", reason: "must not be negative") }
        return try await incidents.list(visible: visible, limit: limit, offset: offset, on: app.store.db)
    }

    /// The mediator accounts that serve a case (人民调解法 Art. 19): scoped to its grid, its
    /// community or the community's station, not disabled; (id, display name), grid first.
    /// The same scope rule `apply(.assignMediators)` enforces.
    public func mediatorCandidates(for d: DisputeRecord) async throws -> [(UUID, String)] {
        let db = app.store.db
        var out = try await jointStore.accounts(role: .mediator, territoryID: d.gridID, on: db)
        out += try await jointStore.accounts(role: .mediator, territoryID: d.communityID, on: db)
        if let c = try await ifFound({ try await app.territories.community(d.communityID, visible: .everything, on: db) }) {
            out += try await jointStore.accounts(role: .mediator, territoryID: c.stationID, on: db)
        }
        var seen = Set<UUID>()
        return out.filter { seen.insert($0.0).inserted }
    }

    /// Display names of accounts by id (timeline actors); unknown ids are left out.
    public func displayNames(_ ids: Set<UUID>) async throws -> [UUID: String] {
        var out: [UUID: String] = [:]
        for id in ids { if let a = try await app.accounts.find(id, on: app.store.db) { out[id] = a.displayName } }
        return out
    }
}
