import FengqiaoCore
import FengqiaoStore
import Vapor

/// Home page and territory pages: station → community (with the SVG grid map) → grids →
/// buildings, with the administrator's forms.
struct TerritoryWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get(access: .authenticated, use: home)
        routes.get("territories", access: .permission(.territoryRead), use: territories)
        routes.get("stations", ":id", access: .permission(.territoryRead), use: station)
        routes.get("communities", ":id", access: .permission(.territoryRead), use: community)
        routes.get("communities", ":id", "map.svg", access: .permission(.territoryRead), use: communityMap)
        routes.get("grids", ":id", access: .permission(.territoryRead), use: grid)
        routes.get("buildings", ":id", access: .permission(.territoryRead), use: building)
        routes.post("stations", access: .permission(.territoryWrite), use: createStation)
        routes.post("communities", access: .permission(.territoryWrite), use: createCommunity)
        routes.post("residential-groups", access: .permission(.territoryWrite), use: createGroup)
        routes.post("grids", access: .permission(.territoryWrite), use: createGrid)
        routes.post("grids", ":id", access: .permission(.territoryWrite), use: updateGrid)
        routes.post("buildings", access: .permission(.territoryWrite), use: createBuilding)
        routes.post("communities", ":id", access: .permission(.territoryWrite), use: updateCommunity)
        routes.post("buildings", ":id", access: .permission(.territoryWrite), use: updateBuilding)
    }

    func updateCommunity(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "community")
        let v = Self.values(req)
        do {
            _ = try await TerritoryService(req.fengqiao).updateCommunity(id, .init(name: v["name"], divisionCode12: v["divisionCode12"] ?? ""), actor: req.actor, visible: p.visible)
            return req.redirect(to: "/communities/\(id.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "communityEdit", values: v) else { throw error }
            return try await renderCommunity(req, id: id, formError: fe)
        }
    }

    func updateBuilding(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "building")
        let v = Self.values(req)
        do {
            _ = try await TerritoryService(req.fengqiao).updateBuilding(
                id, .init(name: v["name"], address: v["address"] ?? "", floors: try Self.intField(v["floors"], "floors"), lon: try Self.doubleField(v["lon"], "lon"), lat: try Self.doubleField(v["lat"], "lat")),
                actor: req.actor, visible: p.visible)
            return req.redirect(to: "/buildings/\(id.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "buildingEdit", values: v) else { throw error }
            return try await renderBuilding(req, id: id, formError: fe)
        }
    }

    struct Count: Encodable { var label: String; var value: Int; var href: String? }
    struct HomeData: Encodable { var counts: [Count]; var scope: String; var notice: String? }

    func home(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let t = Page.t(req)
        var counts: [Count] = []
        if p.has(.territoryRead) {
            let c = try await app.territories.totals(visible: p.visible, on: app.store.db)
            counts = [
                Count(label: t["count.stations"]!, value: c["stations"] ?? 0, href: "/territories"),
                Count(label: t["count.communities"]!, value: c["communities"] ?? 0, href: "/territories"),
                Count(label: t["count.groups"]!, value: c["groups"] ?? 0, href: nil),
                Count(label: t["count.grids"]!, value: c["grids"] ?? 0, href: nil),
                Count(label: t["count.buildings"]!, value: c["buildings"] ?? 0, href: nil),
            ]
        }
        if p.has(.accountRead) {
            let n = try await app.accounts.list(visible: p.visible, limit: 1, on: app.store.db).total
            counts.append(Count(label: t["count.users"]!, value: n, href: "/admin/users"))
        }
        var notice: String?
        if p.role == .sysadmin, try await app.accounts.count(role: .securityAdmin, on: app.store.db) == 0 { notice = t["home.nosetup"] }
        let scope = try await scopeLabel(p.account.scope, req)
        return try await Page.render(req, "home", HomeData(counts: counts, scope: scope, notice: notice), title: t["home.title"]!)
    }

    func scopeLabel(_ s: TerritoryScope, _ req: Request) async throws -> String {
        try await req.fengqiao.territories.scopeName(s, on: req.fengqiao.store.db)
    }

    struct StationRow: Encodable { var station: PoliceStation; var communities: [Community] }
    struct TerritoriesData: Encodable { var stations: [StationRow]; var canWrite: Bool; var formError: FormError? }

    func territories(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        if p.account.scope.level == .community || p.account.scope.level == .grid, let cid = p.visible.communityIDs?.first {
            return req.redirect(to: "/communities/\(cid.uuidString.lowercased())")
        }
        return try await renderTerritories(req, p, app, formError: nil)
    }

    func renderTerritories(_ req: Request, _ p: Principal, _ app: Fengqiao, formError: FormError?) async throws -> Response {
        var rows: [StationRow] = []
        for s in try await app.territories.stations(visible: p.visible, on: app.store.db) {
            rows.append(StationRow(station: s, communities: try await app.territories.communities(stationID: s.id, visible: p.visible, on: app.store.db)))
        }
        return try await Page.render(req, "territories", TerritoriesData(stations: rows, canWrite: p.has(.territoryWrite), formError: formError), title: Page.t(req)["nav.territories"]!, status: formError == nil ? .ok : .unprocessableEntity)
    }

    struct StationData: Encodable { var station: PoliceStation; var communities: [Community] }

    func station(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let s = try await app.territories.station(try req.uuid("id", kind: "police station"), visible: p.visible, on: app.store.db)
        let cs = try await app.territories.communities(stationID: s.id, visible: p.visible, on: app.store.db)
        return try await Page.render(req, "station", StationData(station: s, communities: cs), title: s.name)
    }

    struct GridRow: Encodable { var grid: Grid; var groupName: String?; var buildings: Int; var kindName: String }
    struct CommunityData: Encodable {
        var community: Community
        var station: PoliceStation
        var groups: [ResidentialGroup]
        var grids: [GridRow]
        var map: String?
        var canWrite: Bool
        var formError: FormError?
        /// 一标三实 figures per grid and in total (PopulationPanels; only with person:read).
        var figures: [PopulationPanels.Figures]? = nil
        var figuresTotal: PopulationPanels.Figures? = nil
    }

    func community(_ req: Request) async throws -> Response {
        try await renderCommunity(req, id: try req.uuid("id", kind: "community"), formError: nil)
    }

    func renderCommunity(_ req: Request, id: UUID, formError: FormError?) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let db = app.store.db
        let c = try await app.territories.community(id, visible: p.visible, on: db)
        let s = try await app.territories.station(c.stationID, visible: .everything, on: db)
        let groups = try await app.territories.residentialGroups(communityID: c.id, visible: p.visible, on: db)
        let grids = try await app.territories.grids(communityID: c.id, visible: p.visible, on: db)
        let counts = try await app.territories.buildingCounts(communityID: c.id, on: db)
        let byID = Dictionary(uniqueKeysWithValues: groups.map { ($0.id, $0.name) })
        let rows = grids.map { GridRow(grid: $0, groupName: $0.residentialGroupID.flatMap { byID[$0] }, buildings: counts[$0.id] ?? 0, kindName: Page.t(req)["grid.\($0.kind.rawValue)"] ?? $0.kind.nameZH) }
        var data = CommunityData(community: c, station: s, groups: groups, grids: rows, map: GridMap.svg(grids: grids), canWrite: p.has(.territoryWrite), formError: formError)
        if let f = try await PopulationPanels.figures(req, grids: grids, totalName: Page.t(req)["stat.total"]!) {
            data.figures = f.rows
            data.figuresTotal = f.total
        }
        return try await Page.render(req, "community", data, title: c.name, status: formError == nil ? .ok : .unprocessableEntity)
    }

    func communityMap(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let c = try await app.territories.community(try req.uuid("id", kind: "community"), visible: p.visible, on: app.store.db)
        let grids = try await app.territories.grids(communityID: c.id, visible: p.visible, on: app.store.db)
        let svg = GridMap.svg(grids: grids) ?? "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"/>"
        let res = Response(status: .ok, body: .init(string: svg))
        res.headers.contentType = HTTPMediaType(type: "image", subType: "svg+xml")
        return res
    }

    struct GridData: Encodable {
        var grid: Grid
        var community: Community
        var groupName: String?
        var groups: [ResidentialGroup]
        var buildings: [Building]
        var map: String?
        var polygonText: String
        var canWrite: Bool
        var formError: FormError?
        var kindName: String
        /// 一标三实 figures of the grid (PopulationPanels; only with person:read).
        var figures: PopulationPanels.Figures? = nil
    }

    func grid(_ req: Request) async throws -> Response {
        try await renderGrid(req, id: try req.uuid("id", kind: "grid"), formError: nil)
    }

    func renderGrid(_ req: Request, id: UUID, formError: FormError?) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let db = app.store.db
        let g = try await app.territories.grid(id, visible: p.visible, on: db)
        let c = try await app.territories.community(g.communityID, visible: p.visible, on: db)
        let groups = try await app.territories.residentialGroups(communityID: c.id, visible: p.visible, on: db)
        let all = try await app.territories.grids(communityID: c.id, visible: p.visible, on: db)
        let text = g.polygon?.ring.map { String(format: "%.6f,%.6f", $0.lon, $0.lat) }.joined(separator: "\n") ?? ""
        let data = GridData(
            grid: g, community: c, groupName: groups.first { $0.id == g.residentialGroupID }?.name, groups: groups,
            buildings: try await app.territories.buildings(gridID: g.id, on: db), map: GridMap.svg(grids: all, width: 480, highlight: g.id),
            polygonText: text, canWrite: p.has(.territoryWrite), formError: formError, kindName: Page.t(req)["grid.\(g.kind.rawValue)"] ?? g.kind.nameZH,
            figures: try await PopulationPanels.figures(req, grids: [g], totalName: g.name)?.rows.first)
        return try await Page.render(req, "grid", data, title: g.name, status: formError == nil ? .ok : .unprocessableEntity)
    }

    struct BuildingData: Encodable {
        var building: Building
        var grid: Grid
        var community: Community
        var canWrite: Bool
        var formError: FormError?
        /// Standard addresses linked to the building with their residents (only with person:read).
        var addresses: [PopulationPanels.BuildingAddress]? = nil
        var residents = 0
    }

    func building(_ req: Request) async throws -> Response {
        try await renderBuilding(req, id: try req.uuid("id", kind: "building"), formError: nil)
    }

    func renderBuilding(_ req: Request, id: UUID, formError: FormError?) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let db = app.store.db
        let b = try await app.territories.building(id, visible: p.visible, on: db)
        let g = try await app.territories.grid(b.gridID, visible: p.visible, on: db)
        let c = try await app.territories.community(g.communityID, visible: p.visible, on: db)
        let addresses = try await PopulationPanels.buildingAddresses(req, building: b)
        let data = BuildingData(
            building: b, grid: g, community: c, canWrite: p.has(.territoryWrite), formError: formError, addresses: addresses,
            residents: addresses?.reduce(0) { $0 + $1.residents } ?? 0)
        return try await Page.render(req, "building", data, title: b.name, status: formError == nil ? .ok : .unprocessableEntity)
    }

    // MARK: Forms

    static func values(_ req: Request) -> [String: String] {
        var out = (try? req.content.decode([String: String].self)) ?? [:]
        out["_csrf"] = nil
        return out
    }

    static func uuidField(_ v: String?, _ field: String) throws(DomainError) -> UUID? {
        guard let v, !v.isEmpty else { return nil }
        guard let id = UUID(uuidString: v) else { throw .invalidField(field: field, reason: "is not a valid id") }
        return id
    }

    static func intField(_ v: String?, _ field: String) throws(DomainError) -> Int? {
        guard let v = v?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        guard let i = Int(v) else { throw .invalidField(field: field, reason: "must be a whole number") }
        return i
    }

    static func doubleField(_ v: String?, _ field: String) throws(DomainError) -> Double? {
        guard let v = v?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        guard let d = Double(v), d.isFinite else { throw .invalidField(field: field, reason: "must be a number") }
        return d
    }

    /// Parses "lon,lat" lines into a polygon.
    static func polygon(_ text: String?) throws(DomainError) -> GeoPolygon? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        var pts: [GeoPoint] = []
        for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let parts = line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }).map(String.init)
            guard parts.count == 2, let lon = Double(parts[0]), let lat = Double(parts[1]) else {
                throw .invalidField(field: "polygon", reason: "line \(i + 1) must read 'longitude,latitude'")
            }
            pts.append(GeoPoint(lon: lon, lat: lat))
        }
        return try GeoPolygon(ring: pts).validated()
    }

    func createStation(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = Self.values(req)
        do {
            let s = try await TerritoryService(req.fengqiao).createStation(.init(name: v["name"], divisionCode: v["divisionCode"], address: v["address"]), actor: req.actor, visible: p.visible)
            return req.redirect(to: "/stations/\(s.id.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "station", values: v) else { throw error }
            return try await renderTerritories(req, p, req.fengqiao, formError: fe)
        }
    }

    func createCommunity(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = Self.values(req)
        do {
            let c = try await TerritoryService(req.fengqiao).createCommunity(
                .init(stationId: try Self.uuidField(v["stationId"], "stationId"), name: v["name"], townshipCode: v["townshipCode"], divisionCode12: v["divisionCode12"]),
                actor: req.actor, visible: p.visible)
            return req.redirect(to: "/communities/\(c.id.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "community", values: v) else { throw error }
            return try await renderTerritories(req, p, req.fengqiao, formError: fe)
        }
    }

    func createGroup(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = Self.values(req)
        let cid = try Self.uuidField(v["communityId"], "communityId") ?? UUID()
        do {
            _ = try await TerritoryService(req.fengqiao).createGroup(.init(communityId: cid, name: v["name"], sequence: try Self.intField(v["sequence"], "sequence")), actor: req.actor, visible: p.visible)
            return req.redirect(to: "/communities/\(cid.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "group", values: v) else { throw error }
            return try await renderCommunity(req, id: cid, formError: fe)
        }
    }

    func createGrid(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = Self.values(req)
        let cid = try Self.uuidField(v["communityId"], "communityId") ?? UUID()
        do {
            let g = try await TerritoryService(req.fengqiao).createGrid(
                .init(communityId: cid, residentialGroupId: try Self.uuidField(v["residentialGroupId"], "residentialGroupId"), code: v["code"],
                      sequence: try Self.intField(v["sequence"], "sequence"), name: v["name"], kind: GridKind(rawValue: v["kind"] ?? "basic"),
                      polygon: try Self.polygon(v["polygon"])),
                actor: req.actor, visible: p.visible)
            return req.redirect(to: "/grids/\(g.id.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "grid", values: v) else { throw error }
            return try await renderCommunity(req, id: cid, formError: fe)
        }
    }

    func updateGrid(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "grid")
        let v = Self.values(req)
        do {
            _ = try await TerritoryService(req.fengqiao).updateGrid(
                id, .init(residentialGroupId: try Self.uuidField(v["residentialGroupId"], "residentialGroupId"), name: v["name"], kind: v["kind"].flatMap(GridKind.init(rawValue:)), polygon: try Self.polygon(v["polygon"])),
                actor: req.actor, visible: p.visible)
            return req.redirect(to: "/grids/\(id.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "gridEdit", values: v) else { throw error }
            return try await renderGrid(req, id: id, formError: fe)
        }
    }

    func createBuilding(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = Self.values(req)
        let gid = try Self.uuidField(v["gridId"], "gridId") ?? UUID()
        do {
            _ = try await TerritoryService(req.fengqiao).createBuilding(
                .init(gridId: gid, name: v["name"], address: v["address"], floors: try Self.intField(v["floors"], "floors"), lon: try Self.doubleField(v["lon"], "lon"), lat: try Self.doubleField(v["lat"], "lat")),
                actor: req.actor, visible: p.visible)
            return req.redirect(to: "/grids/\(gid.uuidString.lowercased())")
        } catch {
            guard let fe = FormError.from(error, form: "building", values: v) else { throw error }
            return try await renderGrid(req, id: gid, formError: fe)
        }
    }
}
