import FengqiaoCore
import FengqiaoStore
import Vapor

/// The JSON API under `/api/v1` (documented in `/api/v1/openapi.json`), calling the same
/// services as the web UI. Errors are RFC 9457 problem details.
struct APIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("healthz", access: .anonymous, use: health)
        let api = routes.grouped("api", "v1").grouped(IdempotencyMiddleware())
        api.get("openapi.json", access: .anonymous, use: openAPI)
        api.get("me", access: .authenticated, use: me)
        api.get("stations", access: .permission(.territoryRead), use: stations)
        api.get("stations", ":id", access: .permission(.territoryRead), use: station)
        api.post("stations", access: .permission(.territoryWrite), use: createStation).idempotent()
        api.get("communities", access: .permission(.territoryRead), use: communities)
        api.get("communities", ":id", access: .permission(.territoryRead), use: community)
        api.post("communities", access: .permission(.territoryWrite), use: createCommunity).idempotent()
        api.post("residential-groups", access: .permission(.territoryWrite), use: createGroup).idempotent()
        api.get("communities", ":id", "grids", access: .permission(.territoryRead), use: grids)
        api.get("grids", ":id", access: .permission(.territoryRead), use: grid)
        api.post("grids", access: .permission(.territoryWrite), use: createGrid).idempotent()
        api.patch("grids", ":id", access: .permission(.territoryWrite), use: updateGrid)
        api.patch("communities", ":id", access: .permission(.territoryWrite), use: updateCommunity)
        api.get("residential-groups", ":id", access: .permission(.territoryRead), use: group)
        api.patch("buildings", ":id", access: .permission(.territoryWrite), use: updateBuilding)
        api.get("grids", ":id", "buildings", access: .permission(.territoryRead), use: buildings)
        api.get("buildings", ":id", access: .permission(.territoryRead), use: building)
        api.post("buildings", access: .permission(.territoryWrite), use: createBuilding).idempotent()
        api.get("users", access: .permission(.accountRead), use: users)
        api.get("users", ":id", access: .permission(.accountRead), use: user)
        api.post("users", access: .permission(.accountManage), use: createUser)
        api.post("users", ":id", "disable", access: .permission(.accountManage), use: disableUser)
        api.post("users", ":id", "enable", access: .permission(.accountManage), use: enableUser)
        api.post("users", ":id", "reset-password", access: .permission(.accountManage), use: resetPassword)
        api.put("users", ":id", "grant", access: .permission(.roleGrant), use: grant)
        api.put("users", ":id", "resident", access: .permission(.accountManage), use: linkResident)
        api.get("audit", access: .permission(.auditRead), use: audit)
        api.get("audit", "verify", access: .permission(.auditVerify), use: auditVerify)
        api.get("tokens", access: .authenticated, use: tokens)
        api.post("tokens", access: .authenticated, use: issueToken)
        api.delete("tokens", ":id", access: .authenticated, use: revokeToken)
        try api.register(collection: PopulationAPIController())
        try api.register(collection: RecordsAPIController())
        try api.register(collection: ExportApprovalAPIController())
        try api.register(collection: ImportAPIController())
        try api.register(collection: HouseAPIController())
        try api.register(collection: OrganizationAPIController())
        try api.register(collection: DisputeAPIController())
        try api.register(collection: DisputeStatisticsAPIController())
        try api.register(collection: HazardAPIController())
        try api.register(collection: EventMapAPIController())
        try api.register(collection: Open311KeyAPIController())
        try api.register(collection: NotificationAPIController())
        try api.register(collection: HazardStatsAPIController())
    }

    struct Health: Encodable { var status: String }
    func health(_ req: Request) async throws -> Response { try JSONOut.response(Health(status: "ok")) }

    func openAPI(_ req: Request) async throws -> Response {
        guard let data = FileManager.default.contents(atPath: resourcesDirectory() + "openapi.json") else { throw Abort(.notFound) }
        let res = Response(status: .ok, body: .init(data: data))
        res.headers.contentType = .json
        return res
    }

    struct Me: Encodable { var account: Account; var permissions: [String]; var via: String }
    func me(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(Me(account: p.account, permissions: p.permissions.map(\.rawValue).sorted(), via: p.tokenID == nil ? "session" : "token"))
    }

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    // MARK: Territories

    func stations(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let items = try await req.fengqiao.territories.stations(visible: p.visible, on: req.fengqiao.store.db)
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    func station(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await req.fengqiao.territories.station(try req.uuid("id", kind: "police station"), visible: p.visible, on: req.fengqiao.store.db))
    }

    func communities(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        var station: UUID?
        if let s = req.query[String.self, at: "stationId"] {
            guard let id = UUID(uuidString: s) else { throw DomainError.invalidField(field: "stationId", reason: "is not a valid id") }
            station = id
        }
        let items = try await req.fengqiao.territories.communities(stationID: station, visible: p.visible, on: req.fengqiao.store.db)
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    struct CommunityOut: Encodable { var community: Community; var residentialGroups: [ResidentialGroup]; var gridCount: Int }
    func community(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let c = try await app.territories.community(try req.uuid("id", kind: "community"), visible: p.visible, on: app.store.db)
        let groups = try await app.territories.residentialGroups(communityID: c.id, visible: p.visible, on: app.store.db)
        let grids = try await app.territories.grids(communityID: c.id, visible: p.visible, on: app.store.db)
        return try JSONOut.response(CommunityOut(community: c, residentialGroups: groups, gridCount: grids.count))
    }

    func grids(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let c = try await app.territories.community(try req.uuid("id", kind: "community"), visible: p.visible, on: app.store.db)
        let items = try await app.territories.grids(communityID: c.id, visible: p.visible, on: app.store.db)
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    func grid(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await req.fengqiao.territories.grid(try req.uuid("id", kind: "grid"), visible: p.visible, on: req.fengqiao.store.db))
    }

    func buildings(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let g = try await app.territories.grid(try req.uuid("id", kind: "grid"), visible: p.visible, on: app.store.db)
        let items = try await app.territories.buildings(gridID: g.id, on: app.store.db)
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    func building(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await req.fengqiao.territories.building(try req.uuid("id", kind: "building"), visible: p.visible, on: req.fengqiao.store.db))
    }

    func created<T: Encodable & Identifiable>(_ v: T, _ path: String) throws -> Response where T.ID == UUID {
        try JSONOut.response(v, status: .created, location: "/api/v1/\(path)/\(v.id.uuidString.lowercased())")
    }

    func createStation(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try created(try await TerritoryService(req.fengqiao).createStation(try JSONIn.decode(TerritoryService.StationInput.self, req), actor: req.actor, visible: p.visible), "stations")
    }

    func createCommunity(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try created(try await TerritoryService(req.fengqiao).createCommunity(try JSONIn.decode(TerritoryService.CommunityInput.self, req), actor: req.actor, visible: p.visible), "communities")
    }

    func createGroup(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try created(try await TerritoryService(req.fengqiao).createGroup(try JSONIn.decode(TerritoryService.GroupInput.self, req), actor: req.actor, visible: p.visible), "residential-groups")
    }

    func createGrid(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try created(try await TerritoryService(req.fengqiao).createGrid(try JSONIn.decode(TerritoryService.GridInput.self, req), actor: req.actor, visible: p.visible), "grids")
    }

    func updateGrid(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await TerritoryService(req.fengqiao).updateGrid(try req.uuid("id", kind: "grid"), try JSONIn.decode(TerritoryService.GridInput.self, req), actor: req.actor, visible: p.visible))
    }

    func updateCommunity(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await TerritoryService(req.fengqiao).updateCommunity(try req.uuid("id", kind: "community"), try JSONIn.decode(TerritoryService.CommunityInput.self, req), actor: req.actor, visible: p.visible))
    }

    func updateBuilding(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await TerritoryService(req.fengqiao).updateBuilding(try req.uuid("id", kind: "building"), try JSONIn.decode(TerritoryService.BuildingInput.self, req), actor: req.actor, visible: p.visible))
    }

    func group(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await req.fengqiao.territories.residentialGroup(try req.uuid("id", kind: "residential group"), visible: p.visible, on: req.fengqiao.store.db))
    }

    func createBuilding(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try created(try await TerritoryService(req.fengqiao).createBuilding(try JSONIn.decode(TerritoryService.BuildingInput.self, req), actor: req.actor, visible: p.visible), "buildings")
    }

    // MARK: Accounts

    func users(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        var role: Role?
        if let r = req.query[String.self, at: "role"] {
            guard let v = Role(rawValue: r) else { throw DomainError.invalidField(field: "role", reason: "unknown role \"\(r.prefix(40))\"") }
            role = v
        }
        let limit = min(max(req.query[Int.self, at: "limit"] ?? 100, 1), 500)
        let offset = max(req.query[Int.self, at: "offset"] ?? 0, 0)
        let (items, total) = try await req.fengqiao.accounts.list(visible: p.visible, role: role, search: req.query[String.self, at: "q"], limit: limit, offset: offset, on: req.fengqiao.store.db)
        return try JSONOut.response(Page(items: items, total: total))
    }

    func user(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(try await AccountService(req.fengqiao).get(try req.uuid("id", kind: "user"), visible: p.visible))
    }

    struct NewUserIn: Decodable { var username: String; var displayName: String; var role: Role; var scope: TerritoryScope }
    struct NewUserOut: Encodable { var account: Account; var temporaryPassword: String? }

    func createUser(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(NewUserIn.self, req)
        let (a, temp) = try await AccountService(req.fengqiao).create(.init(username: i.username, displayName: i.displayName, role: i.role, scope: i.scope, password: nil), actor: req.actor, visible: p.visible)
        return try JSONOut.response(NewUserOut(account: a, temporaryPassword: temp), status: .created, location: "/api/v1/users/\(a.id.uuidString.lowercased())")
    }

    func lifecycle(_ req: Request, _ body: (AccountService, UUID, Actor) async throws -> String?) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "user")
        _ = try await AccountService(req.fengqiao).get(id, visible: p.visible)
        let temp = try await body(AccountService(req.fengqiao), id, req.actor)
        let a = try await AccountService(req.fengqiao).get(id, visible: p.visible)
        return try JSONOut.response(NewUserOut(account: a, temporaryPassword: temp))
    }

    func disableUser(_ req: Request) async throws -> Response { try await lifecycle(req) { s, id, a in try await s.setDisabled(id, disabled: true, actor: a); return nil } }
    func enableUser(_ req: Request) async throws -> Response { try await lifecycle(req) { s, id, a in try await s.setDisabled(id, disabled: false, actor: a); return nil } }
    func resetPassword(_ req: Request) async throws -> Response { try await lifecycle(req) { s, id, a in try await s.resetPassword(id, actor: a) } }

    struct ResidentLinkIn: Decodable { var idNumber: String?; var residentId: UUID? }
    /// `PUT /api/v1/users/{id}/resident` `{"idNumber": …}` or `{"residentId": …}` (neither:
    /// unlink): the holder's own actual-resident record (see `AccountService.linkResident`).
    func linkResident(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(ResidentLinkIn.self, req)
        let a = try await AccountService(req.fengqiao).linkResident(try req.uuid("id", kind: "user"), idNumber: i.idNumber, residentID: i.residentId, actor: req.actor, visible: p.visible)
        return try JSONOut.response(a)
    }

    struct GrantIn: Decodable { var role: Role; var scope: TerritoryScope }
    func grant(_ req: Request) async throws -> Response {
        let i = try JSONIn.decode(GrantIn.self, req)
        return try await lifecycle(req) { s, id, a in try await s.grant(id, role: i.role, scope: i.scope, actor: a, visible: try req.requirePrincipal().visible); return nil }
    }

    // MARK: Audit

    func audit(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        var actor: UUID?
        if let a = req.query[String.self, at: "actorId"] {
            guard let id = UUID(uuidString: a) else { throw DomainError.invalidField(field: "actorId", reason: "is not a valid id") }
            actor = id
        }
        var action: AuditAction?
        if let a = req.query[String.self, at: "action"] {
            guard let v = AuditAction(rawValue: a) else { throw DomainError.invalidField(field: "action", reason: "unknown action") }
            action = v
        }
        let q = try AdminWebController.auditQuery(for: p, base: AuditQuery(
            objectType: req.query[String.self, at: "objectType"], objectID: req.query[String.self, at: "objectId"], actorID: actor, action: action,
            limit: min(max(req.query[Int.self, at: "limit"] ?? 100, 1), 1000), beforeSeq: req.query[Int64.self, at: "before"]))
        let items = try await req.fengqiao.audit.list(q, on: req.fengqiao.store.db)
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    struct Verdict: Encodable { var intact: Bool; var rows: Int64?; var brokenAt: Int64?; var reason: String? }
    func auditVerify(_ req: Request) async throws -> Response {
        let v = try await req.fengqiao.audit.verify(on: req.fengqiao.store.db)
        try await req.fengqiao.record(req.actor.draft(.read, objectType: "audit-chain", detail: "verified via API"))
        switch v {
        case .intact(let n): return try JSONOut.response(Verdict(intact: true, rows: n))
        case .broken(let s, let r): return try JSONOut.response(Verdict(intact: false, brokenAt: s, reason: r))
        }
    }

    // MARK: Tokens

    struct TokenOut: Encodable { var id: UUID; var name: String; var scopes: [String]; var createdAt: Date; var expiresAt: Date?; var revokedAt: Date?; var lastUsedAt: Date?; var token: String? }

    func tokens(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let items = try await req.fengqiao.sessions.tokens(userID: p.id, on: req.fengqiao.store.db).map {
            TokenOut(id: $0.id!, name: $0.name, scopes: $0.scopes.split(separator: " ").map(String.init), createdAt: $0.createdAt, expiresAt: $0.expiresAt, revokedAt: $0.revokedAt, lastUsedAt: $0.lastUsedAt)
        }
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    struct TokenIn: Decodable { var name: String; var scopes: [Permission]; var expiresInDays: Int? }
    func issueToken(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        guard p.sessionID != nil else { throw DomainError.forbidden(reason: "API tokens are issued from a signed-in session, not with another token") }
        let i = try JSONIn.decode(TokenIn.self, req)
        let (t, secret) = try await AuthService(req.fengqiao).issueToken(user: p.account, name: i.name, scopes: Set(i.scopes), days: i.expiresInDays, actor: req.actor)
        return try JSONOut.response(TokenOut(id: t.id!, name: t.name, scopes: t.scopes.split(separator: " ").map(String.init), createdAt: t.createdAt, expiresAt: t.expiresAt, token: secret), status: .created)
    }

    func revokeToken(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        try await AuthService(req.fengqiao).revokeToken(id: try req.uuid("id", kind: "API token"), owner: p.id, actor: req.actor)
        return Response(status: .noContent)
    }
}
