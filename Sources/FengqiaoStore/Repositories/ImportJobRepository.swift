import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Reads and writes bulk import jobs (`import_jobs`) and their issue lists
/// (`import_job_issues`) through SQLKit. A job belongs to the account that created it: every read
/// takes the owner, and another account's job is `DomainError.notFound`, like a missing one.
public struct ImportJobRepository: Sendable {
    public init() {}

    static let columns = [
        "id", "kind", "file_name", "file_bytes", "dry_run", "grid_code", "status", "rows_read", "imported", "unchanged", "flagged",
        "rejected", "addresses_created", "estimated_rows", "error", "warnings", "created_by", "created_at", "started_at", "finished_at",
    ]

    /// Issues per INSERT statement (6 binds each, far below PostgreSQL's 65,535).
    static let issueChunk = 500

    /// Stores a new job (call inside `Store.write`, with its audit record).
    public func insert(_ j: ImportJob, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "import_jobs").columns(Self.columns + ["heartbeat_at"])
            .values([
                SQLBind(j.id), SQLBind(j.kind), SQLBind(j.fileName), SQLBind(j.fileBytes), SQLBind(j.dryRun), SQLBind(j.gridCode),
                SQLBind(j.status.rawValue), SQLBind(j.counters.read), SQLBind(j.counters.imported), SQLBind(j.counters.unchanged),
                SQLBind(j.counters.flagged), SQLBind(j.counters.rejected), SQLBind(j.counters.addressesCreated), SQLBind(j.estimatedRows),
                SQLBind(j.error), SQLBind(Self.encode(j.warnings)), SQLBind(j.createdBy), SQLBind(j.createdAt), SQLBind(j.startedAt),
                SQLBind(j.finishedAt), SQLBind(j.createdAt),
            ] as [any SQLExpression])
            .run()
    }

    /// The job, if `owner` created it.
    /// - Throws: `DomainError.notFound("import job")` for a missing job and for another account's.
    public func find(_ id: UUID, owner: UUID, on db: any Database) async throws -> ImportJob {
        let sql = db as! any SQLDatabase
        guard let row = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("import_jobs")
            .where("id", .equal, SQLBind(id)).where("created_by", .equal, SQLBind(owner)).first()
        else { throw DomainError.notFound(kind: "import job") }
        return try Self.decode(row)
    }

    /// The job whoever created it (for the runner; never for answering a caller).
    public func find(_ id: UUID, on db: any Database) async throws -> ImportJob? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("import_jobs").where("id", .equal, SQLBind(id)).first().map(Self.decode)
    }

    /// The owner's most recent jobs, newest first.
    public func list(owner: UUID, limit: Int, on db: any Database) async throws -> [ImportJob] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("import_jobs")
            .where("created_by", .equal, SQLBind(owner))
            .orderBy("created_at", .descending).orderBy("id", .descending)
            .limit(max(1, min(limit, 500))).all().map(Self.decode)
    }

    /// `queued` → `running`.
    public func markRunning(_ id: UUID, estimatedRows: Int?, at now: Date, on db: any Database) async throws {
        try await (db as! any SQLDatabase).update("import_jobs")
            .set("status", to: SQLBind(ImportJob.Status.running.rawValue)).set("started_at", to: SQLBind(now))
            .set("estimated_rows", to: SQLBind(estimatedRows)).set("heartbeat_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).where("status", .equal, SQLBind(ImportJob.Status.queued.rawValue))
            .run()
    }

    /// Counters so far, and the heartbeat, of a running job.
    public func progress(_ id: UUID, _ c: ImportJob.Counters, at now: Date, on db: any Database) async throws {
        try await Self.setCounters((db as! any SQLDatabase).update("import_jobs"), c)
            .set("heartbeat_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id)).where("status", .equal, SQLBind(ImportJob.Status.running.rawValue))
            .run()
    }

    /// Refreshes the heartbeat of unfinished jobs this server holds (queued ones waiting their turn).
    public func heartbeat(_ ids: [UUID], at now: Date, on db: any Database) async throws {
        guard !ids.isEmpty else { return }
        try await (db as! any SQLDatabase).update("import_jobs").set("heartbeat_at", to: SQLBind(now))
            .where("id", .in, SQLBind.group(ids))
            .where("status", .in, SQLBind.group([ImportJob.Status.queued.rawValue, ImportJob.Status.running.rawValue]))
            .run()
    }

    /// Ends a job with its final counters, error and header warnings (call inside `Store.write`,
    /// together with `appendIssues`).
    public func finish(_ id: UUID, status: ImportJob.Status, counters c: ImportJob.Counters, error: String?, warnings: [String], at now: Date, on db: any Database) async throws {
        try await Self.setCounters((db as! any SQLDatabase).update("import_jobs"), c)
            .set("status", to: SQLBind(status.rawValue)).set("error", to: SQLBind(error))
            .set("warnings", to: SQLBind(Self.encode(warnings))).set("finished_at", to: SQLBind(now)).set("heartbeat_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(id))
            .run()
    }

    /// Stores a job's issues, numbered from `firstSeq` in the given order, in chunks.
    public func appendIssues(_ jobID: UUID, _ issues: [ImportJobIssue], firstSeq: Int = 0, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        var seq = firstSeq
        for start in stride(from: 0, to: issues.count, by: Self.issueChunk) {
            let chunk = issues[start..<min(start + Self.issueChunk, issues.count)]
            var insert = sql.insert(into: "import_job_issues").columns("job_id", "seq", "line", "column_name", "reason", "reason_en", "kind")
            for i in chunk {
                insert = insert.values([SQLBind(jobID), SQLBind(seq), SQLBind(i.line), SQLBind(i.column), SQLBind(i.reason), SQLBind(i.reasonEnglish),
                                        SQLBind(i.kind.rawValue)] as [any SQLExpression])
                seq += 1
            }
            try await insert.run()
        }
    }

    /// One page of a job's issues in order, after `afterSeq` (start with -1); with each one's seq
    /// for the next page. The caller has checked that the job is theirs.
    public func issues(_ jobID: UUID, afterSeq: Int, limit: Int, on db: any Database) async throws -> [(seq: Int, issue: ImportJobIssue)] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("seq", "line", "column_name", "reason", "reason_en", "kind").from("import_job_issues")
            .where("job_id", .equal, SQLBind(jobID)).where("seq", .greaterThan, SQLBind(afterSeq))
            .orderBy("seq").limit(limit).all()
        return try rows.map { r in
            (try r.decode(column: "seq", as: Int.self), ImportJobIssue(
                line: try r.decode(column: "line", as: Int.self), column: try r.decode(column: "column_name", as: String.self),
                reason: try r.decode(column: "reason", as: String.self), reasonEnglish: try r.decode(column: "reason_en", as: String?.self),
                kind: ImportJobIssue.Kind(rawValue: try r.decode(column: "kind", as: String.self)) ?? .rejected))
        }
    }

    /// Marks unfinished jobs failed with `message`: all of them (`heartbeatBefore == nil`, for a
    /// server that is the database's only user, such as SQLite at start), or only those whose
    /// server stopped refreshing them before that time.
    /// - Returns: the ids of the jobs it failed.
    public func failUnfinished(heartbeatBefore: Date?, message: String, at now: Date, on db: any Database) async throws -> [UUID] {
        let sql = db as! any SQLDatabase
        let unfinished = [ImportJob.Status.queued.rawValue, ImportJob.Status.running.rawValue]
        var q = sql.select().column("id").from("import_jobs").where("status", .in, SQLBind.group(unfinished))
        if let t = heartbeatBefore { q = q.where("heartbeat_at", .lessThan, SQLBind(t)) }
        let ids = try await q.all().map { try $0.decode(column: "id", as: UUID.self) }
        guard !ids.isEmpty else { return [] }
        try await sql.update("import_jobs")
            .set("status", to: SQLBind(ImportJob.Status.failed.rawValue)).set("error", to: SQLBind(message))
            .set("finished_at", to: SQLBind(now)).set("heartbeat_at", to: SQLBind(now))
            .where("id", .in, SQLBind.group(ids)).where("status", .in, SQLBind.group(unfinished))
            .run()
        return ids
    }

    private static func setCounters(_ u: SQLUpdateBuilder, _ c: ImportJob.Counters) -> SQLUpdateBuilder {
        u.set("rows_read", to: SQLBind(c.read)).set("imported", to: SQLBind(c.imported)).set("unchanged", to: SQLBind(c.unchanged))
            .set("flagged", to: SQLBind(c.flagged)).set("rejected", to: SQLBind(c.rejected))
            .set("addresses_created", to: SQLBind(c.addressesCreated))
    }

    private static func encode(_ warnings: [String]) -> String? {
        warnings.isEmpty ? nil : String(decoding: (try? JSONEncoder().encode(warnings)) ?? Data("[]".utf8), as: UTF8.self)
    }

    static func decode(_ r: any SQLRow) throws -> ImportJob {
        let warnings = try r.decode(column: "warnings", as: String?.self).flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        return ImportJob(
            id: try r.decode(column: "id", as: UUID.self), kind: try r.decode(column: "kind", as: String.self),
            fileName: try r.decode(column: "file_name", as: String.self), fileBytes: try r.decode(column: "file_bytes", as: Int64.self),
            dryRun: try r.decode(column: "dry_run", as: Bool.self), gridCode: try r.decode(column: "grid_code", as: String?.self),
            status: ImportJob.Status(rawValue: try r.decode(column: "status", as: String.self)) ?? .failed,
            counters: .init(
                read: try r.decode(column: "rows_read", as: Int.self), imported: try r.decode(column: "imported", as: Int.self),
                unchanged: try r.decode(column: "unchanged", as: Int.self), flagged: try r.decode(column: "flagged", as: Int.self),
                rejected: try r.decode(column: "rejected", as: Int.self), addressesCreated: try r.decode(column: "addresses_created", as: Int.self)),
            estimatedRows: try r.decode(column: "estimated_rows", as: Int?.self), error: try r.decode(column: "error", as: String?.self),
            warnings: warnings, createdBy: try r.decode(column: "created_by", as: UUID.self),
            createdAt: try r.decode(column: "created_at", as: Date.self), startedAt: try r.decode(column: "started_at", as: Date?.self),
            finishedAt: try r.decode(column: "finished_at", as: Date?.self))
    }
}
