import FengqiaoCore
import FengqiaoStore
import Foundation

extension Fengqiao {
    /// Per-grid counts of actual houses (by occupancy, rentals, group rentals, tenants) and active
    /// actual organisations (by type, key units, special trades) in the caller's territory, for
    /// overview pages (一标三实, domain spec §3.1, §8 "collection rate"). Grids the caller cannot
    /// see, and grids without any record, are absent: read a missing grid as `GridRecordCounts()`.
    ///
    /// ```swift
    /// let counts = try await req.fengqiao.recordCounts(gridIDs: grids.map(\.id), visible: principal.visible)
    /// let c = counts[grid.id] ?? GridRecordCounts()
    /// c.houses.total; c.houses.count(.rented); c.houses.groupRentals; c.organizations.count(.enterprise); c.organizations.keyUnits
    /// ```
    /// - Parameters:
    ///   - gridIDs: only these grids (those not visible are dropped); `nil` for every visible grid.
    ///   - visible: the caller's territory.
    public func recordCounts(gridIDs: [UUID]? = nil, visible: VisibleTerritory) async throws -> [UUID: GridRecordCounts] {
        try await RecordCountsRepository(cipher: cipher).byGrid(gridIDs, visible: visible, on: store.db)
    }
}
