import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// A read view of an account, without secrets.
public struct Account: Sendable, Equatable, Codable {
    public var id: UUID
    public var username: String
    public var displayName: String
    public var role: Role
    public var scope: TerritoryScope
    public var totpEnabled: Bool
    public var disabled: Bool
    public var lockedUntil: Date?
    public var mustChangePassword: Bool
    public var hasPassword: Bool
    public var lastLoginAt: Date?
    public var createdAt: Date?
    /// The holder's own actual-resident record, if linked: a mediator assigned to a dispute in
    /// which that resident is a party is refused.
    public var residentId: UUID?

    public init(id: UUID, username: String, displayName: String, role: Role, scope: TerritoryScope, totpEnabled: Bool, disabled: Bool,
                lockedUntil: Date?, mustChangePassword: Bool, hasPassword: Bool, lastLoginAt: Date?, createdAt: Date?) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.role = role
        self.scope = scope
        self.totpEnabled = totpEnabled
        self.disabled = disabled
        self.lockedUntil = lockedUntil
        self.mustChangePassword = mustChangePassword
        self.hasPassword = hasPassword
        self.lastLoginAt = lastLoginAt
        self.createdAt = createdAt
    }

    public init(_ m: UserModel) {
        id = m.id!
        username = m.username
        displayName = m.displayName
        role = m.roleValue
        scope = m.scope
        totpEnabled = m.totpEnabled
        disabled = m.disabled
        lockedUntil = m.lockedUntil
        mustChangePassword = m.mustChangePassword
        hasPassword = m.passwordHash != nil
        lastLoginAt = m.lastLoginAt
        createdAt = m.createdAt
        residentId = m.residentID
    }
}

/// Accounts and their password history.
public struct AccountRepository: Sendable {
    public init() {}

    public func find(username: String, on db: any Database) async throws -> UserModel? {
        try await UserModel.query(on: db).filter(\.$username == username.lowercased()).first()
    }

    public func find(_ id: UUID, on db: any Database) async throws -> UserModel? {
        try await UserModel.find(id, on: db)
    }

    /// Creates an account. Usernames are case-insensitive (stored lower-case).
    /// - Throws: `DomainError.conflict("username")` when taken.
    public func create(
        username: String, displayName: String, role: Role, scope: TerritoryScope, passwordHash: String?,
        mustChangePassword: Bool, on db: any Database
    ) async throws -> UserModel {
        let name = username.lowercased()
        if try await find(username: name, on: db) != nil {
            throw DomainError.conflict(field: "username", reason: "username \(name) is already taken")
        }
        let m = UserModel()
        m.id = UUID()
        m.username = name
        m.displayName = displayName
        m.passwordHash = passwordHash
        m.role = role.rawValue
        m.scopeLevel = scope.level.rawValue
        m.scopeTerritoryID = scope.territoryID
        m.totpEnabled = false
        m.failedLogins = 0
        m.disabled = false
        m.mustChangePassword = mustChangePassword
        m.passwordChangedAt = passwordHash == nil ? nil : Date()
        try await m.create(on: db)
        if let passwordHash {
            try await PasswordHistoryModel(userID: m.id!, passwordHash: passwordHash).create(on: db)
        }
        return m
    }

    /// Accounts whose scope lies inside what the caller may see, optionally filtered.
    public func list(
        visible v: VisibleTerritory, role: Role? = nil, search: String? = nil, limit: Int = 200, offset: Int = 0,
        on db: any Database
    ) async throws -> (items: [Account], total: Int) {
        var q = UserModel.query(on: db)
        if let ids = v.ownedTerritoryIDs { q = q.filter(\.$scopeTerritoryID ~~ ids) }
        if let role { q = q.filter(\.$role == role.rawValue) }
        if let s = search?.trimmingCharacters(in: .whitespaces), !s.isEmpty {
            let pattern = s.lowercased()
            q = q.group(.or) { $0.filter(\.$username ~~ pattern).filter(\.$displayName ~~ s) }
        }
        let total = try await q.count()
        let items = try await q.sort(\.$username).range(offset..<(offset + limit)).all().map(Account.init)
        return (items, total)
    }

    /// The last `n` password hashes, newest first.
    public func recentPasswordHashes(userID: UUID, limit n: Int, on db: any Database) async throws -> [String] {
        try await PasswordHistoryModel.query(on: db).filter(\.$userID == userID)
            .sort(\.$createdAt, .descending).limit(n).all().map(\.passwordHash)
    }

    /// Sets a new password hash and records it in the history.
    public func setPassword(_ user: UserModel, hash: String, mustChange: Bool, on db: any Database) async throws {
        user.passwordHash = hash
        user.passwordChangedAt = Date()
        user.mustChangePassword = mustChange
        user.failedLogins = 0
        user.lockedUntil = nil
        try await user.save(on: db)
        try await PasswordHistoryModel(userID: user.id!, passwordHash: hash).create(on: db)
    }

    /// Number of accounts holding `role` (e.g. whether a system administrator exists yet).
    public func count(role: Role, on db: any Database) async throws -> Int {
        try await UserModel.query(on: db).filter(\.$role == role.rawValue).filter(\.$disabled == false).count()
    }

}

/// Sessions, API tokens and one-time setup tokens. Secrets are stored only as SHA-256 hashes.
public struct SessionRepository: Sendable {
    public init() {}

    public func createSession(_ s: SessionModel, on db: any Database) async throws { try await s.create(on: db) }

    /// The session and its account in one query (every signed-in request asks for both).
    public func sessionWithUser(tokenHash: String, on db: any Database) async throws -> (SessionModel, UserModel)? {
        guard let s = try await SessionModel.query(on: db).filter(\.$tokenHash == tokenHash)
            .join(UserModel.self, on: \SessionModel.$userID == \UserModel.$id).first() else { return nil }
        return (s, try s.joined(UserModel.self))
    }

    /// What a bearer token grants: the token's id, permissions and validity, and its account.
    public struct BearerGrant: Sendable {
        public var tokenID: UUID
        public var permissions: Set<Permission>
        public var expiresAt: Date?
        public var revokedAt: Date?
        public var lastUsedAt: Date?
        public var account: Account
    }

    /// The API token with this hash and its account, in one query through SQLKit: it runs on
    /// every API request, and Fluent's model decoding (reflection over each property) was a tenth
    /// of a short request's CPU.
    public func bearer(hash: String, on db: any Database) async throws -> BearerGrant? {
        let sql = db as! any SQLDatabase
        guard let r = try await sql.raw("""
            SELECT t.id AS tid, t.scopes, t.expires_at, t.revoked_at, t.last_used_at, u.id AS uid, u.username, u.display_name, \
            u.role, u.scope_level, u.scope_territory_id, u.totp_enabled, u.disabled, u.locked_until, u.must_change_password, \
            u.password_hash IS NOT NULL AS has_password, u.last_login_at, u.created_at \
            FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = \(bind: hash)
            """).first() else { return nil }
        let scope = TerritoryScope(level: ScopeLevel(rawValue: try r.decode(column: "scope_level", as: String.self)) ?? .grid,
                                   territoryID: try r.decode(column: "scope_territory_id", as: UUID?.self))
        let account = Account(
            id: try r.decode(column: "uid", as: UUID.self), username: try r.decode(column: "username", as: String.self),
            displayName: try r.decode(column: "display_name", as: String.self),
            role: Role(rawValue: try r.decode(column: "role", as: String.self)) ?? .volunteer, scope: scope,
            totpEnabled: try r.decode(column: "totp_enabled", as: Bool.self), disabled: try r.decode(column: "disabled", as: Bool.self),
            lockedUntil: try r.decode(column: "locked_until", as: Date?.self), mustChangePassword: try r.decode(column: "must_change_password", as: Bool.self),
            hasPassword: try r.decode(column: "has_password", as: Bool.self), lastLoginAt: try r.decode(column: "last_login_at", as: Date?.self),
            createdAt: try r.decode(column: "created_at", as: Date?.self))
        return BearerGrant(
            tokenID: try r.decode(column: "tid", as: UUID.self),
            permissions: Set(try r.decode(column: "scopes", as: String.self).split(separator: " ").compactMap { Permission(rawValue: String($0)) }),
            expiresAt: try r.decode(column: "expires_at", as: Date?.self), revokedAt: try r.decode(column: "revoked_at", as: Date?.self),
            lastUsedAt: try r.decode(column: "last_used_at", as: Date?.self), account: account)
    }

    public func deleteSession(_ id: UUID, on db: any Database) async throws {
        try await SessionModel.query(on: db).filter(\.$id == id).delete()
    }

    /// Ends every session of a user (password reset, disable, role change).
    public func deleteSessions(userID: UUID, on db: any Database) async throws {
        try await SessionModel.query(on: db).filter(\.$userID == userID).delete()
    }

    /// Removes sessions past their absolute expiry.
    public func purgeExpired(now: Date, on db: any Database) async throws {
        try await SessionModel.query(on: db).filter(\.$expiresAt < now).delete()
    }

    public func createToken(_ t: APITokenModel, on db: any Database) async throws { try await t.create(on: db) }

    public func tokens(userID: UUID, on db: any Database) async throws -> [APITokenModel] {
        try await APITokenModel.query(on: db).filter(\.$userID == userID).sort(\.$createdAt, .descending).all()
    }

    /// Records that a token was used (callers throttle this; it costs a write).
    public func touchToken(_ id: UUID, at now: Date, on db: any Database) async throws {
        guard let t = try await APITokenModel.find(id, on: db) else { return }
        t.lastUsedAt = now
        try await t.save(on: db)
    }

    public func createSetupToken(hash: String, expiresAt: Date, on db: any Database) async throws {
        let m = SetupTokenModel()
        m.id = UUID()
        m.tokenHash = hash
        m.expiresAt = expiresAt
        try await m.create(on: db)
    }

    public func setupToken(hash: String, on db: any Database) async throws -> SetupTokenModel? {
        try await SetupTokenModel.query(on: db).filter(\.$tokenHash == hash).first()
    }
}

/// Stored responses of idempotent create requests.
public struct IdempotencyRepository: Sendable {
    public init() {}

    public func find(owner: String, key: String, on db: any Database) async throws -> IdempotencyKeyModel? {
        try await IdempotencyKeyModel.query(on: db).filter(\.$owner == owner).filter(\.$key == key).first()
    }

    public func save(_ m: IdempotencyKeyModel, on db: any Database) async throws { try await m.save(on: db) }

    /// What a request carrying an `Idempotency-Key` finds.
    public enum Claim: Sendable {
        /// First use (or a retry of an attempt that died uncommitted over 60 s ago): run it under this claim.
        case claimed(UUID)
        /// The first attempt's stored answer.
        case replay(status: Int, contentType: String?, body: String?, location: String?)
        /// The first attempt committed but its answer was not stored; the record it created.
        case appliedUnanswered(UUID, objectType: String?, objectID: String?)
        /// The first attempt is still running.
        case inFlight
        /// The key was used with another request (`hash` differs).
        case mismatch
    }

    /// Finds or creates the claim of (`owner`, `key`) for a request whose content hashes to
    /// `hash`, in one transaction (call inside `Store.write`). An unapplied claim older than 60 s
    /// belonged to an attempt that died before its transaction committed: nothing of it remains,
    /// so it is taken over.
    public func claim(owner: String, key: String, hash: String, now: Date = Date(), on db: any Database) async throws -> Claim {
        if let existing = try await find(owner: owner, key: key, on: db) {
            guard existing.requestHash == hash else { return .mismatch }
            if let status = existing.status {
                return .replay(status: status, contentType: existing.contentType, body: existing.body, location: existing.location)
            }
            if existing.appliedAt != nil { return .appliedUnanswered(existing.id!, objectType: existing.objectType, objectID: existing.objectID) }
            if existing.createdAt < now.addingTimeInterval(-60) {
                existing.createdAt = now
                try await save(existing, on: db)
                return .claimed(existing.id!)
            }
            return .inFlight
        }
        let m = IdempotencyKeyModel()
        m.id = UUID()
        m.owner = owner
        m.key = key
        m.requestHash = hash
        m.createdAt = now
        try await save(m, on: db)
        return .claimed(m.id!)
    }

    public func find(_ id: UUID, on db: any Database) async throws -> IdempotencyKeyModel? {
        try await IdempotencyKeyModel.find(id, on: db)
    }

    /// Drops a claim whose request changed nothing, so the key may be used again.
    public func releaseUnapplied(_ id: UUID, on db: any Database) async throws {
        try await IdempotencyKeyModel.query(on: db).filter(\.$id == id).filter(\.$appliedAt == nil).delete()
    }

    /// Stores the answer for replays.
    public func complete(_ id: UUID, status: Int, contentType: String?, body: String?, location: String?, on db: any Database) async throws {
        guard let m = try await IdempotencyKeyModel.find(id, on: db) else { return }
        m.status = status
        m.contentType = contentType
        m.body = body
        m.location = location
        try await m.save(on: db)
    }
}
