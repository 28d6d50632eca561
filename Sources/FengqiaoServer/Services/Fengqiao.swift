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
    let standalone: AuditGroupCommit
    /// Dispute statistics reports by filter, change counters and time bucket (see `ResultCache`).
    let disputeStatistics = ResultCache<DisputeStatisticsService.CacheKey, DisputeStatisticsService.Report>()

    public init(config: AppConfig, store: Store, cipher: FieldCipher, passwords: PasswordHasher) {
        self.config = config
        self.store = store
        self.cipher = cipher
        self.passwords = passwords
        let audit = self.audit
        self.standalone = AuditGroupCommit { drafts in
            _ = try await store.write { db in try await audit.append(drafts, on: db) }
        }
    }

    /// Records an audit entry that has no other write to share a transaction with (reads, failed
    /// logins, denials), and returns once it is committed.
    public func record(_ draft: AuditDraft) async throws {
        try await standalone.submit([draft])
    }

    /// Records several such entries, in order, committed together.
    public func record(_ drafts: [AuditDraft]) async throws {
        try await standalone.submit(drafts)
    }
}

/// Group commit for standalone audit records: records submitted while a transaction is being
/// written wait and go together into the next one, so many concurrent reads (each of which must
/// be audited before it is answered, domain spec §7.3) cost a few transactions instead of one
/// each, and the chain head is read and locked once per group. Nothing is delayed on purpose:
/// a lone record is written at once. Every caller returns only after its records are committed,
/// or with the error of the transaction that carried them.
actor AuditGroupCommit {
    private var pending: [(drafts: [AuditDraft], done: CheckedContinuation<Void, any Error>)] = []
    private var writing = false
    private let write: @Sendable ([AuditDraft]) async throws -> Void

    init(write: @escaping @Sendable ([AuditDraft]) async throws -> Void) { self.write = write }

    func submit(_ drafts: [AuditDraft]) async throws {
        guard !drafts.isEmpty else { return }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            pending.append((drafts, done))
            if !writing {
                writing = true
                // Not the first caller's task-locals (its idempotency claim) for everyone's records.
                Task { await IdempotencyScope.$claimID.withValue(nil) { await self.drain() } }
            }
        }
    }

    private func drain() async {
        while !pending.isEmpty {
            let group = pending
            pending = []
            do {
                try await write(group.flatMap(\.drafts))
                for g in group { g.done.resume() }
            } catch {
                for g in group { g.done.resume(throwing: error) }
            }
        }
        writing = false
    }
}
