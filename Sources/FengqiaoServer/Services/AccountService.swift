import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Account administration under the separation of powers (`AdministrationPolicy`).
public struct AccountService: Sendable {
    let app: Fengqiao

    public init(_ app: Fengqiao) { self.app = app }

    /// Usernames: 3–32 characters of `a–z 0–9 . _ -`, case-insensitive.
    public static func validUsername(_ raw: String) throws(DomainError) -> String {
        let s = raw.trimmingCharacters(in: .whitespaces).lowercased()
        guard (3...32).contains(s.count) else { throw .invalidField(field: "username", reason: "must have 3–32 characters") }
        guard s.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw .invalidField(field: "username", reason: "may contain only a–z, 0–9, '.', '_' and '-'")
        }
        return s
    }

    /// A random temporary password that satisfies any policy up to 4 classes and 16 characters.
    public static func temporaryPassword() -> String {
        let upper = Array("ABCDEFGHJKLMNPQRSTUVWXYZ"), lower = Array("abcdefghijkmnopqrstuvwxyz")
        let digit = Array("23456789"), symbol = Array("#%+=?@")
        var rng = SystemRandomNumberGenerator()
        var chars: [Character] = [upper.randomElement(using: &rng)!, lower.randomElement(using: &rng)!, digit.randomElement(using: &rng)!, symbol.randomElement(using: &rng)!]
        let all = upper + lower + digit
        while chars.count < 16 { chars.append(all.randomElement(using: &rng)!) }
        return String(chars.shuffled(using: &rng))
    }

    /// Input for a new account.
    public struct NewAccount: Sendable {
        public var username: String
        public var displayName: String
        public var role: Role
        public var scope: TerritoryScope
        /// `nil`: a temporary password is generated and must be changed at first sign-in.
        public var password: String?
        public init(username: String, displayName: String, role: Role, scope: TerritoryScope, password: String?) {
            self.username = username
            self.displayName = displayName
            self.role = role
            self.scope = scope
            self.password = password
        }
    }

    /// Checks that a scope names an existing territory of its level.
    func checkScope(_ scope: TerritoryScope, on db: any Database) async throws {
        _ = try scope.validated()
        guard let id = scope.territoryID else { return }
        let exists: Bool
        switch scope.level {
        case .city: exists = true
        case .station: exists = try await PoliceStationModel.find(id, on: db) != nil
        case .community: exists = try await CommunityModel.find(id, on: db) != nil
        case .grid: exists = try await GridModel.find(id, on: db) != nil
        }
        guard exists else { throw DomainError.invalidField(field: "scopeId", reason: "no \(scope.level.rawValue) with this id") }
    }

    /// Creates an account.
    /// - Parameter actorRole: `nil` for the server's command line, which may create any role.
    /// - Returns: the account and, when none was given, the temporary password (shown once).
    public func create(_ n: NewAccount, actor: Actor, visible: VisibleTerritory = .everything) async throws -> (Account, String?) {
        if let r = actor.role { try AdministrationPolicy.checkCreate(actor: r, role: n.role) }
        let username = try Self.validUsername(n.username)
        let display = try FieldRules.name(n.displayName, field: "displayName", max: 50)
        try await checkScope(n.scope, on: app.store.db)
        guard visible == .everything || (n.scope.level <= visible.level && visible.owns(territoryID: n.scope.territoryID)) else {
            throw DomainError.invalidField(field: "scope", reason: "lies outside your own territory")
        }
        var temp: String?
        let password: String
        if let p = n.password {
            let v = app.config.passwordPolicy.violations(of: p, username: username)
            if !v.isEmpty { throw DomainError.passwordPolicy(v) }
            password = p
        } else {
            temp = Self.temporaryPassword()
            password = temp!
        }
        let hash = try await app.passwords.hash(password)
        let account = try await app.store.write { [app] db in
            let u = try await app.accounts.create(
                username: username, displayName: display, role: n.role, scope: n.scope, passwordHash: hash,
                mustChangePassword: n.password == nil, on: db)
            _ = try await app.audit.append(actor.draft(.create, objectType: "user", objectID: u.id!.uuidString.lowercased(), fields: ["username", "displayName", "role", "scope"], detail: "role \(n.role.rawValue), scope \(n.scope)"), on: db)
            return Account(u)
        }
        return (account, temp)
    }

    /// Loads an account the caller may manage (404 outside the caller's territory).
    public func get(_ id: UUID, visible: VisibleTerritory) async throws -> Account {
        guard let u = try await app.accounts.find(id, on: app.store.db) else { throw DomainError.notFound(kind: "user") }
        guard visible.owns(territoryID: u.scopeTerritoryID) else { throw DomainError.notFound(kind: "user") }
        return Account(u)
    }

    /// Disables or re-enables an account; disabling ends its sessions.
    public func setDisabled(_ id: UUID, disabled: Bool, actor: Actor) async throws {
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(id, on: db) else { throw DomainError.notFound(kind: "user") }
            try AdministrationPolicy.checkLifecycle(actorID: actor.id ?? UUID(), actor: actor.role ?? .securityAdmin, targetID: id, targetRole: u.roleValue)
            u.disabled = disabled
            try await u.save(on: db)
            if disabled { try await app.sessions.deleteSessions(userID: id, on: db) }
            _ = try await app.audit.append(actor.draft(.update, objectType: "user", objectID: id.uuidString.lowercased(), fields: ["disabled"], detail: disabled ? "account disabled" : "account enabled"), on: db)
        }
    }

    /// Sets a temporary password that must be changed at next sign-in; ends the account's sessions.
    /// - Returns: the temporary password (shown once, never stored in clear).
    public func resetPassword(_ id: UUID, actor: Actor) async throws -> String {
        guard let target = try await app.accounts.find(id, on: app.store.db) else { throw DomainError.notFound(kind: "user") }
        try AdministrationPolicy.checkLifecycle(actorID: actor.id ?? UUID(), actor: actor.role ?? .securityAdmin, targetID: id, targetRole: target.roleValue)
        let temp = Self.temporaryPassword()
        let hash = try await app.passwords.hash(temp)
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(id, on: db) else { throw DomainError.notFound(kind: "user") }
            try await app.accounts.setPassword(u, hash: hash, mustChange: true, on: db)
            try await app.sessions.deleteSessions(userID: id, on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "user", objectID: id.uuidString.lowercased(), fields: ["password"], detail: "temporary password set"), on: db)
        }
        return temp
    }

    /// Changes role and scope (security administrator only, never on oneself). The target must
    /// lie inside the granter's territory, and so must the new scope, at the granter's level or
    /// narrower: nobody grants more territory than they hold.
    public func grant(_ id: UUID, role: Role, scope: TerritoryScope, actor: Actor, visible: VisibleTerritory) async throws {
        if let r = actor.role { try AdministrationPolicy.checkGrant(actorID: actor.id ?? UUID(), actor: r, targetID: id) }
        _ = try await get(id, visible: visible)
        try await checkScope(scope, on: app.store.db)
        guard visible == .everything || (scope.level <= visible.level && visible.owns(territoryID: scope.territoryID)) else {
            throw DomainError.invalidField(field: "scope", reason: "lies outside your own territory")
        }
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(id, on: db) else { throw DomainError.notFound(kind: "user") }
            let before = "\(u.role) \(u.scope)"
            u.role = role.rawValue
            u.scopeLevel = scope.level.rawValue
            u.scopeTerritoryID = scope.territoryID
            try await u.save(on: db)
            try await app.sessions.deleteSessions(userID: id, on: db)
            _ = try await app.audit.append(actor.draft(.permissionChange, objectType: "user", objectID: id.uuidString.lowercased(), fields: ["role", "scope"], detail: "\(before) → \(role.rawValue) \(scope)"), on: db)
        }
    }

    /// Clears a lockout, or removes the second factor so the user enrols again.
    public func unlock(_ id: UUID, resetSecondFactor: Bool, actor: Actor) async throws {
        if let r = actor.role, r != .securityAdmin { throw DomainError.forbidden(reason: "only the security administrator unlocks accounts and resets second factors") }
        guard actor.id != id else { throw DomainError.forbidden(reason: "nobody may unlock their own account") }
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(id, on: db) else { throw DomainError.notFound(kind: "user") }
            u.lockedUntil = nil
            u.failedLogins = 0
            if resetSecondFactor {
                u.totpEnabled = false
                u.totpSecret = nil
                u.totpLastCounter = nil
                try await app.sessions.deleteSessions(userID: id, on: db)
            }
            try await u.save(on: db)
            _ = try await app.audit.append(actor.draft(.permissionChange, objectType: "user", objectID: id.uuidString.lowercased(), fields: resetSecondFactor ? ["lockedUntil", "totp"] : ["lockedUntil"], detail: resetSecondFactor ? "unlocked, second factor reset" : "unlocked"), on: db)
        }
    }
}
