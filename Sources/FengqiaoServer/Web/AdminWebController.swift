import FengqiaoCore
import FengqiaoStore
import Vapor

/// Account administration, one's own account and API tokens, and the audit viewer.
struct AdminWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("admin", "users", access: .permission(.accountRead), use: users)
        routes.get("admin", "users", "new", access: .permission(.accountManage), use: newUser)
        routes.post("admin", "users", access: .permission(.accountManage), use: createUser)
        routes.get("admin", "users", ":id", access: .permission(.accountRead), use: user)
        routes.post("admin", "users", ":id", "disable", access: .permission(.accountManage), use: disable)
        routes.post("admin", "users", ":id", "enable", access: .permission(.accountManage), use: enable)
        routes.post("admin", "users", ":id", "reset-password", access: .permission(.accountManage), use: resetPassword)
        routes.post("admin", "users", ":id", "grant", access: .permission(.roleGrant), use: grant)
        routes.post("admin", "users", ":id", "unlock", access: .permission(.roleGrant), use: unlock)
        routes.post("admin", "users", ":id", "resident", access: .permission(.accountManage), use: linkResident)
        routes.get("account", access: .authenticated, use: account)
        routes.post("account", "tokens", access: .authenticated, use: issueToken)
        routes.post("account", "tokens", ":id", "revoke", access: .authenticated, use: revokeToken)
        routes.get("audit", access: .permission(.auditRead), use: audit)
    }

    struct UserRow: Encodable { var account: Account; var roleName: String; var locked: Bool }
    struct UsersData: Encodable { var rows: [UserRow]; var total: Int; var q: String; var role: String; var canManage: Bool; var roles: [Option]; var page: Int; var prevPage: Int?; var nextPage: Int? }
    struct Option: Encodable { var value: String; var label: String; var selected: Bool }

    func roleOptions(_ req: Request, selected: String?) -> [Option] {
        Role.allCases.map { Option(value: $0.rawValue, label: Page.roleName($0, req), selected: $0.rawValue == selected) }
    }

    func users(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let q = String((req.query[String.self, at: "q"] ?? "").prefix(50))
        let role = req.query[String.self, at: "role"].flatMap(Role.init(rawValue:))
        let perPage = 50
        let page = max(1, min(req.query[Int.self, at: "page"] ?? 1, 100_000))
        let (items, total) = try await req.fengqiao.accounts.list(visible: p.visible, role: role, search: q, limit: perPage, offset: (page - 1) * perPage, on: req.fengqiao.store.db)
        let rows = items.map { UserRow(account: $0, roleName: Page.roleName($0.role, req), locked: ($0.lockedUntil ?? .distantPast) > Date()) }
        let data = UsersData(
            rows: rows, total: total, q: q, role: role?.rawValue ?? "", canManage: p.has(.accountManage), roles: roleOptions(req, selected: role?.rawValue),
            page: page, prevPage: page > 1 ? page - 1 : nil, nextPage: page * perPage < total ? page + 1 : nil)
        return try await Page.render(req, "users", data, title: Page.t(req)["users.title"]!)
    }

    struct ScopeOption: Encodable { var value: String; var label: String }
    struct NewUserData: Encodable { var roles: [Option]; var scopes: [ScopeOption]; var formError: FormError?; var created: Account?; var temporaryPassword: String? }

    func scopeOptions(_ req: Request, _ p: Principal) async throws -> [ScopeOption] {
        let app = req.fengqiao
        let db = app.store.db
        var out: [ScopeOption] = p.visible == .everything ? [ScopeOption(value: "city", label: "全市 / city")] : []
        for s in try await app.territories.stations(visible: p.visible, on: db) {
            out.append(ScopeOption(value: "station:\(s.id.uuidString.lowercased())", label: "派出所 \(s.name)"))
            for c in try await app.territories.communities(stationID: s.id, visible: p.visible, on: db) {
                out.append(ScopeOption(value: "community:\(c.id.uuidString.lowercased())", label: "社区 \(c.name)"))
                for g in try await app.territories.grids(communityID: c.id, visible: p.visible, on: db) {
                    out.append(ScopeOption(value: "grid:\(g.id.uuidString.lowercased())", label: "网格 \(c.name) \(g.name)"))
                }
            }
        }
        return out
    }

    static func parseScope(_ raw: String?) throws(DomainError) -> TerritoryScope {
        guard let raw, !raw.isEmpty else { throw .invalidField(field: "scope", reason: "is required") }
        if raw == "city" { return .city }
        let parts = raw.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let level = ScopeLevel(rawValue: parts[0]), let id = UUID(uuidString: parts[1]) else {
            throw .invalidField(field: "scope", reason: "must read city, station:<id>, community:<id> or grid:<id>")
        }
        return TerritoryScope(level: level, territoryID: id)
    }

    func newUser(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try await Page.render(req, "user-new", NewUserData(roles: roleOptions(req, selected: Role.gridWorker.rawValue), scopes: try await scopeOptions(req, p), formError: nil), title: Page.t(req)["users.new"]!)
    }

    func createUser(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = TerritoryWebController.values(req)
        do {
            guard let role = Role(rawValue: v["role"] ?? "") else { throw DomainError.invalidField(field: "role", reason: "is not a known role") }
            let (acct, temp) = try await AccountService(req.fengqiao).create(
                .init(username: v["username"] ?? "", displayName: v["displayName"] ?? "", role: role, scope: try Self.parseScope(v["scope"]), password: nil),
                actor: req.actor, visible: p.visible)
            return try await Page.render(req, "user-new", NewUserData(roles: roleOptions(req, selected: role.rawValue), scopes: try await scopeOptions(req, p), formError: nil, created: acct, temporaryPassword: temp), title: Page.t(req)["users.new"]!, status: .created)
        } catch {
            guard let fe = FormError.from(error, form: "user", values: v) else { throw error }
            return try await Page.render(req, "user-new", NewUserData(roles: roleOptions(req, selected: v["role"]), scopes: try await scopeOptions(req, p), formError: fe), title: Page.t(req)["users.new"]!, status: .unprocessableEntity)
        }
    }

    struct UserData: Encodable {
        var account: Account
        var roleName: String
        var scope: String
        var locked: Bool
        var canManage: Bool
        var canGrant: Bool
        var roles: [Option]
        var scopes: [ScopeOption]
        var temporaryPassword: String?
        var message: String?
        var formError: FormError?
        /// The linked resident as the administrator may see it: name and masked ID number.
        var resident: String?
    }

    func renderUser(_ req: Request, id: UUID, temporaryPassword: String? = nil, message: String? = nil, formError: FormError? = nil) async throws -> Response {
        let p = try req.requirePrincipal()
        let a = try await AccountService(req.fengqiao).get(id, visible: p.visible)
        let data = UserData(
            account: a, roleName: Page.roleName(a.role, req), scope: try await TerritoryWebController().scopeLabel(a.scope, req),
            locked: (a.lockedUntil ?? .distantPast) > Date(), canManage: p.has(.accountManage) && p.id != a.id,
            canGrant: p.has(.roleGrant) && p.id != a.id, roles: roleOptions(req, selected: a.role.rawValue),
            scopes: p.has(.roleGrant) ? try await scopeOptions(req, p) : [], temporaryPassword: temporaryPassword, message: message, formError: formError,
            resident: try await residentLabel(a.residentId, p, req))
        return try await Page.render(req, "user", data, title: a.username, status: formError == nil ? .ok : .unprocessableEntity)
    }

    /// "张三 530481********0011" for a linked resident the administrator's territory holds.
    func residentLabel(_ id: UUID?, _ p: Principal, _ req: Request) async throws -> String? {
        guard let id else { return nil }
        let app = req.fengqiao
        let residents = ResidentRepository(cipher: app.cipher)
        guard let r = try await ifFound({ try await residents.find(id, visible: p.visible, on: app.store.db) }) else { return nil }
        return "\(r.name) \(Masking.idNumber(r.idNumber))"
    }

    func user(_ req: Request) async throws -> Response {
        try await renderUser(req, id: try req.uuid("id", kind: "user"))
    }

    func lifecycle(_ req: Request, _ body: (AccountService, UUID, Actor) async throws -> String?) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "user")
        _ = try await AccountService(req.fengqiao).get(id, visible: p.visible)
        do {
            let temp = try await body(AccountService(req.fengqiao), id, req.actor)
            return try await renderUser(req, id: id, temporaryPassword: temp)
        } catch {
            guard let fe = FormError.from(error, form: "user", values: [:]) else { throw error }
            return try await renderUser(req, id: id, formError: fe)
        }
    }

    func disable(_ req: Request) async throws -> Response { try await lifecycle(req) { s, id, a in try await s.setDisabled(id, disabled: true, actor: a); return nil } }
    func enable(_ req: Request) async throws -> Response { try await lifecycle(req) { s, id, a in try await s.setDisabled(id, disabled: false, actor: a); return nil } }
    func resetPassword(_ req: Request) async throws -> Response { try await lifecycle(req) { s, id, a in try await s.resetPassword(id, actor: a) } }

    /// Links the account to its holder's resident record by ID number (form `idNumber`, in the
    /// body, never the URL), or unlinks it (`unlink=1`).
    func linkResident(_ req: Request) async throws -> Response {
        let v = TerritoryWebController.values(req)
        return try await lifecycle(req) { s, id, a in
            let number = v["unlink"] == "1" ? nil : (v["idNumber"] ?? "")
            if number?.trimmingCharacters(in: .whitespaces).isEmpty == true { throw DomainError.invalidField(field: "idNumber", reason: "is required") }
            _ = try await s.linkResident(id, idNumber: number, residentID: nil, actor: a, visible: try req.requirePrincipal().visible)
            return nil
        }
    }

    func grant(_ req: Request) async throws -> Response {
        let v = TerritoryWebController.values(req)
        return try await lifecycle(req) { s, id, a in
            guard let role = Role(rawValue: v["role"] ?? "") else { throw DomainError.invalidField(field: "role", reason: "is not a known role") }
            try await s.grant(id, role: role, scope: try Self.parseScope(v["scope"]), actor: a, visible: try req.requirePrincipal().visible)
            return nil
        }
    }

    func unlock(_ req: Request) async throws -> Response {
        let v = TerritoryWebController.values(req)
        return try await lifecycle(req) { s, id, a in
            try await s.unlock(id, resetSecondFactor: v["resetTotp"] == "1", actor: a)
            return nil
        }
    }

    struct TokenRow: Encodable { var id: UUID; var name: String; var scopes: String; var createdAt: Date; var expiresAt: Date?; var revoked: Bool; var lastUsedAt: Date? }
    struct AccountData: Encodable { var account: Account; var roleName: String; var tokens: [TokenRow]; var scopes: [String]; var newToken: String?; var formError: FormError? }

    func renderAccount(_ req: Request, newToken: String? = nil, formError: FormError? = nil) async throws -> Response {
        let p = try req.requirePrincipal()
        let tokens = try await req.fengqiao.sessions.tokens(userID: p.id, on: req.fengqiao.store.db).map {
            TokenRow(id: $0.id!, name: $0.name, scopes: $0.scopes, createdAt: $0.createdAt, expiresAt: $0.expiresAt, revoked: $0.revokedAt != nil, lastUsedAt: $0.lastUsedAt)
        }
        return try await Page.render(req, "account", AccountData(account: p.account, roleName: Page.roleName(p.role, req), tokens: tokens, scopes: p.role.permissions.map(\.rawValue).sorted(), newToken: newToken, formError: formError), title: Page.t(req)["account.title"]!, status: formError == nil ? .ok : .unprocessableEntity)
    }

    func account(_ req: Request) async throws -> Response { try await renderAccount(req) }

    struct TokenForm: Content { var name: String?; var days: String?; var scopes: [String]? }

    func issueToken(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let form = try req.content.decode(TokenForm.self)
        let v = ["name": form.name ?? "", "days": form.days ?? ""]
        let chosen = form.scopes ?? []
        do {
            var scopes = Set<Permission>()
            for s in chosen {
                guard let perm = Permission(rawValue: s) else { throw DomainError.invalidField(field: "scopes", reason: "\(s) is not a known scope") }
                scopes.insert(perm)
            }
            if scopes.isEmpty { throw DomainError.invalidField(field: "scopes", reason: "choose at least one") }
            let (_, secret) = try await AuthService(req.fengqiao).issueToken(user: p.account, name: v["name"] ?? "", scopes: scopes, days: try TerritoryWebController.intField(v["days"], "days"), actor: req.actor)
            return try await renderAccount(req, newToken: secret)
        } catch {
            guard let fe = FormError.from(error, form: "token", values: v) else { throw error }
            return try await renderAccount(req, formError: fe)
        }
    }

    func revokeToken(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        try await AuthService(req.fengqiao).revokeToken(id: try req.uuid("id", kind: "API token"), owner: p.id, actor: req.actor)
        return req.redirect(to: "/account")
    }

    struct AuditData: Encodable {
        var entries: [AuditEntry]
        var objectType: String
        var objectId: String
        var verdict: String?
        var intact: Bool
        var nextBefore: Int64?
        var canVerify: Bool
    }

    /// The audit query a reader may run: the audit administrator sees everyone but themselves
    /// and other audit administrators; the security administrator sees the audit administrators.
    static func auditQuery(for p: Principal, base: AuditQuery) throws -> AuditQuery {
        guard let v = AdministrationPolicy.auditVisibility(reader: p.id, readerRole: p.role) else {
            throw DomainError.forbidden(reason: "only the audit and security administrators read the audit trail")
        }
        var q = base
        q.excludeActorID = v.excludedActorID
        q.actorRoleIs = v.onlyActorRole?.rawValue
        q.actorRoleIsNot = v.exceptActorRole?.rawValue
        return q
    }

    func audit(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let objectType = String((req.query[String.self, at: "objectType"] ?? "").prefix(40))
        let objectId = String((req.query[String.self, at: "objectId"] ?? "").prefix(80))
        let before = req.query[Int64.self, at: "before"]
        let q = try Self.auditQuery(for: p, base: AuditQuery(objectType: objectType.isEmpty ? nil : objectType, objectID: objectId.isEmpty ? nil : objectId, limit: 100, beforeSeq: before))
        let entries = try await app.audit.list(q, on: app.store.db)
        var verdict: String?
        var intact = true
        if req.query[String.self, at: "verify"] == "1", p.has(.auditVerify) {
            switch try await app.audit.verify(on: app.store.db) {
            case .intact(let n): verdict = "\(Page.t(req)["audit.intact"]!): \(n)"
            case .broken(let seq, let reason): verdict = "\(Page.t(req)["audit.broken"]!): #\(seq) \(reason)"; intact = false
            }
            try await app.record(req.actor.draft(.read, objectType: "audit-chain", detail: "verified: \(verdict ?? "")"))
        }
        let data = AuditData(entries: entries, objectType: objectType, objectId: objectId, verdict: verdict, intact: intact, nextBefore: entries.count == 100 ? entries.last?.seq : nil, canVerify: p.has(.auditVerify))
        return try await Page.render(req, "audit", data, title: Page.t(req)["audit.title"]!)
    }
}
