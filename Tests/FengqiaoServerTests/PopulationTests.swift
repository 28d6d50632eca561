import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Logging
import SQLKit
import Testing
import Vapor
import VaporTesting

/// 一标三实, first slice: standard addresses and actual residents through the API, scoped,
/// masked, searchable by exact value through blind indexes, with audited reveals and the privacy
/// canary (domain spec §3.1, §5, §7).
@Suite("population API", .serialized)
struct PopulationTests {
    static let canaryID = "530481199001010011"
    static let canaryPhone = "13800138000"

    struct Fixture {
        var t: Territory
        var workerA: Account
        var tokenA: String
        var tokenB: String
        var addressA: UUID
        var addressA2: UUID
        var addressB: UUID
    }

    struct AddressOut: Decodable { var id: UUID; var gridId: UUID; var formatted: String; var status: String }
    struct WarningOut: Decodable { var field: String; var code: String }
    struct ResidentOut: Decodable {
        var id: UUID
        var name: String
        var idNumber: String
        var phone: String?
        var sex: String
        var birthDate: String
        var gridId: UUID
        var residenceAddressId: UUID
        var masked: Bool
        var idNumberLegacy15: Bool
        var warnings: [WarningOut]?
    }

    static func addressJSON(grid: UUID, building: UUID? = nil, room: String = "301") -> String {
        let b = building.map { #","buildingId":"\#(idText($0))""# } ?? ""
        return #"{"gridId":"\#(idText(grid))"\#(b),"street":"凤麓路","doorplate":"1号","estateName":"阳光小区","building":"1","unit":"2","floor":"3","room":"\#(room)"}"#
    }

    static func residentJSON(address: UUID, idNumber: String = canaryID, phone: String? = canaryPhone, name: String = "李四", extra: String = "") -> String {
        let p = phone.map { #","phone":"\#($0)""# } ?? ""
        return #"{"populationType":"migrant","idDocType":"111","idNumber":"\#(idNumber)","name":"\#(name)","residenceAddressId":"\#(idText(address))","residenceReason":"work","housingRelation":"tenant"\#(p)\#(extra)}"#
    }

    static func fixture(_ app: Application) async throws -> Fixture {
        let t = try await seedTerritory(app)
        let wa = try await makeUser(app, "worker.a", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
        let wb = try await makeUser(app, "worker.b", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridB.id))
        let ta = try await issueToken(app, wa)
        let tb = try await issueToken(app, wb)
        func create(_ token: String, _ body: String) async throws -> UUID {
            let r = try await apiCall(app, .POST, "/api/v1/addresses", token: token, json: body)
            #expect(r.status == .created, "\(r.body.string)")
            return try json(r, as: AddressOut.self).id
        }
        let a = try await create(ta, addressJSON(grid: t.gridA.id, building: t.buildingA.id))
        let a2 = try await create(ta, addressJSON(grid: t.gridA.id, room: "302"))
        let b = try await create(tb, addressJSON(grid: t.gridB.id))
        return Fixture(t: t, workerA: wa, tokenA: ta, tokenB: tb, addressA: a, addressA2: a2, addressB: b)
    }

    @Test("addresses: created in the caller's grid, formatted in collection order, scoped")
    func addresses() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let r = try await apiCall(app, .GET, "/api/v1/addresses/\(idText(f.addressA))", token: f.tokenA)
            #expect(r.status == .ok)
            let a = try json(r, as: AddressOut.self)
            #expect(a.formatted == "凤麓路1号阳光小区1栋2单元3层301室")
            #expect(a.status == "active")
            #expect(try await apiCall(app, .GET, "/api/v1/addresses/\(idText(f.addressB))", token: f.tokenA).status == .notFound)
            let list = try json(try await apiCall(app, .GET, "/api/v1/addresses", token: f.tokenA), as: ListPage<AddressOut>.self)
            #expect(Set(list.items.map(\.id)) == [f.addressA, f.addressA2])
            // Creating in another grid is 404 (the grid does not exist for the caller).
            let other = try await apiCall(app, .POST, "/api/v1/addresses", token: f.tokenA, json: Self.addressJSON(grid: f.t.gridB.id))
            #expect(other.status == .notFound)
            // A building of another grid is refused on its field.
            let wrong = try await apiCall(app, .POST, "/api/v1/addresses", token: f.tokenA, json: Self.addressJSON(grid: f.t.gridA.id, building: f.t.buildingB.id))
            #expect(wrong.status == .unprocessableEntity)
            #expect(problem(wrong)?.errors?.first?.field == "buildingId")
            let missing = try await apiCall(app, .POST, "/api/v1/addresses", token: f.tokenA, json: #"{"gridId":"\#(idText(f.t.gridA.id))","street":"凤麓路"}"#)
            #expect(problem(missing)?.errors?.first?.field == "doorplate")
        }
    }

    @Test("create, read and list residents: masked, sex and birth date derived, scoped to the grid")
    func createReadList() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let c = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA))
            #expect(c.status == .created, "\(c.body.string)")
            let r = try json(c, as: ResidentOut.self)
            #expect(r.idNumber == "530481********0011")
            #expect(r.phone == "138****8000")
            #expect(r.sex == "1")
            // The birth date is masked with the ID number it is part of (§5.1.1).
            #expect(r.birthDate == "1990-**-**")
            #expect(r.masked)
            #expect(r.gridId == f.t.gridA.id)
            #expect(r.warnings?.isEmpty == true)
            #expect(location(c) == "/api/v1/residents/\(idText(r.id))")

            let got = try json(try await apiCall(app, .GET, "/api/v1/residents/\(idText(r.id))", token: f.tokenA), as: ResidentOut.self)
            #expect(got.idNumber == "530481********0011" && got.phone == "138****8000" && got.name == "李四")

            let list = try json(try await apiCall(app, .GET, "/api/v1/residents?q=%E6%9D%8E", token: f.tokenA), as: ListPage<ResidentOut>.self)
            #expect(list.total == 1 && list.items.first?.id == r.id)
            #expect(!list.items.isEmpty && list.items.allSatisfy { $0.idNumber == "530481********0011" })
            let none = try json(try await apiCall(app, .GET, "/api/v1/residents?q=%E5%BC%A0", token: f.tokenA), as: ListPage<ResidentOut>.self)
            #expect(none.total == 0)

            // Grid B's worker: 404 for the resident, empty list, and cannot register at grid A's address.
            #expect(try await apiCall(app, .GET, "/api/v1/residents/\(idText(r.id))", token: f.tokenB).status == .notFound)
            let listB = try json(try await apiCall(app, .GET, "/api/v1/residents", token: f.tokenB), as: ListPage<ResidentOut>.self)
            #expect(listB.total == 0)
            let intoA = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenB,
                                          json: Self.residentJSON(address: f.addressA, idNumber: "530481198506150023", phone: nil, name: "王五"))
            #expect(intoA.status == .unprocessableEntity)
            #expect(problem(intoA)?.errors?.first?.field == "residenceAddressId")
            #expect(try await apiCall(app, .POST, "/api/v1/residents/\(idText(r.id))/reveal", token: f.tokenB,
                                      json: #"{"field":"idNumber","purpose":"核查"}"#).status == .notFound)

            // A community officer of the community sees it; another community's officer does not.
            let officer = try await makeUser(app, "officer", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: f.t.community.id))
            let otherOfficer = try await makeUser(app, "officer.c2", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: f.t.otherCommunity.id))
            #expect(try await apiCall(app, .GET, "/api/v1/residents/\(idText(r.id))", token: try await issueToken(app, officer)).status == .ok)
            #expect(try await apiCall(app, .GET, "/api/v1/residents/\(idText(r.id))", token: try await issueToken(app, otherOfficer)).status == .notFound)
        }
    }

    @Test("access: volunteers and administrators have no person rights; governance staff read only")
    func access() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let c = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA))
            let id = try json(c, as: ResidentOut.self).id
            for (name, role) in [("vol", Role.volunteer), ("sys", .sysadmin), ("hotel", .hotelOperator)] {
                let a = try await makeUser(app, name, role, role.isAdministrator ? .city : TerritoryScope(level: .grid, territoryID: f.t.gridA.id))
                let tok = try await issueToken(app, a)
                #expect(try await apiCall(app, .GET, "/api/v1/residents/\(idText(id))", token: tok).status == .forbidden, "\(role)")
                #expect(try await apiCall(app, .GET, "/api/v1/addresses", token: tok).status == .forbidden, "\(role)")
            }
            let staff = try await makeUser(app, "staff", .governanceCenterStaff, TerritoryScope(level: .community, territoryID: f.t.community.id))
            let st = try await issueToken(app, staff)
            #expect(try await apiCall(app, .GET, "/api/v1/residents/\(idText(id))", token: st).status == .ok)
            #expect(try await apiCall(app, .POST, "/api/v1/residents/\(idText(id))/reveal", token: st, json: #"{"field":"phone","purpose":"回访"}"#).status == .forbidden)
            #expect(try await apiCall(app, .POST, "/api/v1/residents", token: st,
                                      json: Self.residentJSON(address: f.addressA, idNumber: "530481198506150023", phone: nil)).status == .forbidden)
        }
    }

    @Test("reveal needs a purpose, returns the clear value and audits field and purpose, never the value")
    func reveal() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let id = try json(try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA)), as: ResidentOut.self).id
            let path = "/api/v1/residents/\(idText(id))/reveal"
            for body in [#"{"field":"idNumber"}"#, #"{"field":"idNumber","purpose":" x "}"#] {
                let r = try await apiCall(app, .POST, path, token: f.tokenA, json: body)
                #expect(r.status == .unprocessableEntity)
                #expect(problem(r)?.errors?.first?.field == "purpose")
            }
            let badField = try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"name","purpose":"核查身份"}"#)
            #expect(badField.status == .badRequest)
            let none = try await app.fengqiao.audit.list(AuditQuery(objectType: "resident", objectID: idText(id), action: .maskReveal), on: app.fengqiao.store.db)
            #expect(none.isEmpty)

            struct Revealed: Decodable { var field: String; var value: String }
            let r = try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"idNumber","purpose":"核查身份"}"#)
            #expect(r.status == .ok)
            #expect(r.headers.first(name: .cacheControl) == "no-store")
            #expect(try json(r, as: Revealed.self).value == Self.canaryID)
            let p = try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"phone","purpose":"联系住户"}"#)
            #expect(try json(p, as: Revealed.self).value == Self.canaryPhone)

            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "resident", objectID: idText(id), action: .maskReveal), on: app.fengqiao.store.db)
            #expect(rows.count == 2)
            let byField = Dictionary(uniqueKeysWithValues: rows.map { ($0.fields.joined(), $0) })
            #expect(byField["idNumber"]?.purpose == "核查身份")
            #expect(byField["phone"]?.purpose == "联系住户")
            #expect(rows.allSatisfy { $0.actorID == f.workerA.id && $0.result == .success })
            let text = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
            #expect(!text.contains(Self.canaryID) && !text.contains(Self.canaryPhone))
        }
    }

    @Test("exact search by ID number and phone goes through POST /residents/search (blind index)")
    func search() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let id = try json(try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA)), as: ResidentOut.self).id
            _ = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                  json: Self.residentJSON(address: f.addressA2, idNumber: "530481198506150023", phone: "13900000001", name: "王芳"))
            for body in [#"{"idNumber":"\#(Self.canaryID)"}"#, #"{"phone":"138 0013 8000"}"#, #"{"phone":"+8613800138000","name":"李"}"#] {
                let r = try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenA, json: body)
                #expect(r.status == .ok, "\(body)")
                let page = try json(r, as: ListPage<ResidentOut>.self)
                #expect(page.items.map(\.id) == [id], "\(body)")
                #expect(!r.body.string.contains(Self.canaryID) && !r.body.string.contains(Self.canaryPhone))
            }
            let miss = try json(try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenA, json: #"{"idNumber":"530481199203030037"}"#), as: ListPage<ResidentOut>.self)
            #expect(miss.total == 0)
            // Outside the scope the same search finds nothing.
            let b = try json(try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenB, json: #"{"idNumber":"\#(Self.canaryID)"}"#), as: ListPage<ResidentOut>.self)
            #expect(b.total == 0)
            let bad = try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenA, json: #"{"phone":"12345"}"#)
            #expect(problem(bad)?.errors?.first?.field == "phone")
            // The GET list keeps name/grid filters (exact-value query parameters are deprecated but still exact).
            let byGrid = try json(try await apiCall(app, .GET, "/api/v1/residents?gridId=\(idText(f.t.gridA.id))", token: f.tokenA), as: ListPage<ResidentOut>.self)
            #expect(byGrid.total == 2)
        }
    }

    @Test("validation names the field; an unknown address code is a warning; a duplicate ID number is 409 naming the resident")
    func validationAndDuplicates() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let bad = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA, idNumber: "530481199001010012"))
            #expect(bad.status == .unprocessableEntity)
            let p = problem(bad)
            #expect(p?.errors?.first?.field == "idNumber")
            #expect(p?.errors?.first?.reason.contains("expected 1") == true, "\(p?.detail ?? "")")
            let phone = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA, phone: "12345"))
            #expect(problem(phone)?.errors?.first?.field == "phone")
            let date = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA, extra: #","registeredAt":"2023-02-29""#))
            #expect(problem(date)?.errors?.first?.field == "registeredAt")
            let sex = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA, extra: #","sex":"2""#))
            #expect(problem(sex)?.errors?.first?.field == "sex")
            #expect(try await tableCount(app, "actual_residents") == 0)

            // An address code no edition of GB/T 2260 knows: created, with a warning.
            let unknown = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA, idNumber: "999999199001010059", phone: nil, name: "赵六"))
            #expect(unknown.status == .created, "\(unknown.body.string)")
            let w = try json(unknown, as: ResidentOut.self).warnings ?? []
            #expect(w.count == 1 && w.first?.field == "idNumber" && w.first?.code == "unknown-address-code")

            // Lowercase x and the 15-digit legacy form are normalised.
            let legacy = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA2, idNumber: "110105491231002", phone: nil, name: "钱七"))
            #expect(legacy.status == .created, "\(legacy.body.string)")
            let l = try json(legacy, as: ResidentOut.self)
            #expect(l.idNumberLegacy15 && l.idNumber == "110105********002X" && l.sex == "2" && l.birthDate == "1949-**-**")
            let lower = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA2, idNumber: "11010519491231002x", phone: nil, name: "钱七"))
            #expect(lower.status == .conflict)

            // The same person at another address: 409 naming the existing resident, nothing written.
            let first = try json(try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA)), as: ResidentOut.self)
            let before = try await tableCount(app, "actual_residents")
            let dup = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA2, name: "李四"))
            #expect(dup.status == .conflict)
            let dp = problem(dup)
            #expect(dp?.errors?.first?.field == "idNumber")
            #expect(dp?.detail.contains(idText(first.id)) == true, "\(dp?.detail ?? "")")
            #expect(dp?.detail.contains("another address") == true)
            #expect(!dup.body.string.contains(Self.canaryID))
            // Also across grids: grid B's worker learns only that the number is held (by id), not by whom.
            let dupB = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenB, json: Self.residentJSON(address: f.addressB))
            #expect(dupB.status == .conflict)
            #expect(try await tableCount(app, "actual_residents") == before)
        }
    }

    @Test("a replayed create with the same Idempotency-Key registers the person once")
    func idempotentCreate() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let h: HTTPHeaders = ["Idempotency-Key": "resident-1"]
            let a = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA), headers: h)
            let b = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: f.addressA), headers: h)
            #expect(a.status == .created && b.status == .created)
            #expect(b.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try json(a, as: ResidentOut.self).id == json(b, as: ResidentOut.self).id)
            #expect(try await tableCount(app, "actual_residents") == 1)
        }
    }

    @Test("two concurrent registrations of one ID number at different addresses: one 201, one 409")
    func concurrentDuplicates() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for address in [f.addressA, f.addressA2] {
                    group.addTask { try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA, json: Self.residentJSON(address: address)).status }
                }
                return try await group.reduce(into: [HTTPResponseStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == 1, "\(statuses)")
            #expect(try await tableCount(app, "actual_residents") == 1)
        }
    }

    // MARK: Canary

    /// Collects every log line the application writes.
    final class LogSink: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ s: String) { lock.lock(); lines.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    struct CapturingLogHandler: LogHandler {
        let label: String
        let sink: LogSink
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata extra: Logger.Metadata?, source: String, file: String, function: String, line: UInt) {
            let all = metadata.merging(extra ?? [:]) { $1 }
            sink.append("\(label) \(level) \(message) \(all)")
        }
    }

    @Test("privacy canary: an ID number and phone written through the API appear in no database byte, list response or log line")
    func canary() async throws {
        let (location, cleanup) = try await TestDatabase.make()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-data-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = AppConfig(
            dataDirectory: dir, location: location, poolSize: 4, bcryptCost: 4, totpRoles: [], keys: ["k1": FieldCipher.generateKey()], currentKeyID: "k1",
            indexKey: FieldCipher.generateKey(), logLevel: "trace")
        let sink = LogSink()
        let app = try await Application.make(.testing)
        app.logger = Logger(label: "fengqiao.canary") { CapturingLogHandler(label: $0, sink: sink) }
        var needles = [Self.canaryID, Self.canaryPhone]
        do {
            try await configure(app, config: config)
            let f = try await Self.fixture(app)
            let c = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                      json: Self.residentJSON(address: f.addressA, extra: #","hukouAddress":"云南省澄江市""#), headers: ["Idempotency-Key": "canary"])
            #expect(c.status == .created, "\(c.body.string)")
            let id = try json(c, as: ResidentOut.self).id
            // The sealed values themselves must not be what is searched for: derive the other
            // spellings a leak might take.
            needles.append("8613800138000")
            var bodies = [c.body.string]
            bodies.append(try await apiCall(app, .GET, "/api/v1/residents", token: f.tokenA).body.string)
            bodies.append(try await apiCall(app, .GET, "/api/v1/residents/\(idText(id))", token: f.tokenA).body.string)
            bodies.append(try await apiCall(app, .POST, "/api/v1/residents/search", token: f.tokenA, json: #"{"idNumber":"\#(Self.canaryID)"}"#).body.string)
            let officer = try await makeUser(app, "auditor", .auditAdmin, .city)
            bodies.append(try await apiCall(app, .GET, "/api/v1/audit?objectType=resident", token: try await issueToken(app, officer)).body.string)
            #expect(bodies[1].contains("530481********0011") && bodies[1].contains("138****8000"))
            for (i, b) in bodies.enumerated() {
                for n in needles { #expect(!b.contains(n), "response \(i) contains \(n)") }
            }
            if location.dialect == .postgres {
                // Every row of every table, as text.
                let tables = try await app.fengqiao.store.sql.raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").all()
                    .map { try $0.decode(column: "tablename", as: String.self) }
                #expect(tables.contains("actual_residents"))
                for t in tables {
                    let rows = try await app.fengqiao.store.sql.raw("SELECT CAST(t AS TEXT) AS v FROM \(ident: t) t").all()
                    for r in rows {
                        let v = try r.decode(column: "v", as: String.self)
                        for n in needles { #expect(!v.contains(n), "table \(t) contains \(n)") }
                    }
                }
            } else {
                _ = try await app.fengqiao.store.sql.raw("PRAGMA wal_checkpoint(FULL)").all()
            }
        } catch {
            try? await app.asyncShutdown()
            await cleanup()
            throw error
        }
        try await app.asyncShutdown()
        if case .sqlite(let path) = location {
            let url = URL(fileURLWithPath: path)
            let files = try FileManager.default.contentsOfDirectory(at: url.deletingLastPathComponent(), includingPropertiesForKeys: nil)
            #expect(files.contains { $0.lastPathComponent == url.lastPathComponent })
            // Positive control: a value stored in clear (the hukou address) is found by the same scan.
            let all = try files.reduce(into: Data()) { $0.append(try Data(contentsOf: $1)) }
            #expect(all.range(of: Data("云南省澄江市".utf8)) != nil, "the byte scan does not see clear values")
            for file in files {
                let bytes = try Data(contentsOf: file)
                for n in needles {
                    #expect(bytes.range(of: Data(n.utf8)) == nil, "\(file.lastPathComponent) contains \(n)")
                }
            }
        }
        await cleanup()
        let lines = sink.all
        #expect(lines.count > 10, "the capturing logger saw only \(lines.count) lines")
        // Positive control: the SQL that wrote the resident was logged, with its (sealed) binds.
        #expect(lines.contains { $0.contains("INSERT INTO") && $0.contains("actual_residents") && $0.contains("fq1:k1:") })
        for line in lines {
            for n in needles { #expect(!line.contains(n), "log line contains \(n): \(line.prefix(300))") }
        }
    }

    @Test("an ID number or phone in a URL query is refused, naming the parameter")
    func exactValuesNeverInURLs() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            for key in ["idNumber", "phone"] {
                let r = try await apiCall(app, .GET, "/api/v1/residents?\(key)=13800138000", token: f.tokenA)
                #expect(r.status == .unprocessableEntity, "\(r.body.string)")
                #expect(problem(r)?.errors?.first?.field == key)
            }
            #expect(try await apiCall(app, .GET, "/api/v1/residents?q=李", token: f.tokenA).status == .ok)
        }
    }
}
