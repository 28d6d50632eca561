import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Which grids a scoped query may read: the caller's visible grids, optionally narrowed to the
/// grids asked for (an invisible grid asked for is simply dropped).
struct GridFilter {
    /// `nil`: every grid (a city-wide view asking for all).
    let grids: [UUID]?

    init(_ asked: [UUID]?, visible v: VisibleTerritory) {
        switch (asked, v.gridIDs) {
        case (nil, nil): grids = nil
        case (nil, let visible?): grids = Array(visible)
        case (let asked?, nil): grids = asked
        case (let asked?, let visible?): grids = asked.filter(visible.contains)
        }
    }

    /// Nothing can match.
    var isEmpty: Bool { grids?.isEmpty ?? false }

    /// `grid_id IN (…)`, or `1 = 1` for every grid.
    var condition: any SQLExpression {
        grids.map { SQLBinaryExpression(SQLColumn("grid_id"), .in, SQLBind.group($0)) } ?? SQLRaw("1 = 1")
    }
}

/// Counts of the houses (实有房屋) of one grid.
public struct HouseCounts: Sendable, Equatable {
    /// Every house of the grid.
    public var total = 0
    /// Houses per occupancy; an occupancy without houses is absent (read it with `count(_:)`).
    public var byOccupancy: [ActualHouse.Occupancy: Int] = [:]
    /// Rented houses flagged 群租.
    public var groupRentals = 0
    /// Tenants recorded on the grid's rented houses.
    public var tenants = 0

    public init() {}

    /// Houses with this occupancy (0 when none).
    public func count(_ occupancy: ActualHouse.Occupancy) -> Int { byOccupancy[occupancy] ?? 0 }

    /// Rented houses (出租房屋).
    public var rentals: Int { count(.rented) }
}

/// Counts of the active organisations (实有单位) of one grid; closed ones are not counted.
public struct OrganizationCounts: Sendable, Equatable {
    /// Every active organisation of the grid.
    public var total = 0
    /// Active organisations per type; a type without any is absent (read it with `count(_:)`).
    public var byType: [ActualOrganization.OrganizationType: Int] = [:]
    /// Active key units (重点单位).
    public var keyUnits = 0
    /// Active organisations in a special trade (特种行业).
    public var specialTrades = 0

    public init() {}

    /// Active organisations of this type (0 when none).
    public func count(_ type: ActualOrganization.OrganizationType) -> Int { byType[type] ?? 0 }
}

/// The house and organisation counts of one grid (一标三实 records page).
public struct GridRecordCounts: Sendable, Equatable {
    public var houses = HouseCounts()
    public var organizations = OrganizationCounts()
    public init(houses: HouseCounts = HouseCounts(), organizations: OrganizationCounts = OrganizationCounts()) {
        self.houses = houses
        self.organizations = organizations
    }
}

/// Per-grid counts of houses and organisations, for overview pages.
public struct RecordCountsRepository: Sendable {
    let houses: HouseRepository
    let organizations: OrganizationRepository

    /// - Parameter cipher: the application's cipher (`app.fengqiao.cipher`); counting decrypts nothing.
    public init(cipher: FieldCipher) {
        houses = HouseRepository(cipher: cipher)
        organizations = OrganizationRepository(cipher: cipher)
    }

    /// Counts for every visible grid (or only the visible ones among `gridIDs`) that has at least
    /// one house or active organisation; a grid absent from the answer has none. Two grouped
    /// queries per record kind, whatever the number of grids.
    ///
    /// ```swift
    /// let counts = try await RecordCountsRepository(cipher: app.cipher)
    ///     .byGrid(grids.map(\.id), visible: principal.visible, on: app.store.db)
    /// let c = counts[grid.id] ?? GridRecordCounts()
    /// c.houses.rentals; c.houses.groupRentals; c.organizations.count(.enterprise); c.organizations.keyUnits
    /// ```
    public func byGrid(_ gridIDs: [UUID]? = nil, visible: VisibleTerritory, on db: any Database) async throws -> [UUID: GridRecordCounts] {
        var out: [UUID: GridRecordCounts] = [:]
        for (g, c) in try await houses.countsByGrid(gridIDs, visible: visible, on: db) { out[g, default: GridRecordCounts()].houses = c }
        for (g, c) in try await organizations.countsByGrid(gridIDs, visible: visible, on: db) { out[g, default: GridRecordCounts()].organizations = c }
        return out
    }
}
