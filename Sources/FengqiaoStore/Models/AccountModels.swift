import FengqiaoCore
import FluentKit
import Foundation

/// An account (用户账号). The TOTP secret is stored encrypted (`FieldCipher`).
public final class UserModel: Model, @unchecked Sendable {
    public static let schema = "users"
    @ID(key: .id) public var id: UUID?
    @Field(key: "username") public var username: String
    @Field(key: "display_name") public var displayName: String
    @OptionalField(key: "password_hash") public var passwordHash: String?
    @Field(key: "role") public var role: String
    @Field(key: "scope_level") public var scopeLevel: String
    @OptionalField(key: "scope_territory_id") public var scopeTerritoryID: UUID?
    @OptionalField(key: "totp_secret") public var totpSecret: String?
    @Field(key: "totp_enabled") public var totpEnabled: Bool
    @OptionalField(key: "totp_last_counter") public var totpLastCounter: Int64?
    @Field(key: "failed_logins") public var failedLogins: Int
    @OptionalField(key: "locked_until") public var lockedUntil: Date?
    @Field(key: "disabled") public var disabled: Bool
    @Field(key: "must_change_password") public var mustChangePassword: Bool
    @OptionalField(key: "password_changed_at") public var passwordChangedAt: Date?
    @OptionalField(key: "last_login_at") public var lastLoginAt: Date?
    /// The holder's own actual-resident record, if linked (M0032).
    @OptionalField(key: "resident_id") public var residentID: UUID?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?
    public init() {}

    public var roleValue: Role { Role(rawValue: role) ?? .volunteer }
    public var scope: TerritoryScope {
        TerritoryScope(level: ScopeLevel(rawValue: scopeLevel) ?? .grid, territoryID: scopeTerritoryID)
    }
}

/// Previous password hashes, for the no-reuse rule (PasswordPolicy.historyCount).
public final class PasswordHistoryModel: Model, @unchecked Sendable {
    public static let schema = "password_history"
    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "password_hash") public var passwordHash: String
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    public init() {}
    public init(userID: UUID, passwordHash: String) {
        self.userID = userID
        self.passwordHash = passwordHash
    }
}

/// A server-side web session. The cookie carries a random token; only its SHA-256 is stored.
public final class SessionModel: Model, @unchecked Sendable {
    public static let schema = "sessions"
    @ID(key: .id) public var id: UUID?
    @Field(key: "token_hash") public var tokenHash: String
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "csrf_token") public var csrfToken: String
    /// `false` until the second factor is checked (or enrolled).
    @Field(key: "second_factor_done") public var secondFactorDone: Bool
    @Field(key: "created_at") public var createdAt: Date
    @Field(key: "last_seen_at") public var lastSeenAt: Date
    @Field(key: "expires_at") public var expiresAt: Date
    @OptionalField(key: "client_ip") public var clientIP: String?
    @OptionalField(key: "user_agent") public var userAgent: String?
    public init() {}
}

/// A scoped, revocable API token. Only the SHA-256 of the secret is stored.
public final class APITokenModel: Model, @unchecked Sendable {
    public static let schema = "api_tokens"
    @ID(key: .id) public var id: UUID?
    @Field(key: "user_id") public var userID: UUID
    @Field(key: "name") public var name: String
    @Field(key: "token_hash") public var tokenHash: String
    /// Space-separated permission raw values (`territory:read account:read`).
    @Field(key: "scopes") public var scopes: String
    @Field(key: "created_at") public var createdAt: Date
    @OptionalField(key: "expires_at") public var expiresAt: Date?
    @OptionalField(key: "revoked_at") public var revokedAt: Date?
    @OptionalField(key: "last_used_at") public var lastUsedAt: Date?
    public init() {}

    public var permissions: Set<Permission> {
        Set(scopes.split(separator: " ").compactMap { Permission(rawValue: String($0)) })
    }
}

/// A one-time link that creates the first system administrator.
public final class SetupTokenModel: Model, @unchecked Sendable {
    public static let schema = "setup_tokens"
    @ID(key: .id) public var id: UUID?
    @Field(key: "token_hash") public var tokenHash: String
    @Field(key: "expires_at") public var expiresAt: Date
    @OptionalField(key: "used_at") public var usedAt: Date?
    public init() {}
}

/// A stored response for an `Idempotency-Key` (create requests replayed after a dropped
/// connection return the first result).
public final class IdempotencyKeyModel: Model, @unchecked Sendable {
    public static let schema = "idempotency_keys"
    @ID(key: .id) public var id: UUID?
    @Field(key: "owner") public var owner: String
    @Field(key: "key") public var key: String
    @Field(key: "request_hash") public var requestHash: String
    @OptionalField(key: "status") public var status: Int?
    @OptionalField(key: "content_type") public var contentType: String?
    @OptionalField(key: "body") public var body: String?
    @OptionalField(key: "location") public var location: String?
    @Field(key: "created_at") public var createdAt: Date
    /// Set inside the business transaction when the request's effect committed.
    @OptionalField(key: "applied_at") public var appliedAt: Date?
    /// The record the request created (from its audited `create`), for replay after a crash.
    @OptionalField(key: "object_type") public var objectType: String?
    @OptionalField(key: "object_id") public var objectID: String?
    public init() {}
}
