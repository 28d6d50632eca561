import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import SQLKit
import Testing

@Suite("resident repository", .serialized)
struct ResidentRepositoryTests {
    static func cipher() throws -> FieldCipher {
        try FieldCipher(keys: ["k1": FieldCipher.generateKey()], currentKeyID: "k1", indexKey: FieldCipher.generateKey())
    }

    /// A station, community, grid and one address in it.
    static func seed(_ store: Store) async throws -> (grid: UUID, address: StandardAddress) {
        let repo = TerritoryRepository()
        let s = PoliceStation(name: "所", divisionCode: "530481001")
        let c = Community(stationID: s.id, name: "社区", townshipCode: "530481001", divisionCode12: nil)
        let g = Grid(communityID: c.id, residentialGroupID: nil, code: "530481001001001", name: "第1网格", kind: .basic, polygon: nil)
        let a = StandardAddress(street: "凤麓路", doorplate: "1号", building: "1", unit: "1", floor: "1", room: "101", gridID: g.id)
        try await store.write { db in
            try await repo.save(s, on: db)
            try await repo.save(c, on: db)
            try await repo.save(g, on: db)
            try await AddressRepository().insert(a, on: db)
        }
        return (g.id, a)
    }

    @Test("ID number and phone are sealed at rest, opened on read and found by blind index only")
    func sealedRoundTrip() async throws {
        try await withStore { store in
            let (grid, address) = try await Self.seed(store)
            let repo = ResidentRepository(cipher: try Self.cipher())
            let r = ActualResident(
                populationType: .registered, hukouSeparated: true, idDocType: .residentIdCard, idNumber: "530481199001010011", name: "李四", sex: .male,
                birthDate: CalendarDate(yyyymmdd: "19900101")!, residenceAddressID: address.id, gridID: grid, residenceReason: .family,
                housingRelation: .owner, phone: try PhoneNumber("13800138000"), registeredAt: CalendarDate(yyyymmdd: "20260101")!)
            try await store.write { db in try await repo.insert(r, on: db) }

            let raw = try #require(try await store.sql.raw("SELECT id_number_enc, id_number_idx, phone_enc, phone_idx FROM actual_residents").first())
            for c in ["id_number_enc", "id_number_idx", "phone_enc", "phone_idx"] {
                let v = try raw.decode(column: c, as: String.self)
                #expect(!v.contains("530481199001010011") && !v.contains("13800138000"), "\(c)")
            }
            #expect(try raw.decode(column: "id_number_enc", as: String.self).hasPrefix("fq1:k1:"))

            #expect(try await repo.find(r.id, visible: .everything, on: store.db) == r)
            let other = VisibleTerritory(stationIDs: [], communityIDs: [], gridIDs: [UUID()], level: .grid)
            await #expect(throws: DomainError.notFound(kind: "resident")) { try await repo.find(r.id, visible: other, on: store.db) }

            let (byID, n) = try await repo.list(ResidentQuery(idNumber: "530481199001010011"), visible: .everything, on: store.db)
            #expect(n == 1 && byID.map(\.id) == [r.id])
            #expect(try await repo.list(ResidentQuery(phone: try PhoneNumber("+86 138 0013 8000")), visible: .everything, on: store.db).1 == 1)
            #expect(try await repo.list(ResidentQuery(namePrefix: "李"), visible: .everything, on: store.db).1 == 1)
            #expect(try await repo.list(ResidentQuery(namePrefix: "%"), visible: .everything, on: store.db).1 == 0)
            #expect(try await repo.list(ResidentQuery(), visible: other, on: store.db).1 == 0)
            #expect(try await repo.holders(ofIDNumber: "530481199001010011", on: store.db) == [ResidentHolder(id: r.id, addressID: address.id)])

            // A cipher with other keys can neither find nor read the row.
            let stranger = ResidentRepository(cipher: try Self.cipher())
            #expect(try await stranger.list(ResidentQuery(idNumber: "530481199001010011"), visible: .everything, on: store.db).1 == 0)
            await #expect(throws: FieldCipher.Failure.self) { try await stranger.find(r.id, visible: .everything, on: store.db) }
        }
    }

    @Test("no column of the resident table is named like a plaintext ID number or phone")
    func noPlaintextColumns() async throws {
        try await withStore { store in
            let names: [String]
            if store.dialect == .postgres {
                names = try await store.sql.raw("SELECT column_name FROM information_schema.columns WHERE table_name = 'actual_residents'").all()
                    .map { try $0.decode(column: "column_name", as: String.self) }
            } else {
                names = try await store.sql.raw("SELECT name FROM pragma_table_info('actual_residents')").all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(names.contains("id_number_enc") && names.contains("phone_idx"))
            #expect(!names.contains("id_number") && !names.contains("phone"))
        }
    }
}
