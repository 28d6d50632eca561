import Crypto
import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Signing in and out, second factor, sessions and API tokens (GB/T 22239-2019 8.1.4.1; domain
/// spec §7.2).
public struct AuthService: Sendable {
    let app: Fengqiao

    public init(_ app: Fengqiao) { self.app = app }

    /// What a correct password leads to.
    public enum NextStep: String, Sendable {
        case done
        case secondFactor = "second-factor"
        case enrolSecondFactor = "enrol-second-factor"
        case changePassword = "change-password"
    }

    public enum LoginResult: Sendable {
        case signedIn(token: String, session: SessionModel, next: NextStep)
        /// Wrong username or password, disabled or locked: one answer for all, so the
        /// response never tells whether an account exists.
        case refused
    }

    static func randomToken(bytes: Int = 32) -> String {
        var rng = SystemRandomNumberGenerator()
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func sha256(_ s: String) -> String {
        Hex.lowercase(SHA256.hash(data: Data(s.utf8)))
    }

    /// Checks a username and password. Locks the account after `lockoutPolicy.maxFailures`
    /// consecutive failures; every attempt is audited.
    public func login(username: String, password: String, actor: Actor, now: Date = Date()) async throws -> LoginResult {
        let name = username.trimmingCharacters(in: .whitespaces).lowercased()
        let user = try await app.accounts.find(username: name, on: app.store.db)
        guard let user, let hash = user.passwordHash else {
            await app.passwords.dummyVerify(password)
            try await app.record(actor.draft(.loginFail, objectType: "user", objectID: nil, result: .denied, detail: "unknown username or no password"))
            return .refused
        }
        let ok = try await app.passwords.verify(password, hash: hash)
        let locked = (user.lockedUntil ?? .distantPast) > now
        if !ok || locked || user.disabled {
            let policy = app.config.lockoutPolicy
            let uid = user.id!
            let reason = user.disabled ? "account disabled" : locked ? "account locked" : "wrong password"
            var a = actor
            a.id = uid
            a.name = user.username
            a.role = user.roleValue
            let audited = a
            try await app.store.write { [app] db in
                guard let u = try await UserModel.find(uid, on: db) else { return }
                if !ok && !locked {
                    u.failedLogins += 1
                    if u.failedLogins >= policy.maxFailures {
                        u.lockedUntil = now.addingTimeInterval(policy.lockSeconds)
                        u.failedLogins = 0
                        try await u.save(on: db)
                        _ = try await app.audit.append(audited.draft(.loginFail, objectType: "user", objectID: uid.uuidString.lowercased(), result: .denied, detail: reason), on: db)
                        _ = try await app.audit.append(audited.draft(.lockout, objectType: "user", objectID: uid.uuidString.lowercased(), detail: "locked for \(Int(policy.lockSeconds / 60)) min after \(policy.maxFailures) failures"), on: db)
                        return
                    }
                    try await u.save(on: db)
                }
                _ = try await app.audit.append(audited.draft(.loginFail, objectType: "user", objectID: uid.uuidString.lowercased(), result: .denied, detail: reason), on: db)
            }
            return .refused
        }
        let role = user.roleValue
        let next: NextStep =
            app.config.totpRoles.contains(role) || user.totpEnabled
            ? (user.totpEnabled ? .secondFactor : .enrolSecondFactor)
            : (user.mustChangePassword ? .changePassword : .done)
        let token = Self.randomToken()
        let s = SessionModel()
        s.id = UUID()
        s.tokenHash = Self.sha256(token)
        s.userID = user.id!
        s.csrfToken = Self.randomToken(bytes: 24)
        s.secondFactorDone = next == .done || next == .changePassword
        s.createdAt = now
        s.lastSeenAt = now
        s.expiresAt = now.addingTimeInterval(app.config.sessionPolicy.absoluteSeconds)
        s.clientIP = actor.clientIP
        s.userAgent = actor.userAgent.map { String($0.prefix(200)) }
        var a = actor
        a.id = user.id
        a.name = user.username
        a.role = role
        a.scope = user.scope
        let audited = a
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(user.id!, on: db) else { return }
            u.failedLogins = 0
            u.lockedUntil = nil
            u.lastLoginAt = now
            try await u.save(on: db)
            try await app.sessions.purgeExpired(now: now, on: db)
            try await app.sessions.createSession(s, on: db)
            _ = try await app.audit.append(audited.draft(.login, objectType: "user", objectID: u.id!.uuidString.lowercased(), detail: next == .done ? "password" : "password; next: \(next.rawValue)"), on: db)
        }
        return .signedIn(token: token, session: s, next: next)
    }

    /// Finds the live session for a cookie token, applying the idle and absolute timeouts.
    /// Refreshes `last_seen_at` at most once a minute so reads do not each cost a disk sync.
    public func session(token: String, now: Date = Date()) async throws -> (SessionModel, UserModel)? {
        guard let (s, u) = try await app.sessions.sessionWithUser(tokenHash: Self.sha256(token), on: app.store.db), !u.disabled else { return nil }
        let idle = app.config.sessionPolicy.idleTimeout(for: u.roleValue)
        if s.expiresAt <= now || s.lastSeenAt.addingTimeInterval(idle) <= now {
            let sid = s.id!
            try await app.store.write { [app] db in try await app.sessions.deleteSession(sid, on: db) }
            return nil
        }
        if now.timeIntervalSince(s.lastSeenAt) > 60 {
            let sid = s.id!
            try await app.store.write { db in
                guard let live = try await SessionModel.find(sid, on: db) else { return }
                live.lastSeenAt = now
                try await live.save(on: db)
            }
            s.lastSeenAt = now
        }
        return (s, u)
    }

    /// Ends a session.
    public func logout(sessionID: UUID, actor: Actor) async throws {
        try await app.store.write { [app] db in
            try await app.sessions.deleteSession(sessionID, on: db)
            _ = try await app.audit.append(actor.draft(.logout, objectType: "user", objectID: actor.id?.uuidString.lowercased()), on: db)
        }
    }

    /// Checks a TOTP code for a session waiting for its second factor.
    public func verifySecondFactor(sessionID: UUID, userID: UUID, code: String, actor: Actor, now: Date = Date()) async throws -> Bool {
        guard let u = try await app.accounts.find(userID, on: app.store.db), u.totpEnabled, let bytes = try totpSecret(of: u) else { return false }
        let totp = TOTP(secret: bytes)
        let matched = totp.verify(code, at: now, notAfterCounter: u.totpLastCounter.map { UInt64($0) })
        let policy = app.config.lockoutPolicy
        return try await app.store.write { [app] db in
            guard let live = try await UserModel.find(userID, on: db), let s = try await SessionModel.find(sessionID, on: db) else { return false }
            guard let matched else {
                live.failedLogins += 1
                if live.failedLogins >= policy.maxFailures {
                    live.lockedUntil = now.addingTimeInterval(policy.lockSeconds)
                    live.failedLogins = 0
                    try await app.sessions.deleteSessions(userID: userID, on: db)
                }
                try await live.save(on: db)
                _ = try await app.audit.append(actor.draft(.loginFail, objectType: "user", objectID: userID.uuidString.lowercased(), result: .denied, detail: "wrong second-factor code"), on: db)
                return false
            }
            live.totpLastCounter = Int64(matched)
            live.failedLogins = 0
            try await live.save(on: db)
            s.secondFactorDone = true
            try await s.save(on: db)
            _ = try await app.audit.append(actor.draft(.login, objectType: "user", objectID: userID.uuidString.lowercased(), detail: "second factor"), on: db)
            return true
        }
    }

    /// Starts (or restarts) TOTP enrolment: stores a new encrypted secret, not yet enabled.
    /// - Returns: the base32 secret and the `otpauth://` URI.
    public func beginEnrolment(userID: UUID) async throws -> (secret: String, uri: String) {
        let secret = Base32.encode(TOTP.generateSecret())
        let sealed = app.cipher.seal(secret)
        let username = try await app.store.write { db -> String in
            guard let u = try await UserModel.find(userID, on: db) else { throw DomainError.notFound(kind: "user") }
            if u.totpEnabled { throw DomainError.conflict(field: "totp", reason: "a second factor is already enrolled") }
            u.totpSecret = sealed
            try await u.save(on: db)
            return u.username
        }
        return (secret, TOTP(secret: Base32.decode(secret)!).provisioningURI(account: username, issuer: "Fengqiao"))
    }

    /// The pending (not yet confirmed) enrolment secret, for redisplay.
    public func pendingEnrolment(userID: UUID) async throws -> (secret: String, uri: String)? {
        guard let u = try await app.accounts.find(userID, on: app.store.db), !u.totpEnabled, let bytes = try totpSecret(of: u) else { return nil }
        return (Base32.encode(bytes), TOTP(secret: bytes).provisioningURI(account: u.username, issuer: "Fengqiao"))
    }

    /// The account's TOTP secret, decrypted. A value the key ring cannot open is a
    /// configuration fault (wrong or missing key file), not a wrong code: it is thrown, so the
    /// request fails as a logged server error instead of looking like a refused code.
    func totpSecret(of u: UserModel) throws -> [UInt8]? {
        guard let sealed = u.totpSecret else { return nil }
        let secret = try app.cipher.open(sealed)
        guard let bytes = Base32.decode(secret) else { throw FieldCipher.Failure.malformed }
        return bytes
    }

    /// Confirms enrolment with a first code; the session then counts as fully signed in.
    public func confirmEnrolment(userID: UUID, sessionID: UUID?, code: String, actor: Actor, now: Date = Date()) async throws -> Bool {
        guard let pending = try await pendingEnrolment(userID: userID), let bytes = Base32.decode(pending.secret),
              let matched = TOTP(secret: bytes).verify(code, at: now) else {
            try await app.record(actor.draft(.update, objectType: "user", objectID: userID.uuidString.lowercased(), fields: ["totp"], result: .denied, detail: "wrong enrolment code"))
            return false
        }
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(userID, on: db) else { return }
            u.totpEnabled = true
            u.totpLastCounter = Int64(matched)
            try await u.save(on: db)
            if let sessionID, let s = try await SessionModel.find(sessionID, on: db) {
                s.secondFactorDone = true
                try await s.save(on: db)
            }
            _ = try await app.audit.append(actor.draft(.update, objectType: "user", objectID: userID.uuidString.lowercased(), fields: ["totp"], detail: "second factor enrolled"), on: db)
        }
        return true
    }

    /// Validates a new password against the policy and the history.
    /// - Throws: `DomainError.passwordPolicy` listing every violation.
    public func checkNewPassword(_ password: String, for user: UserModel) async throws {
        var v = app.config.passwordPolicy.violations(of: password, username: user.username)
        if v.isEmpty, app.config.passwordPolicy.historyCount > 0 {
            let recent = try await app.accounts.recentPasswordHashes(userID: user.id!, limit: app.config.passwordPolicy.historyCount, on: app.store.db)
            for h in recent where try await app.passwords.verify(password, hash: h) {
                v.append(.reused(history: app.config.passwordPolicy.historyCount))
                break
            }
        }
        if !v.isEmpty { throw DomainError.passwordPolicy(v) }
    }

    /// Changes one's own password after checking the current one. Ends every other session.
    public func changePassword(userID: UUID, current: String, new: String, keepSession: UUID?, actor: Actor) async throws {
        guard let user = try await app.accounts.find(userID, on: app.store.db), let hash = user.passwordHash else {
            throw DomainError.notFound(kind: "user")
        }
        guard try await app.passwords.verify(current, hash: hash) else {
            throw DomainError.invalidField(field: "currentPassword", reason: "is not your current password")
        }
        try await checkNewPassword(new, for: user)
        let newHash = try await app.passwords.hash(new)
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(userID, on: db) else { return }
            try await app.accounts.setPassword(u, hash: newHash, mustChange: false, on: db)
            try await SessionModel.query(on: db).filter(\.$userID == userID).filter(\.$id != keepSession ?? UUID()).delete()
            _ = try await app.audit.append(actor.draft(.update, objectType: "user", objectID: userID.uuidString.lowercased(), fields: ["password"], detail: "own password changed"), on: db)
        }
    }

    // MARK: API tokens

    /// Issues a scoped API token. Scopes are limited to what the account's role carries.
    /// - Returns: the token secret, shown once (`fq_…`).
    public func issueToken(user: Account, name: String, scopes: Set<Permission>, days: Int?, actor: Actor, now: Date = Date()) async throws -> (APITokenModel, String) {
        let n = try FieldRules.name(name, field: "name", max: 80)
        let allowed = user.role.permissions
        if let bad = scopes.first(where: { !allowed.contains($0) }) {
            throw DomainError.invalidField(field: "scopes", reason: "\(bad.rawValue) is not a right of role \(user.role.rawValue)")
        }
        if let days, !(1...366).contains(days) { throw DomainError.invalidField(field: "expiresInDays", reason: "must be 1–366") }
        let secret = "fq_" + Self.randomToken()
        let t = APITokenModel()
        t.id = UUID()
        t.userID = user.id
        t.name = n
        t.tokenHash = Self.sha256(secret)
        t.scopes = scopes.map(\.rawValue).sorted().joined(separator: " ")
        t.createdAt = now
        t.expiresAt = days.map { now.addingTimeInterval(Double($0) * 86400) }
        try await app.store.write { [app] db in
            try await app.sessions.createToken(t, on: db)
            _ = try await app.audit.append(actor.draft(.tokenIssue, objectType: "api-token", objectID: t.id!.uuidString.lowercased(), detail: "scopes: \(t.scopes)"), on: db)
        }
        return (t, secret)
    }

    /// Finds the account behind a bearer token, if valid, unexpired and unrevoked.
    public func token(secret: String, now: Date = Date()) async throws -> SessionRepository.BearerGrant? {
        guard secret.hasPrefix("fq_"), let g = try await app.sessions.bearer(hash: Self.sha256(secret), on: app.store.db),
              g.revokedAt == nil, (g.expiresAt ?? .distantFuture) > now, !g.account.disabled else { return nil }
        return g
    }

    /// Revokes one of the caller's tokens.
    public func revokeToken(id: UUID, owner: UUID, actor: Actor) async throws {
        try await app.store.write { [app] db in
            guard let t = try await APITokenModel.find(id, on: db), t.userID == owner else { throw DomainError.notFound(kind: "API token") }
            t.revokedAt = Date()
            try await t.save(on: db)
            _ = try await app.audit.append(actor.draft(.tokenRevoke, objectType: "api-token", objectID: id.uuidString.lowercased()), on: db)
        }
    }

    // MARK: First setup

    /// When no active system administrator exists, creates a one-time setup token (valid 24 h).
    /// - Returns: the token to put in the setup link, or `nil` when setup is done.
    public func setupTokenIfNeeded(now: Date = Date()) async throws -> String? {
        guard try await app.accounts.count(role: .sysadmin, on: app.store.db) == 0 else { return nil }
        let token = Self.randomToken()
        try await app.store.write { [app] db in
            try await app.sessions.createSetupToken(hash: Self.sha256(token), expiresAt: now.addingTimeInterval(86400), on: db)
        }
        return token
    }

    /// Whether a setup token is valid now.
    public func setupTokenValid(_ token: String, now: Date = Date()) async throws -> Bool {
        guard let t = try await app.sessions.setupToken(hash: Self.sha256(token), on: app.store.db) else { return false }
        guard t.usedAt == nil, t.expiresAt > now else { return false }
        return try await app.accounts.count(role: .sysadmin, on: app.store.db) == 0
    }

    /// Creates the first system administrator with a setup token (used once).
    public func completeSetup(token: String, username: String, displayName: String, password: String, actor: Actor, now: Date = Date()) async throws -> Account {
        guard try await setupTokenValid(token, now: now) else { throw DomainError.notFound(kind: "setup link") }
        let uname = try AccountService.validUsername(username)
        let dname = try FieldRules.name(displayName, field: "displayName", max: 50)
        let v = app.config.passwordPolicy.violations(of: password, username: uname)
        if !v.isEmpty { throw DomainError.passwordPolicy(v) }
        let hash = try await app.passwords.hash(password)
        let tokenHash = Self.sha256(token)
        return try await app.store.write { [app] db in
            guard let t = try await SetupTokenModel.query(on: db).filter(\.$tokenHash == tokenHash).first(), t.usedAt == nil else {
                throw DomainError.notFound(kind: "setup link")
            }
            t.usedAt = now
            try await t.save(on: db)
            let u = try await app.accounts.create(username: uname, displayName: dname, role: .sysadmin, scope: .city, passwordHash: hash, mustChangePassword: false, on: db)
            var a = actor
            a.name = "setup-link"
            _ = try await app.audit.append(a.draft(.create, objectType: "user", objectID: u.id!.uuidString.lowercased(), fields: ["username", "role"], detail: "first system administrator created with the setup link"), on: db)
            return Account(u)
        }
    }
}
