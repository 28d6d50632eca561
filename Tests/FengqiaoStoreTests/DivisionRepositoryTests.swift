import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import SQLKit
import Testing

@Suite("division bulk upsert", .serialized)
struct DivisionRepositoryTests {
    let repo = DivisionRepository()

    /// `n` county-shaped rows `53xxxx` (the repository does not validate codes).
    static func rows(_ range: ClosedRange<Int>, name: String = "县") -> [DivisionRecord] {
        range.map { i in
            let code = "53" + String(repeating: "0", count: 4 - String(i).count) + String(i)
            return DivisionRecord(code: code, name: "\(name)\(i)", level: .county, parentCode: "530000")
        }
    }

    @Test("2,500 rows go in as three statements in one transaction; a second run updates and adds")
    func upsert() async throws {
        try await withStore { store in
            let repo = self.repo
            let first = Self.rows(1...2_500)
            let a = try await store.write { db in try await repo.upsert(first, on: db) }
            #expect(a == DivisionWriteResult(rows: 2_500, inserted: 2_500))
            #expect(try await repo.count(on: store.db) == 2_500)

            var changed = Self.rows(2_001...3_000, name: "新县")
            changed[0].parentCode = "530400"
            let second = changed
            let b = try await store.write { db in try await repo.upsert(second, on: db) }
            #expect(b == DivisionWriteResult(rows: 1_000, inserted: 500))
            #expect(b.existing == 500)
            #expect(try await repo.count(on: store.db) == 3_000)
            #expect(try await repo.find("532001", on: store.db) == DivisionRecord(code: "532001", name: "新县2001", level: .county, parentCode: "530400"))
            #expect(try await repo.find("530001", on: store.db)?.name == "县1")
            #expect(try await repo.find("539999", on: store.db) == nil)
        }
    }

    @Test("a duplicate code in one batch keeps the last row instead of failing")
    func duplicates() async throws {
        try await withStore { store in
            let repo = self.repo
            let rows = [
                DivisionRecord(code: "530481", name: "澄江县", level: .county, parentCode: "530400"),
                DivisionRecord(code: "530481", name: "澄江市", level: .county, parentCode: "530400"),
            ]
            let r = try await store.write { db in try await repo.upsert(rows, on: db) }
            #expect(r == DivisionWriteResult(rows: 1, inserted: 1))
            #expect(try await repo.find("530481", on: store.db)?.name == "澄江市")
        }
    }

    @Test("historic codes never overwrite current rows; a current import revives a historic code")
    func historic() async throws {
        try await withStore { store in
            let repo = self.repo
            let current = [
                DivisionRecord(code: "530000", name: "云南省", level: .province, parentCode: nil),
                DivisionRecord(code: "530481", name: "澄江市", level: .county, parentCode: "530400"),
            ]
            _ = try await store.write { db in try await repo.upsert(current, on: db) }
            let old = [
                DivisionRecord(code: "530481", name: "错误名称", level: .county, parentCode: nil, historic: true),
                DivisionRecord(code: "530422", name: "澄江县", level: .county, parentCode: nil, historic: true),
                DivisionRecord(code: "532423", name: "澄江", level: .county, parentCode: nil, historic: true),
            ]
            let h = try await store.write { db in try await repo.addHistoric(old, on: db) }
            #expect(h == DivisionWriteResult(rows: 3, inserted: 2))
            #expect(try await repo.find("530481", on: store.db) == current[1])
            #expect(try await repo.find("530422", on: store.db)?.historic == true)
            #expect(try await repo.count(historic: true, on: store.db) == 2)
            #expect(try await repo.count(historic: false, on: store.db) == 2)

            // Running the historic list again renames historic rows only.
            let again = [DivisionRecord(code: "532423", name: "澄江县", level: .county, parentCode: nil, historic: true)]
            let h2 = try await store.write { db in try await repo.addHistoric(again, on: db) }
            #expect(h2.inserted == 0)
            #expect(try await repo.find("532423", on: store.db)?.name == "澄江县")

            let revived = [DivisionRecord(code: "530422", name: "澄江县", level: .county, parentCode: "530400")]
            _ = try await store.write { db in try await repo.upsert(revived, on: db) }
            #expect(try await repo.find("530422", on: store.db) == revived[0])
            #expect(try await repo.count(historic: true, on: store.db) == 1)
        }
    }

    @Test("an import that fails part-way leaves no rows")
    func rollback() async throws {
        try await withStore { store in
            let repo = self.repo
            await #expect(throws: Boom.self) {
                try await store.write { db in
                    _ = try await repo.upsert(Self.rows(1...1_500), on: db)
                    throw Boom()
                }
            }
            let left = try await repo.count(on: store.db)
            #expect(left == 0)
        }
    }

    @Test("rows written by the demo's Fluent path read back as current")
    func fluentDefault() async throws {
        try await withStore { store in
            try await store.write { db in
                try await TerritoryRepository().saveDivision(code: "530481001", name: "凤麓街道", level: "township", parent: "530481", on: db)
            }
            #expect(try await self.repo.find("530481001", on: store.db) == DivisionRecord(code: "530481001", name: "凤麓街道", level: .township, parentCode: "530481"))
        }
    }
}
