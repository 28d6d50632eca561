import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// The 核采 columns that M0012 adds to `actual_residents` and `standard_addresses`, read and
/// written the same way for both tables.
enum VerificationColumns {
    static let names = ["verified_at", "verified_by", "verified_by_name", "verification_outcome", "created_at"]

    /// `COALESCE(verified_at, created_at)`: the instant a record's period runs from.
    static var lastChecked: any SQLExpression { SQLFunction("COALESCE", args: SQLColumn("verified_at"), SQLColumn("created_at")) }

    static func decode(_ r: any SQLRow) throws -> VerificationState {
        VerificationState(
            verifiedAt: try r.decode(column: "verified_at", as: Date?.self),
            verifiedByID: try r.decode(column: "verified_by", as: UUID?.self),
            verifiedByName: try r.decode(column: "verified_by_name", as: String?.self),
            outcome: try r.decode(column: "verification_outcome", as: String?.self).flatMap(VerificationOutcome.init(rawValue:)),
            recordedAt: try r.decode(column: "created_at", as: Date.self))
    }

    /// The states of the given records of `table`, by id (ids not found are absent).
    static func states(table: String, ids: [UUID], on db: any Database) async throws -> [UUID: VerificationState] {
        let sql = db as! any SQLDatabase
        var out: [UUID: VerificationState] = [:]
        for chunk in Array(Set(ids)).chunked(500) {
            let rows = try await sql.select().columns((["id"] + names).map { SQLColumn($0) }).from(table)
                .where("id", .in, SQLBind.group(Array(chunk))).all()
            for r in rows { out[try r.decode(column: "id", as: UUID.self)] = try decode(r) }
        }
        return out
    }

    /// Records a verification on one row of `table` (call inside `Store.write`).
    static func record(table: String, id: UUID, outcome: VerificationOutcome, at: Date, by: UUID?, byName: String?, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.update(table)
            .set("verified_at", to: SQLBind(at)).set("verified_by", to: SQLBind(by)).set("verified_by_name", to: SQLBind(byName))
            .set("verification_outcome", to: SQLBind(outcome.rawValue)).set("updated_at", to: SQLBind(at))
            .where("id", .equal, SQLBind(id)).run()
    }
}
