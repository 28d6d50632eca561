import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Creates and edits territories, validating in the core and auditing every change.
public struct TerritoryService: Sendable {
    let app: Fengqiao

    public init(_ app: Fengqiao) { self.app = app }

    /// Input for a police station.
    public struct StationInput: Codable, Sendable {
        public var name: String?
        public var divisionCode: String?
        public var address: String?
        public init(name: String? = nil, divisionCode: String? = nil, address: String? = nil) {
            self.name = name
            self.divisionCode = divisionCode
            self.address = address
        }
    }

    public struct CommunityInput: Codable, Sendable {
        public var stationId: UUID?
        public var name: String?
        public var townshipCode: String?
        public var divisionCode12: String?
        public init(stationId: UUID? = nil, name: String? = nil, townshipCode: String? = nil, divisionCode12: String? = nil) {
            self.stationId = stationId
            self.name = name
            self.townshipCode = townshipCode
            self.divisionCode12 = divisionCode12
        }
    }

    public struct GroupInput: Codable, Sendable {
        public var communityId: UUID?
        public var name: String?
        public var sequence: Int?
        public init(communityId: UUID? = nil, name: String? = nil, sequence: Int? = nil) {
            self.communityId = communityId
            self.name = name
            self.sequence = sequence
        }
    }

    public struct GridInput: Codable, Sendable {
        public var communityId: UUID?
        public var residentialGroupId: UUID?
        public var code: String?
        public var sequence: Int?
        public var name: String?
        public var kind: GridKind?
        public var polygon: GeoPolygon?
        public init(communityId: UUID? = nil, residentialGroupId: UUID? = nil, code: String? = nil, sequence: Int? = nil, name: String? = nil, kind: GridKind? = nil, polygon: GeoPolygon? = nil) {
            self.communityId = communityId
            self.residentialGroupId = residentialGroupId
            self.code = code
            self.sequence = sequence
            self.name = name
            self.kind = kind
            self.polygon = polygon
        }
    }

    public struct BuildingInput: Codable, Sendable {
        public var gridId: UUID?
        public var name: String?
        public var address: String?
        public var floors: Int?
        public var lon: Double?
        public var lat: Double?
        public init(gridId: UUID? = nil, name: String? = nil, address: String? = nil, floors: Int? = nil, lon: Double? = nil, lat: Double? = nil) {
            self.gridId = gridId
            self.name = name
            self.address = address
            self.floors = floors
            self.lon = lon
            self.lat = lat
        }
    }

    static func required<T>(_ v: T?, _ field: String) throws(DomainError) -> T {
        guard let v else { throw .invalidField(field: field, reason: "is required") }
        return v
    }

    /// Both coordinates or neither.
    static func location(lon: Double?, lat: Double?) throws(DomainError) -> GeoPoint? {
        switch (lon, lat) {
        case (nil, nil): return nil
        case (.some, nil): throw .invalidField(field: "lat", reason: "is required with lon")
        case (nil, .some): throw .invalidField(field: "lon", reason: "is required with lat")
        case (.some(let lon), .some(let lat)):
            guard lon.isFinite, (-180...180).contains(lon) else { throw .invalidField(field: "lon", reason: "must lie in −180…180") }
            guard lat.isFinite, (-90...90).contains(lat) else { throw .invalidField(field: "lat", reason: "must lie in −90…90") }
            return GeoPoint(lon: lon, lat: lat).rounded
        }
    }

    private func write<T: Sendable>(_ actor: Actor, _ action: AuditAction, _ type: String, _ id: UUID, fields: [String], _ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        try await app.store.write { [app] db in
            let r = try await body(db)
            _ = try await app.audit.append(actor.draft(action, objectType: type, objectID: id.uuidString.lowercased(), fields: fields), on: db)
            return r
        }
    }

    public func createStation(_ i: StationInput, actor: Actor, visible: VisibleTerritory) async throws -> PoliceStation {
        guard visible == .everything else { throw DomainError.forbidden(reason: "only a city-wide account creates police stations") }
        let code = try DivisionCode(try Self.required(i.divisionCode, "divisionCode"))
        guard code.level == .county || code.level == .township else { throw DomainError.invalidField(field: "divisionCode", reason: "must be a county or township code") }
        let s = PoliceStation(name: try FieldRules.name(i.name, field: "name"), divisionCode: code.value, address: try FieldRules.optional(i.address, field: "address"))
        try await write(actor, .create, "police-station", s.id, fields: ["name", "divisionCode", "address"]) { [app] db in try await app.territories.save(s, on: db) }
        return s
    }

    public func createCommunity(_ i: CommunityInput, actor: Actor, visible: VisibleTerritory) async throws -> Community {
        let sid = try Self.required(i.stationId, "stationId")
        guard visible.canSee(station: sid) else {
            throw DomainError.notFound(kind: "police station")
        }
        let town = try DivisionCode(try Self.required(i.townshipCode, "townshipCode"), field: "townshipCode")
        guard town.level == .township else { throw DomainError.invalidField(field: "townshipCode", reason: "must be a 9-digit township code") }
        var code12: String?
        if let raw = i.divisionCode12, !raw.trimmingCharacters(in: .whitespaces).isEmpty {
            let c = try DivisionCode(raw, field: "divisionCode12")
            guard c.level == .village, c.value.count == 12, c.value.hasPrefix(String(town.value.prefix(9))) else {
                throw DomainError.invalidField(field: "divisionCode12", reason: "must be a 12-digit village-level code under township \(town.value)")
            }
            code12 = c.value
        }
        let c = Community(stationID: sid, name: try FieldRules.name(i.name, field: "name"), townshipCode: town.value, divisionCode12: code12)
        try await write(actor, .create, "community", c.id, fields: ["stationId", "name", "townshipCode", "divisionCode12"]) { [app] db in try await app.territories.save(c, on: db) }
        return c
    }

    public func createGroup(_ i: GroupInput, actor: Actor, visible: VisibleTerritory) async throws -> ResidentialGroup {
        let cid = try Self.required(i.communityId, "communityId")
        guard visible.canSee(community: cid) else { throw DomainError.notFound(kind: "community") }
        let seq = try Self.required(i.sequence, "sequence")
        guard (1...999).contains(seq) else { throw DomainError.invalidField(field: "sequence", reason: "must be 1–999") }
        let g = ResidentialGroup(communityID: cid, name: try FieldRules.name(i.name, field: "name"), sequence: seq)
        try await write(actor, .create, "residential-group", g.id, fields: ["communityId", "name", "sequence"]) { [app] db in
            guard try await CommunityModel.find(cid, on: db) != nil else { throw DomainError.notFound(kind: "community") }
            if try await ResidentialGroupModel.query(on: db).filter(\.$communityID == cid).filter(\.$sequence == seq).count() > 0 {
                throw DomainError.conflict(field: "sequence", reason: "the community already has group \(seq)")
            }
            try await app.territories.save(g, on: db)
        }
        return g
    }

    /// Creates a grid; without an explicit code, the project default code (community 12-digit
    /// code + sequence) is used, which needs the community's code.
    public func createGrid(_ i: GridInput, actor: Actor, visible: VisibleTerritory) async throws -> Grid {
        let cid = try Self.required(i.communityId, "communityId")
        let community = try await app.territories.community(cid, visible: visible, on: app.store.db)
        let kind = i.kind ?? .basic
        let code: String
        if let c = i.code, !c.isEmpty {
            try GridCode.validate(c)
            code = c.trimmingCharacters(in: .whitespaces)
        } else {
            guard let c12 = community.divisionCode12 else {
                throw DomainError.invalidField(field: "code", reason: "is required while the community has no 12-digit division code")
            }
            code = try GridCode.make(communityCode12: c12, sequence: try Self.required(i.sequence, "sequence"), dedicated: kind == .dedicated)
        }
        let g = Grid(communityID: cid, residentialGroupID: i.residentialGroupId, code: code, name: try FieldRules.name(i.name, field: "name"), kind: kind, polygon: try i.polygon?.validated())
        try await write(actor, .create, "grid", g.id, fields: ["communityId", "residentialGroupId", "code", "name", "kind", "polygon"]) { [app] db in try await app.territories.save(g, on: db) }
        return g
    }

    /// Edits a grid's name, group, kind and polygon (the code and community stay).
    public func updateGrid(_ id: UUID, _ i: GridInput, actor: Actor, visible: VisibleTerritory) async throws -> Grid {
        var g = try await app.territories.grid(id, visible: visible, on: app.store.db)
        var changed: [String] = []
        if let n = i.name { g.name = try FieldRules.name(n, field: "name"); changed.append("name") }
        if let k = i.kind { g.kind = k; changed.append("kind") }
        if let r = i.residentialGroupId { g.residentialGroupID = r; changed.append("residentialGroupId") }
        if let p = i.polygon { g.polygon = try p.validated(); changed.append("polygon") }
        guard !changed.isEmpty else { return g }
        let grid = g
        try await write(actor, .update, "grid", id, fields: changed) { [app] db in try await app.territories.save(grid, on: db) }
        return g
    }

    /// Edits a community's name and 12-digit code (the code is often confirmed only later,
    /// domain spec §2.2); the station and township stay.
    public func updateCommunity(_ id: UUID, _ i: CommunityInput, actor: Actor, visible: VisibleTerritory) async throws -> Community {
        var c = try await app.territories.community(id, visible: visible, on: app.store.db)
        var changed: [String] = []
        if let n = i.name { c.name = try FieldRules.name(n, field: "name"); changed.append("name") }
        if let raw = i.divisionCode12 {
            if raw.trimmingCharacters(in: .whitespaces).isEmpty {
                c.divisionCode12 = nil
            } else {
                let code = try DivisionCode(raw, field: "divisionCode12")
                guard code.level == .village, code.value.count == 12, code.value.hasPrefix(c.townshipCode) else {
                    throw DomainError.invalidField(field: "divisionCode12", reason: "must be a 12-digit village-level code under township \(c.townshipCode)")
                }
                c.divisionCode12 = code.value
            }
            changed.append("divisionCode12")
        }
        guard !changed.isEmpty else { return c }
        let community = c
        try await write(actor, .update, "community", id, fields: changed) { [app] db in try await app.territories.save(community, on: db) }
        return c
    }

    /// Edits a building's name, address, floors and position.
    public func updateBuilding(_ id: UUID, _ i: BuildingInput, actor: Actor, visible: VisibleTerritory) async throws -> Building {
        var b = try await app.territories.building(id, visible: visible, on: app.store.db)
        var changed: [String] = []
        if let n = i.name { b.name = try FieldRules.name(n, field: "name"); changed.append("name") }
        if let a = i.address { b.address = try FieldRules.optional(a, field: "address"); changed.append("address") }
        if let f = i.floors {
            guard (1...200).contains(f) else { throw DomainError.invalidField(field: "floors", reason: "must be 1–200") }
            b.floors = f
            changed.append("floors")
        }
        if let loc = try Self.location(lon: i.lon, lat: i.lat) {
            b.location = loc
            changed.append("location")
        }
        guard !changed.isEmpty else { return b }
        let building = b
        try await write(actor, .update, "building", id, fields: changed) { [app] db in try await app.territories.save(building, on: db) }
        return b
    }

    public func createBuilding(_ i: BuildingInput, actor: Actor, visible: VisibleTerritory) async throws -> Building {
        let gid = try Self.required(i.gridId, "gridId")
        _ = try await app.territories.grid(gid, visible: visible, on: app.store.db)
        if let f = i.floors, !(1...200).contains(f) { throw DomainError.invalidField(field: "floors", reason: "must be 1–200") }
        let loc = try Self.location(lon: i.lon, lat: i.lat)
        let b = Building(gridID: gid, name: try FieldRules.name(i.name, field: "name"), address: try FieldRules.optional(i.address, field: "address"), floors: i.floors, location: loc)
        try await write(actor, .create, "building", b.id, fields: ["gridId", "name", "address", "floors", "location"]) { [app] db in try await app.territories.save(b, on: db) }
        return b
    }
}
