import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Counts of a community's territorial units.
public struct CommunityCounts: Sendable, Equatable {
    public var residentialGroups: Int
    public var grids: Int
    public var buildings: Int
    public init(residentialGroups: Int, grids: Int, buildings: Int) {
        self.residentialGroups = residentialGroups
        self.grids = grids
        self.buildings = buildings
    }
}

/// Reads and writes the territory hierarchy, always filtered by what the caller may see.
///
/// Out-of-scope records are reported as `DomainError.notFound`, exactly like missing ones, so a
/// scope never reveals that a record exists.
public struct TerritoryRepository: Sendable {
    public init() {}

    // MARK: Scope

    /// Resolves an account's scope to the stations, communities and grids it covers.
    ///
    /// Runs on every authenticated request, so it reads ids only, through SQLKit (one query for
    /// any level), never whole Fluent models: a station's view of thousands of grids costs one
    /// indexed read of `(community_id, id)` pairs.
    public func visible(for scope: TerritoryScope, on db: any Database) async throws -> VisibleTerritory {
        let sql = db as! any SQLDatabase
        switch scope.level {
        case .city:
            return .everything
        case .station:
            guard let sid = scope.territoryID else { return .init(stationIDs: [], communityIDs: [], gridIDs: [], level: scope.level) }
            var comms = Set<UUID>(), grids = Set<UUID>()
            for r in try await sql.raw("SELECT c.id AS c, g.id AS g FROM communities c LEFT JOIN grids g ON g.community_id = c.id WHERE c.station_id = \(bind: sid)").all() {
                comms.insert(try r.decode(column: "c", as: UUID.self))
                if let g = try r.decode(column: "g", as: UUID?.self) { grids.insert(g) }
            }
            return .init(stationIDs: [sid], communityIDs: comms, gridIDs: grids, level: .station)
        case .community:
            guard let cid = scope.territoryID else { return .init(stationIDs: [], communityIDs: [], gridIDs: [], level: scope.level) }
            let rows = try await sql.raw("SELECT c.station_id AS s, g.id AS g FROM communities c LEFT JOIN grids g ON g.community_id = c.id WHERE c.id = \(bind: cid)").all()
            guard let first = rows.first else { return .init(stationIDs: [], communityIDs: [], gridIDs: [], level: scope.level) }
            let grids = try rows.compactMap { try $0.decode(column: "g", as: UUID?.self) }
            return .init(stationIDs: [try first.decode(column: "s", as: UUID.self)], communityIDs: [cid], gridIDs: Set(grids), level: .community)
        case .grid:
            guard let gid = scope.territoryID,
                  let r = try await sql.raw("SELECT g.community_id AS c, c.station_id AS s FROM grids g JOIN communities c ON c.id = g.community_id WHERE g.id = \(bind: gid)").first() else {
                return .init(stationIDs: [], communityIDs: [], gridIDs: [], level: scope.level)
            }
            return .init(stationIDs: [try r.decode(column: "s", as: UUID.self)], communityIDs: [try r.decode(column: "c", as: UUID.self)], gridIDs: [gid], level: .grid)
        }
    }

    /// A readable name for a scope: `全市`, the station's or community's name, or `grid (code)`.
    public func scopeName(_ s: TerritoryScope, on db: any Database) async throws -> String {
        guard let id = s.territoryID else { return s.level.nameZH }
        switch s.level {
        case .city: return s.level.nameZH
        case .station: return (try await PoliceStationModel.find(id, on: db)?.name) ?? "?"
        case .community: return (try await CommunityModel.find(id, on: db)?.name) ?? "?"
        case .grid:
            guard let g = try await GridModel.find(id, on: db) else { return "?" }
            return "\(g.name)（\(g.code)）"
        }
    }

    // MARK: Reads

    public func stations(visible v: VisibleTerritory, on db: any Database) async throws -> [PoliceStation] {
        var q = PoliceStationModel.query(on: db).sort(\.$name)
        if let ids = v.stationIDs { q = q.filter(\.$id ~~ Array(ids)) }
        return try await q.all().map { $0.toDomain() }
    }

    public func station(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> PoliceStation {
        guard v.canSee(station: id), let m = try await PoliceStationModel.find(id, on: db) else { throw DomainError.notFound(kind: "police station") }
        return m.toDomain()
    }

    public func communities(stationID: UUID?, visible v: VisibleTerritory, on db: any Database) async throws -> [Community] {
        var q = CommunityModel.query(on: db).sort(\.$name)
        if let s = stationID { q = q.filter(\.$stationID == s) }
        if let ids = v.communityIDs { q = q.filter(\.$id ~~ Array(ids)) }
        return try await q.all().map { $0.toDomain() }
    }

    /// (id, name) of the visible communities, by name, for pickers: ids and names only, through
    /// SQLKit (no Fluent models, no polygons).
    public func communityNames(visible v: VisibleTerritory, on db: any Database) async throws -> [(id: UUID, name: String)] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns("id", "name").from("communities")
        if let ids = v.communityIDs {
            if ids.isEmpty { return [] }
            q = q.where("id", .in, SQLBind.group(Array(ids)))
        }
        return try await q.orderBy("name").all().map { (try $0.decode(column: "id", as: UUID.self), try $0.decode(column: "name", as: String.self)) }
    }

    /// (id, name) of a community's visible grids, by code, for pickers (as `communityNames`).
    public func gridNames(communityID: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> [(id: UUID, name: String)] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns("id", "name").from("grids").where("community_id", .equal, SQLBind(communityID))
        if let ids = v.gridIDs {
            if ids.isEmpty { return [] }
            q = q.where("id", .in, SQLBind.group(Array(ids)))
        }
        return try await q.orderBy("code").all().map { (try $0.decode(column: "id", as: UUID.self), try $0.decode(column: "name", as: String.self)) }
    }

    public func community(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> Community {
        guard v.canSee(community: id), let m = try await CommunityModel.find(id, on: db) else { throw DomainError.notFound(kind: "community") }
        return m.toDomain()
    }

    /// Residential groups of a community; a grid-level view sees only the groups of its grids.
    public func residentialGroups(communityID: UUID, visible v: VisibleTerritory = .everything, on db: any Database) async throws -> [ResidentialGroup] {
        var q = ResidentialGroupModel.query(on: db).filter(\.$communityID == communityID).sort(\.$sequence)
        if v.level < .community {
            let ids = try await groupIDs(ofGrids: v.gridIDs ?? [], on: db)
            q = q.filter(\.$id ~~ ids)
        }
        return try await q.all().map { $0.toDomain() }
    }

    private func groupIDs(ofGrids grids: Set<UUID>, on db: any Database) async throws -> [UUID] {
        guard !grids.isEmpty else { return [] }
        return try await GridModel.query(on: db).filter(\.$id ~~ Array(grids)).all().compactMap(\.residentialGroupID)
    }

    public func residentialGroup(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> ResidentialGroup {
        guard let m = try await ResidentialGroupModel.find(id, on: db), v.canSee(community: m.communityID) else {
            throw DomainError.notFound(kind: "residential group")
        }
        if v.level < .community, !(try await groupIDs(ofGrids: v.gridIDs ?? [], on: db)).contains(id) {
            throw DomainError.notFound(kind: "residential group")
        }
        return m.toDomain()
    }

    /// Grids of a community the caller may see (a grid-scoped account sees only its grid).
    public func grids(communityID: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> [Grid] {
        var q = GridModel.query(on: db).filter(\.$communityID == communityID).sort(\.$code)
        if let ids = v.gridIDs { q = q.filter(\.$id ~~ Array(ids)) }
        return try await q.all().map { $0.toDomain() }
    }

    public func grid(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> Grid {
        guard v.canSee(grid: id), let m = try await GridModel.find(id, on: db) else { throw DomainError.notFound(kind: "grid") }
        return m.toDomain()
    }

    public func buildings(gridID: UUID, on db: any Database) async throws -> [Building] {
        try await BuildingModel.query(on: db).filter(\.$gridID == gridID).sort(\.$name).all().map { $0.toDomain() }
    }

    public func building(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> Building {
        guard let m = try await BuildingModel.find(id, on: db), v.canSee(grid: m.gridID) else { throw DomainError.notFound(kind: "building") }
        return m.toDomain()
    }

    /// Buildings per grid for a community, in one query.
    public func buildingCounts(communityID: UUID, on db: any Database) async throws -> [UUID: Int] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.raw("""
            SELECT b.grid_id AS grid_id, COUNT(*) AS n FROM buildings b JOIN grids g ON g.id = b.grid_id
            WHERE g.community_id = \(bind: communityID) GROUP BY b.grid_id
            """).all()
        var out: [UUID: Int] = [:]
        for r in rows { out[try r.decode(column: "grid_id", as: UUID.self)] = try r.decode(column: "n", as: Int.self) }
        return out
    }

    /// Totals visible to the caller, for the home page.
    public func totals(visible v: VisibleTerritory, on db: any Database) async throws -> [String: Int] {
        var s = PoliceStationModel.query(on: db)
        if let ids = v.stationIDs { s = s.filter(\.$id ~~ Array(ids)) }
        var c = CommunityModel.query(on: db)
        if let ids = v.communityIDs { c = c.filter(\.$id ~~ Array(ids)) }
        var g = GridModel.query(on: db)
        if let ids = v.gridIDs { g = g.filter(\.$id ~~ Array(ids)) }
        var b = BuildingModel.query(on: db)
        if let ids = v.gridIDs { b = b.filter(\.$gridID ~~ Array(ids)) }
        var r = ResidentialGroupModel.query(on: db)
        if let ids = v.communityIDs { r = r.filter(\.$communityID ~~ Array(ids)) }
        if v.level < .community { r = r.filter(\.$id ~~ (try await groupIDs(ofGrids: v.gridIDs ?? [], on: db))) }
        return [
            "stations": try await s.count(), "communities": try await c.count(), "groups": try await r.count(),
            "grids": try await g.count(), "buildings": try await b.count(),
        ]
    }

    // MARK: Writes (call inside Store.write)

    public func save(_ d: PoliceStation, on db: any Database) async throws {
        if let m = try await PoliceStationModel.find(d.id, on: db) { m.update(from: d); try await m.save(on: db) } else { try await PoliceStationModel(d).create(on: db) }
    }

    public func save(_ d: Community, on db: any Database) async throws {
        guard try await PoliceStationModel.find(d.stationID, on: db) != nil else { throw DomainError.invalidField(field: "stationId", reason: "no such police station") }
        let clash = try await CommunityModel.query(on: db).filter(\.$stationID == d.stationID).filter(\.$name == d.name).filter(\.$id != d.id).count()
        guard clash == 0 else { throw DomainError.conflict(field: "name", reason: "the station already has a community named \(d.name)") }
        if let m = try await CommunityModel.find(d.id, on: db) { m.update(from: d); try await m.save(on: db) } else { try await CommunityModel(d).create(on: db) }
    }

    public func save(_ d: ResidentialGroup, on db: any Database) async throws {
        if let m = try await ResidentialGroupModel.find(d.id, on: db) { m.update(from: d); try await m.save(on: db) } else { try await ResidentialGroupModel(d).create(on: db) }
    }

    public func save(_ d: Grid, on db: any Database) async throws {
        let clash = try await GridModel.query(on: db).filter(\.$code == d.code).filter(\.$id != d.id).count()
        guard clash == 0 else { throw DomainError.conflict(field: "code", reason: "grid code \(d.code) is already used") }
        if let gid = d.residentialGroupID {
            guard let g = try await ResidentialGroupModel.find(gid, on: db), g.communityID == d.communityID else {
                throw DomainError.invalidField(field: "residentialGroupId", reason: "the residential group must belong to the grid's community")
            }
        }
        if let m = try await GridModel.find(d.id, on: db) { m.update(from: d); try await m.save(on: db) } else { try await GridModel(d).create(on: db) }
    }

    public func save(_ d: Building, on db: any Database) async throws {
        if let m = try await BuildingModel.find(d.id, on: db) { m.update(from: d); try await m.save(on: db) } else { try await BuildingModel(d).create(on: db) }
    }

    /// Inserts or replaces a division row.
    public func saveDivision(code: String, name: String, level: String, parent: String?, on db: any Database) async throws {
        if let m = try await DivisionModel.find(code, on: db) {
            m.name = name
            m.level = level
            m.parentCode = parent
            try await m.save(on: db)
        } else {
            try await DivisionModel(code: code, name: name, level: level, parentCode: parent).create(on: db)
        }
    }
}
