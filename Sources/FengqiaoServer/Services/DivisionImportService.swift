import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Loads division reference files (`Data/divisions/`) into the `divisions` table: the good rows
/// and one audit record in a single transaction, the bad lines reported back by number.
public struct DivisionImportService: Sendable {
    let app: Fengqiao
    let divisions = DivisionRepository()

    public init(_ app: Fengqiao) { self.app = app }

    /// What an import did.
    public struct Outcome: Sendable {
        public var written: DivisionWriteResult
        public var rejections: [DivisionFileParser.Rejection]
    }

    /// Upserts current divisions (`code	name	level	parent_code`).
    /// - Parameter source: the file name, for the audit record.
    public func importCurrent(text: String, source: String, actor: Actor) async throws -> Outcome {
        try await run(DivisionFileParser.parseCurrent(text), historic: false, source: source, actor: actor)
    }

    /// Adds historic codes (`code	name`); current rows with the same code are left alone.
    public func importHistoric(text: String, source: String, actor: Actor) async throws -> Outcome {
        try await run(DivisionFileParser.parseHistoric(text), historic: true, source: source, actor: actor)
    }

    private func run(_ parsed: DivisionFileParser.Result, historic: Bool, source: String, actor: Actor) async throws -> Outcome {
        let divisions = self.divisions, audit = app.audit
        let records = parsed.records, rejected = parsed.rejections.count
        let written = try await app.store.write { db in
            let w = historic ? try await divisions.addHistoric(records, on: db) : try await divisions.upsert(records, on: db)
            let what = historic ? "historic division codes" : "divisions"
            _ = try await audit.append(
                actor.draft(
                    .update, objectType: "divisions", fields: ["code", "name", "level", "parent_code", "historic"],
                    detail: "\(what) imported from \(source): \(w.rows) rows, \(w.inserted) new, \(w.existing) \(historic ? "already present" : "updated"), \(rejected) lines rejected"),
                on: db)
            return w
        }
        return Outcome(written: written, rejections: parsed.rejections)
    }
}
