import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// The 一标三实 figures shown on the grid, community and building pages, for accounts that may
/// read persons (`person:read`): counts only, no personal value.
enum PopulationPanels {
    /// One grid's figures (or a community's total).
    struct Figures: Encodable {
        var gridID: String
        var name: String
        var residents: Int
        var registered: Int
        var migrant: Int
        var foreign: Int
        var hukouSeparated: Int
        var residentsOverdue: Int
        var addresses: Int
        var addressesOverdue: Int
        // 实有房屋 / 实有单位 (from the houses and organisations records, RecordCountsRepository).
        var houses: Int
        var rentals: Int
        var groupRentals: Int
        var selfOccupied: Int
        var vacant: Int
        var organizations: Int
        var keyUnits: Int

        init(_ c: GridPopulationCounts, records r: GridRecordCounts, name: String) {
            gridID = c.gridID.uuidString.lowercased()
            self.name = name
            residents = c.residents
            registered = c.registered
            migrant = c.migrant
            foreign = c.foreign
            hukouSeparated = c.hukouSeparated
            residentsOverdue = c.residentsOverdue
            addresses = c.addresses
            addressesOverdue = c.addressesOverdue
            houses = r.houses.total
            rentals = r.houses.rentals
            groupRentals = r.houses.groupRentals
            selfOccupied = r.houses.count(.selfOccupied)
            vacant = r.houses.count(.vacant)
            organizations = r.organizations.total
            keyUnits = r.organizations.keyUnits
        }
    }

    /// Figures of the given grids (in their order) and their total; `nil` without `person:read`.
    static func figures(_ req: Request, grids: [Grid], totalName: String) async throws -> (rows: [Figures], total: Figures)? {
        guard let p = req.principal, p.has(.personRead), !grids.isEmpty else { return nil }
        let app = req.fengqiao
        let ids = grids.map(\.id)
        let counts = try await VerificationService(app).counts(gridIDs: ids)
        let records = try await RecordCountsRepository(cipher: app.cipher).byGrid(ids, visible: p.visible, on: app.store.db)
        let rows = grids.map { Figures(counts[$0.id] ?? GridPopulationCounts(gridID: $0.id), records: records[$0.id] ?? GridRecordCounts(), name: $0.name) }
        var totalRecords = GridRecordCounts()
        for r in records.values {
            totalRecords.houses.total += r.houses.total
            totalRecords.houses.groupRentals += r.houses.groupRentals
            for (k, v) in r.houses.byOccupancy { totalRecords.houses.byOccupancy[k, default: 0] += v }
            totalRecords.organizations.total += r.organizations.total
            totalRecords.organizations.keyUnits += r.organizations.keyUnits
        }
        let total = Figures(GridPopulationCounts.total(counts.values, as: grids[0].communityID), records: totalRecords, name: totalName)
        return (rows, total)
    }

    /// One address of a building with its current residents.
    struct BuildingAddress: Encodable {
        var id: String
        var formatted: String
        var unit: String
        var floor: String
        var room: String
        var active: Bool
        var residents: Int
    }

    /// The addresses linked to a building with their resident counts; `nil` without `person:read`.
    static func buildingAddresses(_ req: Request, building: Building) async throws -> [BuildingAddress]? {
        guard let p = req.principal, p.has(.personRead) else { return nil }
        let app = req.fengqiao
        let list = try await AddressRepository().addresses(inBuilding: building.id, on: app.store.db)
        let counts = try await ResidentRepository(cipher: app.cipher).currentCounts(addressIDs: list.map(\.id), on: app.store.db)
        return list.map {
            BuildingAddress(id: $0.id.uuidString.lowercased(), formatted: $0.formatted(), unit: $0.unit, floor: $0.floor, room: $0.room,
                            active: $0.status == .active, residents: counts[$0.id] ?? 0)
        }
    }
}
