import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The append-only, hash-chained audit trail (domain spec §7.3; GB/T 22239-2019 8.1.4.3).
@Suite("audit trail", .serialized)
struct AuditTrailTests {
    struct Verdict: Decodable { var intact: Bool; var rows: Int64?; var brokenAt: Int64?; var reason: String? }

    /// Creates a grid as the system administrator and returns it with the audit admin's token.
    func gridWithAuditor(_ app: Application) async throws -> (Grid, String, Territory) {
        let t = try await seedTerritory(app)
        let (_, token) = try await sysadminToken(app)
        let auditor = try await makeUser(app, "auditor", .auditAdmin, .city)
        let at = try await issueToken(app, auditor)
        let res = try await apiCall(app, .POST, "/api/v1/grids", token: token, json: #"{"communityId":"\#(idText(t.community.id))","sequence":4,"name":"审计网格"}"#)
        #expect(res.status == .created)
        return (try json(res, as: Grid.self), at, t)
    }

    @Test("creating a grid writes an audit row the audit administrator can find, and the chain verifies")
    func createIsAudited() async throws {
        try await withApp { app in
            let (g, at, _) = try await gridWithAuditor(app)
            let sys = try #require(try await app.fengqiao.accounts.find(username: "sys.admin", on: app.fengqiao.store.db))
            let res = try await apiCall(app, .GET, "/api/v1/audit?objectType=grid&objectId=\(idText(g.id))", token: at)
            #expect(res.status == .ok)
            let rows = try json(res, as: ListPage<AuditEntry>.self).items
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(row.action == .create)
            #expect(row.objectType == "grid")
            #expect(row.objectID == idText(g.id))
            #expect(row.actorID == sys.id)
            #expect(row.actorRole == Role.sysadmin.rawValue)
            #expect(row.result == .success)
            #expect(row.fields.contains("name"))
            #expect(row.hash.count == 64 && row.prevHash.count == 64)
            // Names of fields only, never the values.
            #expect(!(row.detail ?? "").contains("审计网格"))

            let v = try await apiCall(app, .GET, "/api/v1/audit/verify", token: at)
            #expect(v.status == .ok)
            let verdict = try json(v, as: Verdict.self)
            #expect(verdict.intact)
            #expect(verdict.brokenAt == nil)
            #expect((verdict.rows ?? 0) >= row.seq)
            // Verifying is itself audited.
            let reads = try await app.fengqiao.audit.list(AuditQuery(objectType: "audit-chain"), on: app.fengqiao.store.db)
            #expect(reads.count == 1)
        }
    }

    @Test("a changed row breaks the chain at that row")
    func tamperIsDetected() async throws {
        try await withApp { app in
            let (g, at, _) = try await gridWithAuditor(app)
            let rows = try json(try await apiCall(app, .GET, "/api/v1/audit?objectType=grid&objectId=\(idText(g.id))", token: at), as: ListPage<AuditEntry>.self).items
            let seq = try #require(rows.first?.seq)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/audit/verify", token: at), as: Verdict.self).intact)

            let sql = app.fengqiao.store.sql
            switch TestDatabase.dialect {
            case .sqlite:
                try await sql.raw("DROP TRIGGER audit_log_no_update").run()
            case .postgres:
                try await sql.raw("GRANT UPDATE ON audit_log TO CURRENT_USER").run()
                try await sql.raw("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change").run()
            }
            try await sql.raw("UPDATE audit_log SET detail = \(bind: "rewritten afterwards") WHERE seq = \(bind: seq)").run()

            let res = try await apiCall(app, .GET, "/api/v1/audit/verify", token: at)
            #expect(res.status == .ok)
            let verdict = try json(res, as: Verdict.self)
            #expect(verdict.intact == false)
            #expect(verdict.brokenAt == seq)
            #expect(verdict.reason?.isEmpty == false)

            // The web viewer reports the break as well.
            var b = Browser(app)
            _ = try await b.login("auditor")
            let page = try await b.get("/audit?verify=1")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("哈希链断裂: #\(seq)"))
        }
    }

    @Test("a plain UPDATE or DELETE of an audit row is refused by the database")
    func appendOnly() async throws {
        try await withApp { app in
            let (g, at, _) = try await gridWithAuditor(app)
            let rows = try json(try await apiCall(app, .GET, "/api/v1/audit?objectType=grid&objectId=\(idText(g.id))", token: at), as: ListPage<AuditEntry>.self).items
            let seq = try #require(rows.first?.seq)
            let sql = app.fengqiao.store.sql
            await #expect(throws: (any Error).self) {
                try await sql.raw("UPDATE audit_log SET detail = \(bind: "rewritten") WHERE seq = \(bind: seq)").run()
            }
            await #expect(throws: (any Error).self) {
                try await sql.raw("DELETE FROM audit_log WHERE seq = \(bind: seq)").run()
            }
            // Nothing changed: the row is there as written and the chain is intact.
            let again = try await app.fengqiao.audit.list(AuditQuery(objectType: "grid", objectID: idText(g.id)), on: app.fengqiao.store.db)
            #expect(again.count == 1)
            #expect(again.first?.detail == rows.first?.detail)
            #expect(again.first?.hash == rows.first?.hash)
            let verdict = try json(try await apiCall(app, .GET, "/api/v1/audit/verify", token: at), as: Verdict.self)
            #expect(verdict.intact)
        }
    }
}
