import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// 核采 — on-site verification of collected 一标三实 records (domain spec §3.1, §8): per-grid work
/// lists of residents and addresses not verified within the configured period, and the marks a
/// grid worker sets (verified, changed with the corrected fields, moved out with the
/// deregistration). Each mark and its audit record (field names only, never values, §7.3) are
/// written in one transaction.
public struct VerificationService: Sendable {
    let app: Fengqiao
    let addresses = AddressRepository()
    let residents: ResidentRepository

    public init(_ app: Fengqiao) {
        self.app = app
        self.residents = ResidentRepository(cipher: app.cipher)
    }

    public var policy: VerificationPolicy { app.config.verificationPolicy }

    /// A resident's 核采 mark: `changes` go with `changed`, `deregistration` with `movedOut`.
    public struct ResidentInput: Codable, Sendable {
        public var outcome: VerificationOutcome?
        public var changes: ResidentChange?
        public var deregistration: Deregistration?
        public init(outcome: VerificationOutcome? = nil, changes: ResidentChange? = nil, deregistration: Deregistration? = nil) {
            self.outcome = outcome
            self.changes = changes
            self.deregistration = deregistration
        }
    }

    /// An address's 核采 mark (only `verified`: an address is corrected by retiring it and
    /// collecting the right one).
    public struct AddressInput: Codable, Sendable {
        public var outcome: VerificationOutcome?
        public init(outcome: VerificationOutcome? = nil) { self.outcome = outcome }
    }

    /// Marks a resident of the caller's territory.
    /// - Returns: the resident as now stored, its new state, and the names of the fields changed.
    /// - Throws: `DomainError.notFound("resident")` outside the territory;
    ///   `.invalidField("outcome" | "changes" | "deregistration" | a changed field …)`;
    ///   `.conflict("deregisteredAt", …)` for a resident already deregistered.
    public func markResident(_ id: UUID, _ input: ResidentInput, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> (ActualResident, VerificationState, [String]) {
        let current = try await residents.find(id, visible: visible, on: app.store.db)
        guard let outcome = input.outcome else {
            throw DomainError.invalidField(field: "outcome", reason: "is required (\(VerificationOutcome.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        var updated = current
        var changed: [String] = []
        switch outcome {
        case .verified:
            guard current.deregisteredAt == nil else {
                throw DomainError.conflict(field: "deregisteredAt", reason: "the resident was deregistered on \(current.deregisteredAt!); nothing to verify")
            }
        case .changed:
            guard let c = input.changes else { throw DomainError.invalidField(field: "changes", reason: "is required with outcome changed") }
            (updated, changed) = try c.applied(to: current)
            guard !changed.isEmpty else {
                throw DomainError.invalidField(field: "changes", reason: "no field differs from the record; mark it verified instead")
            }
        case .movedOut:
            guard let d = input.deregistration else { throw DomainError.invalidField(field: "deregistration", reason: "is required with outcome movedOut") }
            updated = try d.applied(to: current, today: PopulationService.today(now))
            changed = ["deregisteredAt", "deregistrationReason"]
        }
        let result = updated
        let fields = changed
        try await app.store.write { [app, residents] db in
            if !fields.isEmpty { try await residents.update(result, on: db, now: now) }
            try await residents.recordVerification(id, outcome: outcome, at: now, by: actor.id, byName: actor.name, on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "resident", objectID: id.uuidString.lowercased(), fields: fields + ["verification"],
                                                       detail: "核采 \(outcome.rawValue)"), on: db, at: now)
        }
        let state = try await residents.verificationStates([id], on: app.store.db)[id] ?? VerificationState(recordedAt: now)
        return (result, state, changed)
    }

    /// Marks an active address of the caller's territory verified.
    /// - Throws: `DomainError.notFound("address")`; `.invalidField("outcome", …)` for anything but
    ///   `verified`; `.conflict("status", …)` for a retired address.
    public func markAddress(_ id: UUID, _ input: AddressInput, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> (StandardAddress, VerificationState) {
        let a = try await addresses.find(id, visible: visible, on: app.store.db)
        guard let outcome = input.outcome else { throw DomainError.invalidField(field: "outcome", reason: "is required (verified)") }
        guard outcome == .verified else {
            throw DomainError.invalidField(field: "outcome", reason: "an address is only marked verified; retire a wrong address and collect the right one")
        }
        guard a.status == .active else { throw DomainError.conflict(field: "status", reason: "the address is retired") }
        try await app.store.write { [app, addresses] db in
            try await addresses.recordVerification(id, outcome: outcome, at: now, by: actor.id, byName: actor.name, on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "address", objectID: id.uuidString.lowercased(), fields: ["verification"],
                                                       detail: "核采 \(outcome.rawValue)"), on: db, at: now)
        }
        let state = try await addresses.verificationStates([id], on: app.store.db)[id] ?? VerificationState(recordedAt: now)
        return (a, state)
    }

    /// What a work list holds.
    public enum Kind: String, Codable, Sendable, CaseIterable { case residents, addresses }

    /// One grid's overdue residents or addresses, the longest-waiting first.
    public struct WorkList: Sendable {
        public var grid: Grid
        public var cutoff: Date
        public var residents: [(ActualResident, VerificationState)] = []
        public var residentsTotal = 0
        public var addresses: [(StandardAddress, VerificationState)] = []
        public var addressesTotal = 0
    }

    /// The work list of a grid of the caller's territory.
    /// - Throws: `DomainError.notFound("grid")`.
    public func workList(gridID: UUID, kinds: Set<Kind>, visible: VisibleTerritory, limit: Int, offset: Int, now: Date = Date()) async throws -> WorkList {
        let db = app.store.db
        let g = try await app.territories.grid(gridID, visible: visible, on: db)
        var w = WorkList(grid: g, cutoff: policy.cutoff(now: now))
        if kinds.contains(.residents) {
            (w.residents, w.residentsTotal) = try await residents.overdue(gridID: g.id, cutoff: w.cutoff, limit: limit, offset: offset, on: db)
        }
        if kinds.contains(.addresses) {
            (w.addresses, w.addressesTotal) = try await addresses.overdue(gridID: g.id, cutoff: w.cutoff, limit: limit, offset: offset, on: db)
        }
        return w
    }

    /// Per grid: residents by population type, hukou-separated, and overdue residents and addresses.
    /// Every grid asked for is present (zeros when empty).
    public func counts(gridIDs: [UUID], now: Date = Date()) async throws -> [UUID: GridPopulationCounts] {
        let db = app.store.db
        let cutoff = policy.cutoff(now: now)
        var out = try await residents.counts(gridIDs: gridIDs, cutoff: cutoff, on: db)
        let a = try await addresses.counts(gridIDs: gridIDs, cutoff: cutoff, on: db)
        for g in gridIDs {
            var c = out[g] ?? GridPopulationCounts(gridID: g)
            c.addresses = a[g]?.active ?? 0
            c.addressesOverdue = a[g]?.overdue ?? 0
            out[g] = c
        }
        return out
    }
}
