import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing

@Suite("division import", .serialized)
struct DivisionImportTests {
    @Test("good rows are written with one audit record; rejected lines come back; historic codes keep current rows")
    func importBoth() async throws {
        try await withApp { app in
            let service = DivisionImportService(app.fengqiao)
            let db = app.fengqiao.store.db
            let auditBefore = try await app.fengqiao.audit.count(on: db)
            let text = DivisionFileParserTests.good + "530481\t澄江市\tcounty\t530400\n53048X\t坏\tcounty\t530400\n"
            let a = try await service.importCurrent(text: text, source: "t.tsv", actor: .commandLine())
            #expect(a.written == DivisionWriteResult(rows: 5, inserted: 5))
            #expect(a.rejections.map(\.line) == [7, 8])
            #expect(try await app.fengqiao.audit.count(on: db) == auditBefore + 1)
            let entry = try #require(try await app.fengqiao.audit.list(AuditQuery(objectType: "divisions", limit: 10), on: db).first)
            #expect(entry.detail?.contains("5 rows, 5 new, 0 updated, 2 lines rejected") == true)

            let h = try await service.importHistoric(text: "530422\t澄江县\n530481\t澄江县\n", source: "h.txt", actor: .commandLine())
            #expect(h.written == DivisionWriteResult(rows: 2, inserted: 1))
            let repo = DivisionRepository()
            #expect(try await repo.find("530481", on: db)?.name == "澄江市")
            #expect(try await repo.find("530481", on: db)?.historic == false)
            #expect(try await repo.find("530422", on: db)?.historic == true)
            #expect(try await app.fengqiao.audit.verify(on: db) == .intact(rows: Int64(try await app.fengqiao.audit.count(on: db))))
        }
    }
}
