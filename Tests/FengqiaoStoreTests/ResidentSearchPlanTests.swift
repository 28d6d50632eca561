@testable import FengqiaoStore
import FengqiaoCore
import FluentKit
import Foundation
import SQLKit
import Testing

@Suite("resident search plans", .serialized)
struct ResidentSearchPlanTests {
    /// The name-prefix search of a user with a territory (M0031): the count reads the covering
    /// index alone (the grid test included), and the first page follows the index order without
    /// sorting.
    @Test("a name-prefix search in a territory counts from the covering index and pages without a sort (SQLite)")
    func namePrefixCovered() async throws {
        try await withStore { store in
            let sql = store.sql
            guard sql.dialect.name == "sqlite" else { return }
            let repo = ResidentRepository(cipher: try ResidentRepositoryTests.cipher())
            let conditions = repo.conditions(ResidentQuery(namePrefix: "王芳"), grids: [UUID(), UUID()], dialect: "sqlite")
            let clause = ResidentRepository.whereClause(conditions)
            func plan(_ q: SQLQueryString) async throws -> String {
                try await sql.raw("EXPLAIN QUERY PLAN \(q)").all().map { try $0.decode(column: "detail", as: String.self) }.joined(separator: " | ")
            }
            let count = try await plan("SELECT COUNT(*) AS n FROM actual_residents WHERE \(clause)")
            #expect(count.contains("USING COVERING INDEX residents_name_id_idx"), "\(count)")
            let page = try await plan("SELECT id, name FROM actual_residents WHERE \(clause) ORDER BY name, id LIMIT 20")
            #expect(page.contains("residents_name_id_idx"), "\(page)")
            #expect(!page.contains("TEMP B-TREE"), "\(page)")
        }
    }
}
