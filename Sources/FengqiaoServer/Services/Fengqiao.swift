import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import Logging

/// The application's services, built once in `configure` and shared by the web UI, the API
/// and the command line, so all three apply the same rules.
public struct Fengqiao: Sendable {
    public let config: AppConfig
    public let store: Store
    public let cipher: FieldCipher
    public let audit = AuditRepository()
    public let territories = TerritoryRepository()
    public let accounts = AccountRepository()
    public let sessions = SessionRepository()
    public let idempotency = IdempotencyRepository()
    public let passwords: PasswordHasher

    public init(config: AppConfig, store: Store, cipher: FieldCipher, passwords: PasswordHasher) {
        self.config = config
        self.store = store
        self.cipher = cipher
        self.passwords = passwords
    }

    /// Records an audit entry in its own transaction (for events with no other write, such as
    /// reads, failed logins and denials).
    public func record(_ draft: AuditDraft) async throws {
        let audit = self.audit
        _ = try await store.write { db in try await audit.append(draft, on: db) }
    }
}
