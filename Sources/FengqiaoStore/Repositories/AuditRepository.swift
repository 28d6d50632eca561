import FengqiaoCore
import FluentKit
import FluentSQLiteDriver
import Foundation
import SQLKit

/// What a caller knows about an audited action; the repository adds sequence, time and hashes.
public struct AuditDraft: Sendable {
    public var actorID: UUID?
    public var actorName: String?
    public var actorRole: String?
    public var actorScope: String?
    public var action: AuditAction
    public var objectType: String?
    public var objectID: String?
    public var fields: [String]
    public var purpose: String?
    public var legalBasis: String?
    public var result: AuditResult
    public var clientIP: String?
    public var userAgent: String?
    public var requestID: String?
    public var detail: String?
    /// Further records of `objectType` the entry names (M0033: a page of search results), each
    /// written to `audit_subjects` under the entry's `seq`; the caller puts a digest of them in
    /// `detail` so the chained hash covers them.
    public var subjects: [String] = []

    public init(
        actorID: UUID? = nil, actorName: String? = nil, actorRole: String? = nil, actorScope: String? = nil,
        action: AuditAction, objectType: String? = nil, objectID: String? = nil, fields: [String] = [],
        purpose: String? = nil, legalBasis: String? = nil, result: AuditResult = .success,
        clientIP: String? = nil, userAgent: String? = nil, requestID: String? = nil, detail: String? = nil
    ) {
        self.actorID = actorID
        self.actorName = actorName
        self.actorRole = actorRole
        self.actorScope = actorScope
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.fields = fields
        self.purpose = purpose
        self.legalBasis = legalBasis
        self.result = result
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.requestID = requestID
        self.detail = detail
    }
}

/// Filters for listing audit rows.
public struct AuditQuery: Sendable {
    public var objectType: String?
    public var objectID: String?
    public var actorID: UUID?
    public var action: AuditAction?
    public var from: Date?
    public var to: Date?
    public var limit: Int
    /// Only rows with `seq` below this (keyset paging, newest first).
    public var beforeSeq: Int64?
    /// Separation of powers: rows by this actor are hidden (nobody audits themselves).
    public var excludeActorID: UUID?
    /// Only rows whose actor role is this.
    public var actorRoleIs: String?
    /// Rows whose actor role is not this (rows without a role are kept).
    public var actorRoleIsNot: String?

    public init(objectType: String? = nil, objectID: String? = nil, actorID: UUID? = nil, action: AuditAction? = nil,
                from: Date? = nil, to: Date? = nil, limit: Int = 100, beforeSeq: Int64? = nil) {
        self.objectType = objectType
        self.objectID = objectID
        self.actorID = actorID
        self.action = action
        self.from = from
        self.to = to
        self.limit = limit
        self.beforeSeq = beforeSeq
    }
}

/// Appends to, reads and verifies the hash-chained audit trail (domain spec §7.3).
///
/// `append` must run inside `Store.write`: on SQLite the write transaction already holds the
/// database's single write lock; on PostgreSQL a transaction-scoped advisory lock serialises
/// appends across every application server, so the chain never forks.
public struct AuditRepository: Sendable {
    static let advisoryLockKey: Int64 = 0x6671_6175_6469_74 // "fqaudit"
    static let insertColumns = [
        "seq", "at", "actor_id", "actor_name", "actor_role", "actor_scope", "action", "object_type",
        "object_id", "fields", "purpose", "legal_basis", "result", "client_ip", "user_agent",
        "request_id", "detail", "prev_hash", "hash",
    ]

    public init() {}

    /// Appends one record and returns it sealed.
    public func append(_ d: AuditDraft, on db: any Database, at now: Date = Date()) async throws -> AuditEntry {
        try await append([d], on: db, at: now)[0]
    }

    /// Appends records in order, chained one after the other, with multi-row `INSERT`s of at most
    /// 500 rows; one lock and one read of the chain head for the whole list (bulk import).
    /// - Returns: the sealed entries, in order.
    @discardableResult
    public func append(_ drafts: [AuditDraft], on db: any Database, at now: Date = Date()) async throws -> [AuditEntry] {
        let sql = db as! any SQLDatabase
        guard !drafts.isEmpty else { return [] }
        if sql.dialect.name == "postgresql" {
            try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: Self.advisoryLockKey))").run()
        }
        let last = try await sql.raw("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").first()
        var prevSeq = try last?.decode(column: "seq", as: Int64.self) ?? 0
        var prevHash = try last?.decode(column: "hash", as: String.self) ?? AuditEntry.genesisHash
        var entries: [AuditEntry] = []
        entries.reserveCapacity(drafts.count)
        for d in drafts {
            let entry = AuditEntry(
                seq: prevSeq + 1, at: now, actorID: d.actorID, actorName: d.actorName, actorRole: d.actorRole,
                actorScope: d.actorScope, action: d.action, objectType: d.objectType, objectID: d.objectID,
                fields: d.fields, purpose: d.purpose, legalBasis: d.legalBasis, result: d.result,
                clientIP: d.clientIP, userAgent: d.userAgent, requestID: d.requestID, detail: d.detail,
                prevHash: prevHash
            ).sealed()
            entries.append(entry)
            prevSeq = entry.seq
            prevHash = entry.hash
        }
        let encoder = JSONEncoder()
        let rows: [[BulkValue]] = try entries.map { e in
            [
                .int(Int(e.seq)), .date(e.at), .uuid(e.actorID), .text(e.actorName), .text(e.actorRole), .text(e.actorScope),
                .text(e.action.rawValue), .text(e.objectType), .text(e.objectID), .text(String(decoding: try encoder.encode(e.fields), as: UTF8.self)),
                .text(e.purpose), .text(e.legalBasis), .text(e.result.rawValue), .text(e.clientIP), .text(e.userAgent),
                .text(e.requestID), .text(e.detail), .text(e.prevHash), .text(e.hash),
            ]
        }
        // No COPY: its timestamps keep milliseconds, and the chain hashes `at` as written.
        try await BulkInsert.insert(into: "audit_log", columns: Self.insertColumns, rows: rows, copy: false, on: db)
        var subjects: [[BulkValue]] = []
        for (d, e) in zip(drafts, entries) where !d.subjects.isEmpty {
            for id in d.subjects { subjects.append([.int(Int(e.seq)), .text(d.objectType ?? ""), .text(id)]) }
        }
        if !subjects.isEmpty {
            try await BulkInsert.insert(into: "audit_subjects", columns: ["seq", "object_type", "object_id"], rows: subjects, copy: false, on: db)
        }
        if let claim = IdempotencyScope.claimID, let entry = entries.first(where: { $0.action == .create }), let type = entry.objectType, let id = entry.objectID {
            try await sql.update("idempotency_keys")
                .set("object_type", to: SQLBind(type)).set("object_id", to: SQLBind(id))
                .where("id", .equal, claim).where("object_id", .is, SQLLiteral.null)
                .run()
        }
        return entries
    }

    /// Object types whose rows a bulk import creates under one audit record per batch, with the
    /// table holding each row's `created_audit_seq` (M0026).
    static let batchCreatedTables = ["resident": "actual_residents", "address": "standard_addresses"]

    /// Rows matching `q`, newest first. A query for one resident's or address's records also
    /// returns the bulk-import batch record that created it.
    public func list(_ q: AuditQuery, on db: any Database) async throws -> [AuditEntry] {
        let sql = db as! any SQLDatabase
        var s = sql.select().column("*").from("audit_log")
        if let type = q.objectType, let id = q.objectID {
            // The object's own records, the entries naming it among others (M0033: search and
            // list pages) and, for imported rows, the batch record that created it (M0026).
            let created = Self.batchCreatedTables[type].flatMap { table in
                UUID(uuidString: id).map { "seq = (SELECT created_audit_seq FROM \(ident: table) WHERE id = \(bind: $0))" as SQLQueryString }
            }
            s = s.where {
                let own = $0.where("object_type", .equal, type).where("object_id", .equal, id)
                    .orWhere("seq IN (SELECT seq FROM audit_subjects WHERE object_type = \(bind: type) AND object_id = \(bind: id))" as SQLQueryString)
                return created.map { own.orWhere($0) } ?? own
            }
        } else {
            if let v = q.objectType { s = s.where("object_type", .equal, v) }
            if let v = q.objectID { s = s.where("object_id", .equal, v) }
        }
        if let v = q.actorID { s = s.where("actor_id", .equal, v) }
        if let v = q.action { s = s.where("action", .equal, v.rawValue) }
        if let v = q.from { s = s.where("at", .greaterThanOrEqual, v) }
        if let v = q.to { s = s.where("at", .lessThan, v) }
        if let v = q.beforeSeq { s = s.where("seq", .lessThan, v) }
        if let v = q.excludeActorID {
            s = s.where { $0.where("actor_id", .notEqual, v).orWhere("actor_id", .is, SQLLiteral.null) }
        }
        if let v = q.actorRoleIs { s = s.where("actor_role", .equal, v) }
        if let v = q.actorRoleIsNot {
            s = s.where { $0.where("actor_role", .notEqual, v).orWhere("actor_role", .is, SQLLiteral.null) }
        }
        let rows = try await s.orderBy("seq", .descending).limit(max(1, min(q.limit, 1000))).all()
        return try rows.map(Self.decode)
    }

    /// Walks the whole chain in pages of `pageSize`, in constant memory.
    public func verify(on db: any Database, pageSize: Int = 5000) async throws -> AuditChainVerdict {
        let sql = db as! any SQLDatabase
        var verifier = AuditChainVerifier()
        var after: Int64 = 0
        while true {
            let rows = try await sql.select().column("*").from("audit_log")
                .where("seq", .greaterThan, after).orderBy("seq").limit(pageSize).all()
            if rows.isEmpty { break }
            for row in rows {
                let e = try Self.decode(row)
                verifier.check(e)
                after = e.seq
            }
            if case .broken = verifier.finish() { break }
        }
        return verifier.finish()
    }

    /// The row with sequence number `seq`, if any.
    public func entry(seq: Int64, on db: any Database) async throws -> AuditEntry? {
        let sql = db as! any SQLDatabase
        return try await sql.select().column("*").from("audit_log").where("seq", .equal, seq).first().map(Self.decode)
    }

    /// Number of rows.
    public func count(on db: any Database) async throws -> Int {
        let sql = db as! any SQLDatabase
        return try await sql.raw("SELECT COUNT(*) AS n FROM audit_log").first()?.decode(column: "n", as: Int.self) ?? 0
    }

    static func decode(_ row: any SQLRow) throws -> AuditEntry {
        let fieldsText = try row.decode(column: "fields", as: String.self)
        // A value that is not a JSON array of strings is kept as one field, so verification fails.
        let fields = (try? JSONDecoder().decode([String].self, from: Data(fieldsText.utf8))) ?? [fieldsText]
        return AuditEntry(
            seq: try row.decode(column: "seq", as: Int64.self),
            at: try row.decode(column: "at", as: Date.self),
            actorID: try row.decode(column: "actor_id", as: UUID?.self),
            actorName: try row.decode(column: "actor_name", as: String?.self),
            actorRole: try row.decode(column: "actor_role", as: String?.self),
            actorScope: try row.decode(column: "actor_scope", as: String?.self),
            action: AuditAction(rawValue: try row.decode(column: "action", as: String.self)) ?? .read,
            objectType: try row.decode(column: "object_type", as: String?.self),
            objectID: try row.decode(column: "object_id", as: String?.self),
            fields: fields,
            purpose: try row.decode(column: "purpose", as: String?.self),
            legalBasis: try row.decode(column: "legal_basis", as: String?.self),
            result: AuditResult(rawValue: try row.decode(column: "result", as: String.self)) ?? .error,
            clientIP: try row.decode(column: "client_ip", as: String?.self),
            userAgent: try row.decode(column: "user_agent", as: String?.self),
            requestID: try row.decode(column: "request_id", as: String?.self),
            detail: try row.decode(column: "detail", as: String?.self),
            prevHash: try row.decode(column: "prev_hash", as: String.self),
            hash: try row.decode(column: "hash", as: String.self))
    }
}
