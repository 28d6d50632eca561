import FengqiaoCore
import FengqiaoStore
import Foundation

/// Export approvals (导出审批, domain spec §7.3): a user asks to export a list of residents with a
/// purpose; an approver holding `export:approve` (station leader, community police officer),
/// another person whose territory covers the requester's, approves or rejects; an approval allows
/// one download of that filter and format within `AppConfig.exportApprovalHours` (default 24 [P]).
/// Every request and decision is written to the audit trail in the same transaction.
public struct ExportApprovalService: Sendable {
    let app: Fengqiao
    let approvals = ExportApprovalRepository()

    public init(_ app: Fengqiao) { self.app = app }

    /// Records a request after the export's own checks (format, purpose, filter, row limit).
    /// - Returns: the pending record.
    /// - Throws: the errors of `ExportService.check`.
    public func request(_ input: ExportService.Input, principal p: Principal, actor: Actor, now: Date = Date()) async throws -> ExportApproval {
        let c = try await ExportService(app).check(input, visible: p.visible)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let a = ExportApproval(
            id: UUID.timeOrdered(), kind: "residents", requesterID: p.id, requesterName: p.account.displayName,
            requesterTerritoryID: p.account.scope.territoryID, filter: String(decoding: try encoder.encode(c.filter), as: UTF8.self),
            format: c.format.rawValue, purpose: c.purpose, rows: c.total, requestedAt: now)
        let draft = actor.draft(.create, objectType: "export-approval", objectID: a.id.uuidString.lowercased(), fields: ["filter", "format", "purpose"],
                                purpose: c.purpose, detail: "residents; format=\(c.format.rawValue); rows=\(c.total); filter: \(c.filterText)")
        try await app.store.write { [approvals, app] db in
            try await approvals.insert(a, on: db)
            try await app.audit.append(draft, on: db, at: now)
        }
        return a
    }

    /// Whether `p` may decide requests of this record's requester: their territory covers the
    /// requester's scope (a city-wide requester only by a city-wide approver).
    static func covers(_ p: Principal, _ a: ExportApproval) -> Bool {
        p.visible == .everything || p.visible.owns(territoryID: a.requesterTerritoryID)
    }

    /// One record, for its requester or an approver whose territory covers it.
    /// - Throws: `DomainError.notFound("export approval")` for anyone else.
    public func find(_ id: UUID, principal p: Principal) async throws -> ExportApproval {
        let a = try await approvals.find(id, on: app.store.db)
        guard a.requesterID == p.id || (p.has(.exportApprove) && Self.covers(p, a)) else { throw DomainError.notFound(kind: "export approval") }
        return a
    }

    /// The caller's own requests (newest first) and, for approvers, the pending requests of
    /// others in their territory (oldest first).
    public func lists(principal p: Principal, limit: Int = 100) async throws -> (mine: [ExportApproval], toDecide: [ExportApproval]) {
        let db = app.store.db
        let mine = try await approvals.list(requester: p.id, limit: limit, on: db)
        guard p.has(.exportApprove) else { return (mine, []) }
        let pending = try await approvals.list(status: .pending, limit: 1000, on: db)
        return (mine, pending.filter { $0.requesterID != p.id && Self.covers(p, $0) }.prefix(limit).map { $0 })
    }

    /// An approver's decision.
    /// - Throws: `DomainError.notFound("export approval")` outside the approver's territory;
    ///   the errors of `ExportApproval.decided` (own request, not pending, missing reason);
    ///   `.conflict("status")` when another decision came first.
    public func decide(_ id: UUID, approve: Bool, note: String?, principal p: Principal, actor: Actor, now: Date = Date()) async throws -> ExportApproval {
        let a = try await approvals.find(id, on: app.store.db)
        guard p.has(.exportApprove), Self.covers(p, a) else { throw DomainError.notFound(kind: "export approval") }
        let d = try a.decided(approve: approve, by: p.id, name: p.account.displayName, note: note, at: now,
                              validity: TimeInterval(app.config.exportApprovalHours) * 3600)
        let draft = actor.draft(.update, objectType: "export-approval", objectID: id.uuidString.lowercased(), fields: ["status"],
                                detail: approve ? "approved; valid until \(d.validUntil?.formatted(.iso8601) ?? "")" : "rejected")
        try await app.store.write { [approvals, app] db in
            try await approvals.update(d, expecting: .pending, on: db)
            try await app.audit.append(draft, on: db, at: now)
        }
        return d
    }
}
