import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// 实有单位 through the API: USCC per GB 32100 (a check mismatch needs explicit confirmation),
/// unique among active organisations (409), legal representative values masked and sealed,
/// audited reveals, merge-patch changes, searches in a body, and 404 for every read and write
/// from another grid or community (domain spec §3.1, §5.3, §7).
@Suite("organizations API", .serialized)
struct OrganizationAPITests {
    static let uscc = "91350100M000100Y43"
    static let repID = "530422198506150023"
    static let repPhone = "13700000002"

    struct OrganizationOut: Decodable {
        var id: UUID
        var uscc: String
        var usccCheckConfirmed: Bool
        var name: String
        var type: String
        var typeName: String
        var industrySection: String?
        var industryCode: String?
        var gridId: UUID
        var addressId: UUID
        var legalRepresentativeName: String
        var legalRepresentativeIdNumber: String?
        var legalRepresentativePhone: String?
        var securityContactPhone: String?
        var keyUnit: Bool
        var specialTrade: String?
        var specialTradeName: String?
        var status: String
        var masked: Bool
        var warnings: [PopulationTests.WarningOut]?
    }

    /// An organisation body; `set` replaces (or adds) keys with raw JSON values.
    static func orgJSON(address: UUID, uscc: String = uscc, set: [String: String] = [:]) -> String {
        var pairs: [(String, String)] = [
            ("uscc", "\"\(uscc)\""), ("name", "\"仪凤旅馆\""), ("type", "\"individualBusiness\""), ("industryCode", "\"6110\""),
            ("addressId", "\"\(idText(address))\""), ("legalRepresentativeName", "\"王五\""), ("legalRepresentativeIdDocType", "\"111\""),
            ("legalRepresentativeIdNumber", "\"\(repID)\""), ("legalRepresentativePhone", "\"\(repPhone)\""), ("securityContactName", "\"赵六\""),
            ("securityContactPhone", "\"13600000003\""), ("employeeCount", "4"), ("keyUnit", "true"), ("specialTrade", "\"hotel\""),
            ("licences", #"[{"kind":"specialTradePermit","number":"澄公特旅字001号"}]"#),
        ]
        for (k, v) in set.sorted(by: { $0.key < $1.key }) {
            if let i = pairs.firstIndex(where: { $0.0 == k }) { pairs[i].1 = v } else { pairs.append((k, v)) }
        }
        return "{" + pairs.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    static func create(_ app: Application, _ token: String, _ body: String) async throws -> OrganizationOut {
        let r = try await apiCall(app, .POST, "/api/v1/organizations", token: token, json: body)
        #expect(r.status == .created, "\(r.body.string)")
        return try json(r, as: OrganizationOut.self)
    }

    @Test("create, read, list: masked, industry section derived; another grid or community gets 404 for read and write")
    func createReadScope() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let c = try await apiCall(app, .POST, "/api/v1/organizations", token: f.tokenA, json: Self.orgJSON(address: f.addressA))
            #expect(c.status == .created, "\(c.body.string)")
            let o = try json(c, as: OrganizationOut.self)
            #expect(location(c) == "/api/v1/organizations/\(idText(o.id))")
            #expect(o.uscc == Self.uscc && !o.usccCheckConfirmed && o.gridId == f.t.gridA.id && o.masked && o.warnings?.isEmpty == true)
            #expect(o.industrySection == "H" && o.typeName == "个体工商户" && o.specialTradeName == "旅馆业" && o.status == "active")
            #expect(o.legalRepresentativeIdNumber == "530422********0023" && o.legalRepresentativePhone == "137****0002" && o.securityContactPhone == "136****0003")
            #expect(!c.body.string.contains(Self.repID) && !c.body.string.contains(Self.repPhone))

            let path = "/api/v1/organizations/\(idText(o.id))"
            #expect(try json(try await apiCall(app, .GET, path, token: f.tokenA), as: OrganizationOut.self).name == "仪凤旅馆")
            let list = try json(try await apiCall(app, .GET, "/api/v1/organizations?keyUnit=true&type=individualBusiness", token: f.tokenA), as: ListPage<OrganizationOut>.self)
            #expect(list.total == 1 && list.items.map(\.id) == [o.id])
            #expect(try json(try await apiCall(app, .GET, "/api/v1/organizations?type=enterprise", token: f.tokenA), as: ListPage<OrganizationOut>.self).total == 0)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/organizations?q=%E4%BB%AA%E5%87%A4", token: f.tokenA), as: ListPage<OrganizationOut>.self).total == 1)
            #expect(problem(try await apiCall(app, .GET, "/api/v1/organizations?type=bank", token: f.tokenA))?.errors?.first?.field == "type")

            // Grid B's worker: 404 to read, change and reveal; empty list; cannot register at grid A's address.
            #expect(try await apiCall(app, .GET, path, token: f.tokenB).status == .notFound)
            #expect(try await apiCall(app, .PATCH, path, token: f.tokenB, json: #"{"status":"closed"}"#).status == .notFound)
            #expect(try await apiCall(app, .POST, path + "/reveal", token: f.tokenB, json: #"{"field":"legalRepresentativePhone","purpose":"核查"}"#).status == .notFound)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/organizations", token: f.tokenB), as: ListPage<OrganizationOut>.self).total == 0)
            let intoA = try await apiCall(app, .POST, "/api/v1/organizations", token: f.tokenB, json: Self.orgJSON(address: f.addressA, uscc: "91512081MA62K0260E"))
            #expect(problem(intoA)?.errors?.first?.field == "addressId")
            // Another community's officer: 404 for read and write.
            let other = try await issueToken(app, try await makeUser(app, "officer.c2", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: f.t.otherCommunity.id)))
            #expect(try await apiCall(app, .GET, path, token: other).status == .notFound)
            #expect(try await apiCall(app, .PATCH, path, token: other, json: #"{"keyUnit":false}"#).status == .notFound)
            #expect(try json(try await apiCall(app, .GET, path, token: f.tokenA), as: OrganizationOut.self).status == "active")
            // At rest the legal representative's number and phones are sealed: no clear column holds them.
            for row in try await app.fengqiao.store.sql.raw("SELECT * FROM actual_organizations").all() {
                for column in row.allColumns {
                    guard let text = try? row.decode(column: column, as: String?.self) else { continue }
                    for n in [Self.repID, Self.repPhone, "13600000003"] { #expect(!text.contains(n), "\(column) holds \(n)") }
                }
            }
            // Volunteers have no right at all.
            let vol = try await issueToken(app, try await makeUser(app, "vol", .volunteer, TerritoryScope(level: .grid, territoryID: f.t.gridA.id)))
            #expect(try await apiCall(app, .GET, path, token: vol).status == .forbidden)
        }
    }

    @Test("USCC: a check mismatch is 422 on uscc unless confirmed, then created with the warning; structure errors are never confirmable")
    func usccCheck() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let bad = "91350100M000100Y4Z"
            let refused = try await apiCall(app, .POST, "/api/v1/organizations", token: f.tokenA, json: Self.orgJSON(address: f.addressA, uscc: bad))
            #expect(refused.status == .unprocessableEntity)
            let p = problem(refused)
            #expect(p?.errors?.first?.field == "uscc")
            #expect(p?.errors?.first?.reason.contains("expected 3") == true && p?.errors?.first?.reason.contains("confirmWarnings") == true)
            #expect(try await tableCount(app, "actual_organizations") == 0)

            let ok = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA, uscc: bad, set: ["confirmWarnings": "true"]))
            #expect(ok.usccCheckConfirmed && ok.uscc == bad)
            #expect(ok.warnings?.map(\.code) == ["check-character-mismatch"] && ok.warnings?.first?.field == "uscc")
            let audit = try await app.fengqiao.audit.list(AuditQuery(objectType: "organization", objectID: idText(ok.id), action: .create), on: app.fengqiao.store.db)
            #expect(audit.count == 1 && audit[0].detail?.contains("uscc check mismatch confirmed") == true)
            // A patch of another field keeps the confirmed code; changing to another bad code needs a new confirmation.
            let path = "/api/v1/organizations/\(idText(ok.id))"
            #expect(try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"employeeCount":9}"#).status == .ok)
            let other = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"uscc":"91350100M000100Y4A"}"#)
            #expect(problem(other)?.errors?.first?.field == "uscc")

            for (code, confirm) in [("91350100M000100Y4", "true"), ("91350100M0001O0Y43", "true"), ("", "true")] {
                let r = try await apiCall(app, .POST, "/api/v1/organizations", token: f.tokenA, json: Self.orgJSON(address: f.addressA2, uscc: code, set: ["confirmWarnings": confirm]))
                #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "uscc", "\(code)")
            }
            for (key, value, field) in [
                ("industryCode", #""98""#, "industryCode"), ("industrySection", #""C""#, "industryCode"), ("employeeCount", "-1", "employeeCount"),
                ("legalRepresentativeIdNumber", #""530422198506150024""#, "legalRepresentativeIdNumber"), ("securityContactName", "null", "securityContactName"),
                ("licences", #"[{"kind":"fireSafety"}]"#, "licences[0].number"), ("name", #""""#, "name"),
            ] {
                let r = try await apiCall(app, .POST, "/api/v1/organizations", token: f.tokenA, json: Self.orgJSON(address: f.addressA2, uscc: "91512081MA62K0260E", set: [key: value]))
                #expect(r.status == .unprocessableEntity, "\(key)")
                #expect(problem(r)?.errors?.first?.field == field, "\(key): \(r.body.string)")
            }
        }
    }

    @Test("a duplicate USCC among active organisations is 409, across territories; a closed one frees the code")
    func duplicates() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let first = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA))
            let before = try await tableCount(app, "actual_organizations")
            for (token, address, code) in [(f.tokenA, f.addressA2, Self.uscc), (f.tokenB, f.addressB, Self.uscc), (f.tokenA, f.addressA2, "91350100m000100y43")] {
                let dup = try await apiCall(app, .POST, "/api/v1/organizations", token: token, json: Self.orgJSON(address: address, uscc: code))
                #expect(dup.status == .conflict)
                #expect(problem(dup)?.errors?.first?.field == "uscc")
                #expect(problem(dup)?.detail.contains(idText(first.id)) == true)
                #expect(!dup.body.string.contains(Self.repID))
            }
            #expect(try await tableCount(app, "actual_organizations") == before)
            // Changing another organisation's code to the taken one is also 409.
            let second = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA2, uscc: "91512081MA62K0260E"))
            let clash = try await apiCall(app, .PATCH, "/api/v1/organizations/\(idText(second.id))", token: f.tokenA, json: #"{"uscc":"\#(Self.uscc)"}"#)
            #expect(clash.status == .conflict && problem(clash)?.errors?.first?.field == "uscc")
            // Closing the first frees the code; reopening it while the code is taken is 409.
            let closed = try await apiCall(app, .PATCH, "/api/v1/organizations/\(idText(first.id))", token: f.tokenA, json: #"{"status":"closed"}"#)
            let closedOut = try json(closed, as: OrganizationOut.self)
            #expect(closed.status == .ok && closedOut.status == "closed")
            let again = try await Self.create(app, f.tokenB, Self.orgJSON(address: f.addressB))
            #expect(again.gridId == f.t.gridB.id)
            let reopen = try await apiCall(app, .PATCH, "/api/v1/organizations/\(idText(first.id))", token: f.tokenA, json: #"{"status":"active"}"#)
            #expect(reopen.status == .conflict)
            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "organization", objectID: idText(first.id), action: .update), on: app.fengqiao.store.db)
            #expect(rows.count == 1 && rows[0].fields == ["status"] && rows[0].detail == "status active → closed")
        }
    }

    @Test("two concurrent registrations of one USCC: one 201, one 409")
    func concurrentDuplicates() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for address in [f.addressA, f.addressA2] {
                    group.addTask { try await apiCall(app, .POST, "/api/v1/organizations", token: f.tokenA, json: Self.orgJSON(address: address)).status }
                }
                return try await group.reduce(into: [HTTPResponseStatus]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .created }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == .conflict }.count == 1, "\(statuses)")
        }
    }

    @Test("PATCH moves an organisation to another address of the territory, never out of it")
    func patchAddress() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let o = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA))
            let path = "/api/v1/organizations/\(idText(o.id))"
            let moved = try json(try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"addressId":"\#(idText(f.addressA2))","specialTrade":null,"licences":[]}"#), as: OrganizationOut.self)
            #expect(moved.addressId == f.addressA2 && moved.specialTrade == nil && moved.legalRepresentativeIdNumber == "530422********0023")
            let out = try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"addressId":"\#(idText(f.addressB))"}"#)
            #expect(problem(out)?.errors?.first?.field == "addressId")
            #expect(try await apiCall(app, .PATCH, path, token: f.tokenA, json: #"{"keyUnit":"yes"}"#).status == .badRequest)
            #expect(try await apiCall(app, .PATCH, path, token: f.tokenA, json: "{}").status == .unprocessableEntity)
        }
    }

    @Test("reveal with a purpose is audited without the value; search by USCC, name and legal representative ID goes in a body")
    func revealAndSearch() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            let o = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA))
            let other = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA2, uscc: "91512081MA62K0260E",
                                                                         set: ["name": #""澄江印刷厂""#, "type": #""enterprise""#, "legalRepresentativeIdNumber": "null", "legalRepresentativeIdDocType": "null",
                                                                               "specialTrade": #""printing""#, "keyUnit": "false"]))
            let path = "/api/v1/organizations/\(idText(o.id))/reveal"
            #expect(problem(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"legalRepresentativeIdNumber","purpose":"x"}"#))?.errors?.first?.field == "purpose")
            struct Revealed: Decodable { var value: String }
            let id = try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"legalRepresentativeIdNumber","purpose":"核查法人"}"#)
            let revealed = try json(id, as: Revealed.self)
            #expect(id.headers.first(name: .cacheControl) == "no-store" && revealed.value == Self.repID)
            #expect(try json(try await apiCall(app, .POST, path, token: f.tokenA, json: #"{"field":"securityContactPhone","purpose":"联系治保"}"#), as: Revealed.self).value == "13600000003")
            let none = try await apiCall(app, .POST, "/api/v1/organizations/\(idText(other.id))/reveal", token: f.tokenA, json: #"{"field":"legalRepresentativeIdNumber","purpose":"核查法人"}"#)
            #expect(problem(none)?.errors?.first?.field == "field")
            let rows = try await app.fengqiao.audit.list(AuditQuery(objectType: "organization", objectID: idText(o.id), action: .maskReveal), on: app.fengqiao.store.db)
            #expect(rows.count == 2 && Set(rows.compactMap(\.purpose)) == ["核查法人", "联系治保"])
            #expect(!String(decoding: try JSONEncoder().encode(rows), as: UTF8.self).contains(Self.repID))

            for (body, expected) in [
                (#"{"uscc":" 91350100m000100y43 "}"#, [o.id]),
                (#"{"legalRepresentativeIdNumber":"\#(Self.repID)"}"#, [o.id]),
                (#"{"name":"澄江"}"#, [other.id]),
                (#"{"type":"enterprise"}"#, [other.id]),
                (#"{"specialTrade":"hotel","keyUnit":true}"#, [o.id]),
                (#"{"keyUnit":false}"#, [other.id]),
            ] as [(String, [UUID])] {
                let r = try await apiCall(app, .POST, "/api/v1/organizations/search", token: f.tokenA, json: body)
                #expect(try json(r, as: ListPage<OrganizationOut>.self).items.map(\.id) == expected, "\(body)")
                #expect(!r.body.string.contains(Self.repID))
            }
            #expect(try json(try await apiCall(app, .POST, "/api/v1/organizations/search", token: f.tokenB, json: #"{"uscc":"\#(Self.uscc)"}"#), as: ListPage<OrganizationOut>.self).total == 0)
        }
    }

    @Test("counts per grid: active organisations by type, key units, special trades")
    func counts() async throws {
        try await withApp { app in
            let f = try await PopulationTests.fixture(app)
            _ = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA))
            let closed = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA2, uscc: "91512081MA62K0260E", set: ["type": #""enterprise""#]))
            _ = try await apiCall(app, .PATCH, "/api/v1/organizations/\(idText(closed.id))", token: f.tokenA, json: #"{"status":"closed"}"#)
            _ = try await Self.create(app, f.tokenA, Self.orgJSON(address: f.addressA2, uscc: "91512081MA62K0260E",
                                                               set: ["type": #""enterprise""#, "keyUnit": "false", "specialTrade": "null"]))
            let counts = try await app.fengqiao.recordCounts(visible: .everything)
            let a = try #require(counts[f.t.gridA.id]).organizations
            #expect(a.total == 2 && a.count(.individualBusiness) == 1 && a.count(.enterprise) == 1 && a.keyUnits == 1 && a.specialTrades == 1)
            #expect(counts[f.t.gridA.id]?.houses.total == 0 && counts[f.t.gridB.id] == nil)
        }
    }
}
