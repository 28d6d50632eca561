import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Reads and writes export approval records (`export_approvals`, M0027) through SQLKit. Every
/// change of status is conditional on the status read, so two approvers deciding at once, or two
/// downloads racing for one approval, leave exactly one winner.
public struct ExportApprovalRepository: Sendable {
    public init() {}

    static let columns = [
        "id", "kind", "requester_id", "requester_name", "requester_territory_id", "filter", "format", "purpose", "rows", "status",
        "requested_at", "approver_id", "approver_name", "decided_at", "note", "valid_until", "used_at",
    ]

    /// Stores a new request (call inside `Store.write`, with its audit record).
    public func insert(_ a: ExportApproval, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "export_approvals").columns(Self.columns)
            .values(Self.binds(a))
            .run()
    }

    /// One record, whoever asked (callers check who may see it).
    /// - Throws: `DomainError.notFound("export approval")`.
    public func find(_ id: UUID, on db: any Database) async throws -> ExportApproval {
        let sql = db as! any SQLDatabase
        guard let row = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("export_approvals")
            .where("id", .equal, SQLBind(id)).first()
        else { throw DomainError.notFound(kind: "export approval") }
        return try Self.decode(row)
    }

    /// The requester's records, newest first.
    public func list(requester: UUID, limit: Int, on db: any Database) async throws -> [ExportApproval] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("export_approvals")
            .where("requester_id", .equal, SQLBind(requester))
            .orderBy("requested_at", .descending).limit(max(1, min(limit, 500))).all().map(Self.decode)
    }

    /// Records with a status, oldest first (the approvers' queue; callers keep those in their territory).
    public func list(status: ExportApprovalStatus, limit: Int, on db: any Database) async throws -> [ExportApproval] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("export_approvals")
            .where("status", .equal, SQLBind(status.rawValue))
            .orderBy("requested_at").limit(max(1, min(limit, 1000))).all().map(Self.decode)
    }

    /// Writes `new` over the stored record if its status is still `expected`.
    /// - Throws: `DomainError.conflict("status")` when another decision or download came first.
    public func update(_ new: ExportApproval, expecting expected: ExportApprovalStatus, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        let changed = try await sql.update("export_approvals")
            .set("status", to: SQLBind(new.status.rawValue))
            .set("approver_id", to: SQLBind(new.approverID)).set("approver_name", to: SQLBind(new.approverName))
            .set("decided_at", to: SQLBind(new.decidedAt)).set("note", to: SQLBind(new.note))
            .set("valid_until", to: SQLBind(new.validUntil)).set("used_at", to: SQLBind(new.usedAt))
            .where("id", .equal, SQLBind(new.id)).where("status", .equal, SQLBind(expected.rawValue))
            .returning("id").all()
        guard !changed.isEmpty else {
            throw DomainError.conflict(field: "status", reason: "the export request was changed meanwhile; reload it")
        }
    }

    static func binds(_ a: ExportApproval) -> [any SQLExpression] {
        [
            SQLBind(a.id), SQLBind(a.kind), SQLBind(a.requesterID), SQLBind(a.requesterName), SQLBind(a.requesterTerritoryID), SQLBind(a.filter),
            SQLBind(a.format), SQLBind(a.purpose), SQLBind(a.rows), SQLBind(a.status.rawValue), SQLBind(a.requestedAt), SQLBind(a.approverID),
            SQLBind(a.approverName), SQLBind(a.decidedAt), SQLBind(a.note), SQLBind(a.validUntil), SQLBind(a.usedAt),
        ]
    }

    static func decode(_ r: any SQLRow) throws -> ExportApproval {
        let raw = try r.decode(column: "status", as: String.self)
        guard let status = ExportApprovalStatus(rawValue: raw) else { throw DomainError.invalidField(field: "status", reason: "unknown export approval status \(raw)") }
        return ExportApproval(
            id: try r.decode(column: "id", as: UUID.self), kind: try r.decode(column: "kind", as: String.self),
            requesterID: try r.decode(column: "requester_id", as: UUID.self), requesterName: try r.decode(column: "requester_name", as: String.self),
            requesterTerritoryID: try r.decode(column: "requester_territory_id", as: UUID?.self), filter: try r.decode(column: "filter", as: String.self),
            format: try r.decode(column: "format", as: String.self), purpose: try r.decode(column: "purpose", as: String.self),
            rows: try r.decode(column: "rows", as: Int.self), status: status, requestedAt: try r.decode(column: "requested_at", as: Date.self),
            approverID: try r.decode(column: "approver_id", as: UUID?.self), approverName: try r.decode(column: "approver_name", as: String?.self),
            decidedAt: try r.decode(column: "decided_at", as: Date?.self), note: try r.decode(column: "note", as: String?.self),
            validUntil: try r.decode(column: "valid_until", as: Date?.self), usedAt: try r.decode(column: "used_at", as: Date?.self))
    }
}
