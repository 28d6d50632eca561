import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// 实有房屋 through the API: created at a standard address of the caller's grid, owner and
/// tenant values masked and sealed, audited reveals, occupancy changes by merge patch, exact
/// searches in a body, and 404 for every read and write from another grid or community
/// (domain spec §3.1, §7).
@Suite("houses API", .serialized)
struct HouseAPITests {
    static let ownerID = "530481199001010011"
    static let ownerPhone = "13800138000"
    static let tenantID = "53048120150720004X"
    static let tenantPhone = "13900000001"

    struct TenantOut: Decodable { var id: UUID; var name: String; var idNumber: String; var phone: String?; var residentId: UUID? }
    struct HouseOut: Decodable {
        var id: UUID
        var houseCode: String
        var addressId: UUID
        var gridId: UUID
        var area: Double?
        var ownerName: String
        var ownerIdNumber: String?
        var ownerPhone: String?
        var occupancy: String
        var occupancyName: String
        var rentalPurpose: String?
        var tenants: [TenantOut]
        var leaseStart: String?
        var leaseEnd: String?
        var groupRental: Bool
        var masked: Bool
        var warnings: [PopulationTests.WarningOut]?
    }

    static func tenantsJSON(_ idNumber: String = tenantID, phone: String = tenantPhone, resident: UUID? = nil) -> String {
        let r = resident.map { #","residentId":"\#(idText($0))""# } ?? ""
        return #"[{"name":"李四","idDocType":"111","idNumber":"\#(idNumber)","phone":"\#(phone)"\#(r)}]"#
    }

    /// A house body; `set` replaces (or adds) keys with raw JSON values, so no key appears twice.
    static func houseJSON(address: UUID, code: String = "301", rented: Bool = true, tenants: String? = nil, set: [String: String] = [:]) -> String {
        var pairs: [(String, String)] = [
            ("houseCode", "\"\(code)\""), ("addressId", "\"\(idText(address))\""), ("use", "\"residential\""), ("area", "85.5"), ("ownerName", "\"张三\""),
            ("ownerIdDocType", "\"111\""), ("ownerIdNumber", "\"\(ownerID)\""), ("ownerPhone", "\"\(ownerPhone)\""),
        ]
        if rented {
            pairs += [("occupancy", "\"rented\""), ("rentalPurpose", "\"living\""), ("leaseStart", "\"2026-01-01\""), ("leaseEnd", "\"2026-12-31\""),
                      ("groupRental", "true"), ("tenants", tenants ?? tenantsJSON())]
        } else {
            pairs.append(("occupancy", "\"selfOccupied\""))
        }
        for (k, v) in set.sorted(by: { $0.key < $1.key }) {
            if let i = pairs.firstIndex(where: { $0.0 == k }) { pairs[i].1 = v } else { pairs.append((k, v)) }
        }
        return "{" + pairs.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    static func create(_ app: Application, _ f: PopulationTests.Fixture, _ body: String, token: String? = nil) async throws -> HouseOut {
        let r = try await apiCall(app, .POST, "/api/v1/houses", token: token ?? f.tokenA, json: body)
        #expect(r.status == .created, "\(r.body.string)")
        return try json(r, as: HouseOut.self)
    }

    @Test("create, read, list: masked, in the address's grid; another grid or community gets 404 for read and write")
    func createReadScope() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let c = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA, json: Self.houseJSON(address: f.addressA))
            #expect(c.status == .created, "\(c.body.string)")
            let h = try json(c, as: HouseOut.self)
            #expect(location(c) == "/api/v1/houses/\(idText(h.id))")
            #expect(h.gridId == f.t.gridA.id && h.addressId == f.addressA && h.area == 85.5 && h.masked)
            #expect(h.ownerIdNumber == "530481********0011" && h.ownerPhone == "138****8000")
            #expect(h.tenants.map(\.idNumber) == ["530481********004X"] && h.tenants.first?.phone == "139****0001")
            #expect(h.occupancy == "rented" && h.occupancyName == "出租" && h.groupRental && h.leaseEnd == "2026-12-31")
            #expect(h.warnings?.isEmpty == true)
            for body in [c.body.string] { #expect(!body.contains(Self.ownerID) && !body.contains(Self.tenantPhone)) }

            let got = try json(try await apiCall(app, .GET, "/api/v1/houses/\(idText(h.id))", token: f.tokenA), as: HouseOut.self)
            #expect(got.id == h.id && got.tenants.count == 1 && got.ownerIdNumber == "530481********0011")
            let list = try json(try await apiCall(app, .GET, "/api/v1/houses", token: f.tokenA), as: ListPage<HouseOut>.self)
            #expect(list.total == 1 && list.items.map(\.id) == [h.id])
            let vacantOnly = try json(try await apiCall(app, .GET, "/api/v1/houses?occupancy=vacant", token: f.tokenA), as: ListPage<HouseOut>.self)
            #expect(vacantOnly.total == 0)
            let groups = try json(try await apiCall(app, .GET, "/api/v1/houses?groupRental=true&gridId=\(idText(f.t.gridA.id))", token: f.tokenA), as: ListPage<HouseOut>.self)
            #expect(groups.total == 1)
            #expect(problem(try await apiCall(app, .GET, "/api/v1/houses?occupancy=sold", token: f.tokenA))?.errors?.first?.field == "occupancy")

            // Grid B's worker: 404 to read, to change and to reveal; an empty list; cannot register at grid A's address.
            let path = "/api/v1/houses/\(idText(h.id))"
            #expect(try await apiCall(app, .GET, path, token: f.tokenB).status == .notFound)
            #expect(try await apiCall(app, .PATCH, path, token: f.tokenB, json: #"{"occupancy":"vacant"}"#).status == .notFound)
            #expect(try await apiCall(app, .POST, path + "/reveal", token: f.tokenB, json: #"{"field":"ownerIdNumber","purpose":"核查"}"#).status == .notFound)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/houses", token: f.tokenB), as: ListPage<HouseOut>.self).total == 0)
            let intoA = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenB, json: Self.houseJSON(address: f.addressA, code: "999"))
            #expect(intoA.status == .unprocessableEntity)
            #expect(problem(intoA)?.errors?.first?.field == "addressId")

            // The community officer sees it; an officer of another community does not, for reads and writes.
            let officer = try await issueToken(app, try await makeUser(app, "officer", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: f.t.community.id)))
            let other = try await issueToken(app, try await makeUser(app, "officer.c2", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: f.t.otherCommunity.id)))
            #expect(try await apiCall(app, .GET, path, token: officer).status == .ok)
            #expect(try await apiCall(app, .GET, path, token: other).status == .notFound)
            #expect(try await apiCall(app, .PATCH, path, token: other, json: #"{"occupancy":"vacant"}"#).status == .notFound)
            #expect(try await apiCall(app, .POST, path + "/reveal", token: other, json: #"{"field":"ownerPhone","purpose":"核查"}"#).status == .notFound)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/houses/\(idText(h.id))", token: f.tokenA), as: HouseOut.self).occupancy == "rented")
            #expect(try await tableCount(app, "actual_houses") == 1)
        }
    }

    @Test("access: volunteers have no house rights; governance staff read but cannot write or reveal")
    func access() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let h = try await Self.create(app, f, Self.houseJSON(address: f.addressA))
            let vol = try await issueToken(app, try await makeUser(app, "vol", .volunteer, TerritoryScope(level: .grid, territoryID: f.t.gridA.id)))
            #expect(try await apiCall(app, .GET, "/api/v1/houses", token: vol).status == .forbidden)
            #expect(try await apiCall(app, .GET, "/api/v1/houses/\(idText(h.id))", token: vol).status == .forbidden)
            let staff = try await issueToken(app, try await makeUser(app, "staff", .governanceCenterStaff, TerritoryScope(level: .community, territoryID: f.t.community.id)))
            #expect(try await apiCall(app, .GET, "/api/v1/houses/\(idText(h.id))", token: staff).status == .ok)
            #expect(try await apiCall(app, .PATCH, "/api/v1/houses/\(idText(h.id))", token: staff, json: #"{"occupancy":"vacant"}"#).status == .forbidden)
            #expect(try await apiCall(app, .POST, "/api/v1/houses/\(idText(h.id))/reveal", token: staff, json: #"{"field":"ownerPhone","purpose":"回访"}"#).status == .forbidden)
            #expect(try await apiCall(app, .POST, "/api/v1/houses", token: staff, json: Self.houseJSON(address: f.addressA, code: "302")).status == .forbidden)
        }
    }

    @Test("validation is problem+json naming the field; rental fields without occupancy rented are refused; a duplicate house code is 409")
    func validation() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            for (body, field) in [
                (Self.houseJSON(address: f.addressA, rented: false, set: ["rentalPurpose": #""living""#]), "rentalPurpose"),
                (Self.houseJSON(address: f.addressA, rented: false, set: ["groupRental": "true"]), "groupRental"),
                (Self.houseJSON(address: f.addressA, rented: false, set: ["tenants": Self.tenantsJSON()]), "tenants"),
                (Self.houseJSON(address: f.addressA, tenants: "[]"), "tenants"),
                (Self.houseJSON(address: f.addressA, tenants: Self.tenantsJSON("53048120150720004Y")), "tenants[0].idNumber"),
                (Self.houseJSON(address: f.addressA, tenants: Self.tenantsJSON(phone: "123")), "tenants[0].phone"),
                (Self.houseJSON(address: f.addressA, set: ["leaseEnd": #""2025-06-30""#]), "leaseEnd"),
                (Self.houseJSON(address: f.addressA, set: ["area": "85.555"]), "area"),
                (Self.houseJSON(address: f.addressA, set: ["ownerIdNumber": #""530481199001010012""#]), "ownerIdNumber"),
                (Self.houseJSON(address: f.addressA, code: ""), "houseCode"),
            ] {
                let r = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA, json: body)
                #expect(r.status == .unprocessableEntity, "\(field): \(r.body.string)")
                #expect(problem(r)?.errors?.first?.field == field, "\(r.body.string)")
            }
            let badEnum = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA, json: Self.houseJSON(address: f.addressA, set: ["use": #""castle""#]))
            #expect(badEnum.status == .badRequest)
            #expect(problem(badEnum)?.errors?.first?.field == "use")
            #expect(try await tableCount(app, "actual_houses") == 0)

            let first = try await Self.create(app, f, Self.houseJSON(address: f.addressA, code: "a-1"))
            let dup = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA, json: Self.houseJSON(address: f.addressA, code: " A-1 ", rented: false))
            #expect(dup.status == .conflict)
            #expect(problem(dup)?.errors?.first?.field == "houseCode")
            #expect(problem(dup)?.detail.contains(idText(first.id)) == true)
            // The same code at another address is another house.
            _ = try await Self.create(app, f, Self.houseJSON(address: f.addressA2, code: "A-1", rented: false))
            #expect(try await tableCount(app, "actual_houses") == 2)
            #expect(try await tableCount(app, "house_tenants") == 1)
        }
    }

    @Test("PATCH changes occupancy and tenancy (merge patch), validated like a create, audited with the changed fields")
    func occupancyChanges() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let h = try await Self.create(app, f, Self.houseJSON(address: f.addressA))
            let path = "/api/v1/houses/\(idText(h.id))"
            // Rented → vacant: the rental fields go.
            let vacant = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"occupancy":"vacant"}"#, headers: ["Content-Type": "application/merge-patch+json"])
            #expect(vacant.status == .ok, "\(vacant.body.string)")
            let v = try json(vacant, as: HouseOut.self)
            #expect(v.occupancy == "vacant" && v.tenants.isEmpty && v.rentalPurpose == nil && v.leaseStart == nil && !v.groupRental)
            #expect(v.ownerIdNumber == "530481********0011" && v.area == 85.5)
            #expect(try await tableCount(app, "house_tenants") == 0)
            // Vacant → rented without tenants is refused on its field; sending rental data with another occupancy too.
            let noTenants = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"occupancy":"rented","rentalPurpose":"business","leaseStart":"2026-03-01"}"#)
            #expect(problem(noTenants)?.errors?.first?.field == "tenants")
            let mixed = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"occupancy":"borrowed","leaseStart":"2026-03-01"}"#)
            #expect(problem(mixed)?.errors?.first?.field == "leaseStart")
            let move = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"addressId":"\#(idText(f.addressA2))"}"#)
            #expect(problem(move)?.errors?.first?.field == "addressId")
            #expect(try await apiCall(app, .PATCH, path, token: f.tokenA, json: "[1]").status == .unprocessableEntity)
            // An unknown key is refused (never silently ignored, never written to the audit trail).
            let typo = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"occupency":"vacant","530481199001010011":1}"#)
            #expect(typo.status == .unprocessableEntity && problem(typo)?.errors?.first?.field == "body")
            #expect(!typo.body.string.contains("530481199001010011"))
            // Vacant → rented with a new tenant.
            let rented = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"occupancy":"rented","rentalPurpose":"business","leaseStart":"2026-03-01","tenants":[{"name":"王芳","idDocType":"111","idNumber":"530422198506150023"}]}"#)
            #expect(rented.status == .ok, "\(rented.body.string)")
            let r = try json(rented, as: HouseOut.self)
            #expect(r.occupancy == "rented" && r.rentalPurpose == "business" && r.tenants.map(\.name) == ["王芳"] && r.leaseEnd == nil && !r.groupRental)
            // A patch of one field keeps the rest, including the tenants.
            let flagged = try json(try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"groupRental":true,"ownerPhone":null}"#), as: HouseOut.self)
            #expect(flagged.groupRental && flagged.tenants.map(\.name) == ["王芳"] && flagged.ownerPhone == nil)

            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "house", objectID: idText(h.id), action: .update), on: app.fengqiao.store.db)
            #expect(rows.count == 3)
            #expect(rows.contains { $0.fields == ["occupancy"] && $0.detail == "occupancy rented → vacant" && $0.actorID == f.workerA.id })
            #expect(rows.contains { Set($0.fields) == ["groupRental", "ownerPhone"] })
            let created = try await app.fengqiao.audit.list(AuditQuery(objectType: "house", objectID: idText(h.id), action: .create), on: app.fengqiao.store.db)
            #expect(created.count == 1 && created[0].fields.contains("tenants") && created[0].fields.contains("ownerIdNumber"))
        }
    }

    @Test("reveal needs a purpose, returns one clear value, audits field, tenant and purpose but never the value")
    func reveal() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let h = try await Self.create(app, f, Self.houseJSON(address: f.addressA))
            let path = "/api/v1/houses/\(idText(h.id))/reveal"
            let tenant = try #require(h.tenants.first).id
            #expect(problem(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"ownerIdNumber"}"#))?.errors?.first?.field == "purpose")
            #expect(problem(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"tenantPhone","purpose":"联系"}"#))?.errors?.first?.field == "tenantId")
            #expect(problem(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"tenantPhone","tenantId":"\#(idText(UUID()))","purpose":"联系"}"#))?.errors?.first?.field == "tenantId")
            #expect(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"name","purpose":"联系"}"#).status == .badRequest)

            struct Revealed: Decodable { var field: String; var value: String; var tenantId: UUID? }
            let owner = try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"ownerIdNumber","purpose":"核查产权"}"#)
            #expect(owner.status == .ok && owner.headers.first(name: .cacheControl) == "no-store")
            #expect(try json(owner, as: Revealed.self).value == Self.ownerID)
            let phone = try json(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"tenantPhone","tenantId":"\#(idText(tenant))","purpose":"联系承租人"}"#), as: Revealed.self)
            #expect(phone.value == Self.tenantPhone && phone.tenantId == tenant)
            let number = try json(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"tenantIdNumber","tenantId":"\#(idText(tenant))","purpose":"核查身份"}"#), as: Revealed.self)
            #expect(number.value == Self.tenantID)

            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "house", objectID: idText(h.id), action: .maskReveal), on: app.fengqiao.store.db)
            #expect(rows.count == 3)
            let byField = Dictionary(uniqueKeysWithValues: rows.map { ($0.fields.joined(), $0) })
            #expect(byField["ownerIdNumber"]?.purpose == "核查产权")
            #expect(byField["tenantPhone"]?.purpose == "联系承租人" && byField["tenantPhone"]?.detail == "tenant \(idText(tenant))")
            #expect(rows.allSatisfy { $0.actorID == f.workerA.id && $0.result == .success })
            let text = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
            for n in [Self.ownerID, Self.tenantID, Self.tenantPhone] { #expect(!text.contains(n)) }
        }
    }

    @Test("exact search by owner or tenant ID number and phone goes in a POST body (blind index), scoped")
    func search() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let h = try await Self.create(app, f, Self.houseJSON(address: f.addressA))
            let other = try await Self.create(app, f, Self.houseJSON(address: f.addressA2, code: "302", rented: false, set: ["ownerIdNumber": #""530422198506150023""#, "ownerPhone": #""13700000002""#]))
            for (body, expected) in [
                (#"{"idNumber":"\#(Self.ownerID)"}"#, [h.id]),
                (#"{"idNumber":"53048120150720004x"}"#, [h.id]),
                (#"{"phone":"139 0000 0001"}"#, [h.id]),
                (#"{"phone":"+8613700000002"}"#, [other.id]),
                (#"{"houseCode":"302"}"#, [other.id]),
                (#"{"occupancy":"rented","groupRental":true}"#, [h.id]),
                (#"{"idNumber":"530481199203030037"}"#, []),
            ] as [(String, [UUID])] {
                let r = try await apiCall(app, .POST, "/api/v1/houses/search", token: f.tokenA, json: body)
                #expect(r.status == .ok, "\(body)")
                #expect(try json(r, as: ListPage<HouseOut>.self).items.map(\.id) == expected, "\(body)")
                for n in [Self.ownerID, Self.tenantID, Self.tenantPhone] { #expect(!r.body.string.contains(n)) }
            }
            let b = try json(try await apiCall(app, .POST, "/api/v1/houses/search", token: f.tokenB, json: #"{"idNumber":"\#(Self.ownerID)"}"#), as: ListPage<HouseOut>.self)
            #expect(b.total == 0)
            #expect(problem(try await apiCall(app, .POST, "/api/v1/houses/search", token: f.tokenA, json: #"{"phone":"12"}"#))?.errors?.first?.field == "phone")
            #expect(problem(try await apiCall(app, .POST, "/api/v1/houses/search", token: f.tokenA, json: #"{"limit":0}"#))?.errors?.first?.field == "limit")
        }
    }

    @Test("a tenant may link the actual resident of the same person in the caller's territory")
    func residentLinks() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let resident = try json(try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                                      json: PopulationTests.residentJSON(address: f.addressA, idNumber: Self.tenantID, phone: nil)), as: PopulationTests.ResidentOut.self)
            let residentB = try json(try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenB,
                                                       json: PopulationTests.residentJSON(address: f.addressB, idNumber: "530422198506150023", phone: nil)), as: PopulationTests.ResidentOut.self)
            let linked = try await Self.create(app, f, Self.houseJSON(address: f.addressA, tenants: Self.tenantsJSON(resident: resident.id)))
            #expect(linked.tenants.first?.residentId == resident.id)
            // Another grid's resident, or a resident with another number: refused on the link.
            let foreign = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA,
                                            json: Self.houseJSON(address: f.addressA2, tenants: Self.tenantsJSON("530422198506150023", resident: residentB.id)))
            #expect(problem(foreign)?.errors?.first?.field == "tenants[0].residentId")
            let mismatch = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA,
                                             json: Self.houseJSON(address: f.addressA2, tenants: Self.tenantsJSON("530422198506150023", resident: resident.id)))
            #expect(problem(mismatch)?.errors?.first?.reason.contains("another document number") == true)
        }
    }

    @Test("counts per grid: occupancy, rentals, group rentals, tenants; only visible grids")
    func counts() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            _ = try await Self.create(app, f, Self.houseJSON(address: f.addressA, code: "1"))
            _ = try await Self.create(app, f, Self.houseJSON(address: f.addressA, code: "2", rented: false))
            _ = try await Self.create(app, f, Self.houseJSON(address: f.addressA2, code: "3", tenants: #"[{"name":"甲","idDocType":"111","idNumber":"530422198506150023"},{"name":"乙","idDocType":"516","idNumber":"H12345678"}]"#,
                                                             set: ["groupRental": "false"]))
            _ = try await Self.create(app, f, Self.houseJSON(address: f.addressB, code: "4", rented: false), token: f.tokenB)
            let repo = RecordCountsRepository(cipher: app.fengqiao.cipher)
            let all = try await repo.byGrid(visible: .everything, on: app.fengqiao.store.db)
            let a = try #require(all[f.t.gridA.id]).houses
            #expect(a.total == 3 && a.rentals == 2 && a.count(.selfOccupied) == 1 && a.count(.vacant) == 0 && a.groupRentals == 1 && a.tenants == 3)
            #expect(all[f.t.gridB.id]?.houses.total == 1 && all[f.t.gridC.id] == nil)
            let visibleA = try await app.fengqiao.territories.visible(for: f.workerA.scope, on: app.fengqiao.store.db)
            let scoped = try await app.fengqiao.recordCounts(visible: visibleA)
            #expect(Set(scoped.keys) == [f.t.gridA.id])
            #expect(try await repo.byGrid([f.t.gridB.id], visible: visibleA, on: app.fengqiao.store.db).isEmpty)
        }
    }

    @Test("a replayed create with the same Idempotency-Key registers the house once")
    func idempotentCreate() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let h: HTTPHeaders = ["Idempotency-Key": "house-1"]
            let a = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA, json: Self.houseJSON(address: f.addressA), headers: h)
            let b = try await apiCall(app, .POST, "/api/v1/houses", token: f.tokenA, json: Self.houseJSON(address: f.addressA), headers: h)
            #expect(a.status == .created && b.status == .created)
            #expect(b.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try json(a, as: HouseOut.self).id == json(b, as: HouseOut.self).id)
            #expect(try await tableCount(app, "actual_houses") == 1)
        }
    }

    @Test("privacy canary: owner and tenant numbers are stored sealed, in no clear column")
    func sealedAtRest() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            _ = try await Self.create(app, f, Self.houseJSON(address: f.addressA))
            var seen = 0
            for table in ["actual_houses", "house_tenants"] {
                for row in try await app.fengqiao.store.sql.raw("SELECT * FROM \(ident: table)").all() {
                    for column in row.allColumns {
                        guard let text = try? row.decode(column: column, as: String?.self) else { continue }
                        seen += 1
                        for n in [Self.ownerID, Self.ownerPhone, "8613800138000", Self.tenantID, Self.tenantPhone] {
                            #expect(!text.contains(n), "\(table).\(column) holds \(n)")
                        }
                    }
                }
            }
            #expect(seen > 10)
            let sealed = try await app.fengqiao.store.sql.raw("SELECT owner_id_number_enc AS v FROM actual_houses").first()?.decode(column: "v", as: String.self)
            #expect(sealed?.hasPrefix("fq1:k1:") == true)
        }
    }
}
