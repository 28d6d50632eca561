import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import SQLKit
import Testing
import Vapor
import VaporTesting
import ZIPFoundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// 一标三实 record pages, search by address, 核采 (verification) work lists and marks, per-grid
/// figures and masked, watermarked, audited exports (domain spec §3.1, §5.1.1, §7.3, §8).
@Suite("records: pages, 核采, exports", .serialized)
struct RecordsTests {
    typealias P = PopulationTests
    static let canaryID = PopulationTests.canaryID
    static let canaryPhone = PopulationTests.canaryPhone

    struct Setup {
        var f: PopulationTests.Fixture
        var resident: UUID
    }

    /// The population fixture plus one resident (the canary ID number and phone) at address A,
    /// which is linked to building A.
    static func setup(_ app: Application) async throws -> Setup {
        let f = try await P.fixture(app)
        let c = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                  json: P.residentJSON(address: f.addressA, extra: #","hukouSeparated":true,"employer":"阳光物业","hukouAddress":"云南省昆明市""#))
        #expect(c.status == .created, "\(c.body.string)")
        return Setup(f: f, resident: try json(c, as: P.ResidentOut.self).id)
    }

    /// Sets a record's collection instant `days` ago (as if collected then).
    static func backdate(_ app: Application, table: String, _ id: UUID, days: Double) async throws {
        try await app.fengqiao.store.sql.update(table).set("created_at", to: SQLBind(Date().addingTimeInterval(-days * 86_400)))
            .where("id", .equal, SQLBind(id)).run()
    }

    static func audit(_ app: Application, _ q: AuditQuery) async throws -> [AuditEntry] {
        try await app.fengqiao.audit.list(q, on: app.fengqiao.store.db)
    }

    static func noCanary(_ s: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!s.contains(canaryID), "\(what) contains the ID number", sourceLocation: sourceLocation)
        #expect(!s.contains(canaryPhone), "\(what) contains the phone", sourceLocation: sourceLocation)
    }

    // MARK: Pages

    @Test("search, resident, address, building, grid and community pages show masked values, never the clear ones")
    func pagesAreMasked() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            let rid = idText(s.resident)
            var b = Browser(app)
            _ = try await b.login("worker.a")
            let home = try await b.get("/")
            #expect(home.body.string.contains("href=\"/population\""), "nav entry for person:read")

            let page = try await b.get("/population")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("method=\"post\" action=\"/population\""))

            // Name prefix: masked row.
            let byName = try await b.post("/population", ["name": "李"])
            #expect(byName.status == .ok)
            #expect(byName.body.string.contains("/residents/\(rid)"))
            #expect(byName.body.string.contains("530481********0011") && byName.body.string.contains("138****8000"))
            Self.noCanary(byName.body.string, "name search")
            // Exact ID number: found, and the typed value is not echoed into the page.
            let byID = try await b.post("/population", ["idNumber": Self.canaryID])
            #expect(byID.body.string.contains("/residents/\(rid)"))
            Self.noCanary(byID.body.string, "ID search")
            let byPhone = try await b.post("/population", ["phone": "138 0013 8000"])
            #expect(byPhone.body.string.contains("/residents/\(rid)"))
            Self.noCanary(byPhone.body.string, "phone search")
            // Address text and building element; a wrong street finds nothing.
            let byAddress = try await b.post("/population", ["addressText": "阳光", "building": "1栋"])
            #expect(byAddress.body.string.contains("/residents/\(rid)"))
            let wrong = try await b.post("/population", ["addressText": "不存在路"])
            #expect(!wrong.body.string.contains("/residents/\(rid)"))
            let badPhone = try await b.post("/population", ["phone": "12345"])
            #expect(badPhone.status == .unprocessableEntity)
            // Search values never go in a URL: a GET with them shows only the empty form.
            let viaURL = try await b.get("/population?idNumber=\(Self.canaryID)")
            #expect(!viaURL.body.string.contains("/residents/\(rid)"))

            let r = try await b.get("/residents/\(rid)")
            #expect(r.status == .ok)
            let rb = r.body.string
            #expect(rb.contains("李四") && rb.contains("530481********0011") && rb.contains("138****8000") && rb.contains("阳光物业") && rb.contains("云南省昆明市"))
            #expect(rb.contains("/addresses/\(idText(s.f.addressA))"), "link to the address")
            #expect(rb.contains("action=\"/residents/\(rid)/reveal\""))
            Self.noCanary(rb, "resident page")

            let a = try await b.get("/addresses/\(idText(s.f.addressA))")
            #expect(a.status == .ok)
            let ab = a.body.string.lowercased()
            #expect(ab.contains("凤麓路1号阳光小区1栋2单元3层301室"), "formatted in the collection order")
            #expect(ab.contains("测试社区"), "division part of the formatted address")
            #expect(ab.contains("/residents/\(rid)") && ab.contains("530481********0011"))
            #expect(ab.contains("/grids/\(idText(s.f.t.gridA.id))") && ab.contains("/buildings/\(idText(s.f.t.buildingA.id))"))
            Self.noCanary(ab, "address page")

            let bld = try await b.get("/buildings/\(idText(s.f.t.buildingA.id))")
            #expect(bld.status == .ok)
            #expect(bld.body.string.contains("/addresses/\(idText(s.f.addressA))"), "the building lists its address")
            #expect(!bld.body.string.contains("/addresses/\(idText(s.f.addressA2))"), "an address not linked to the building is not listed")
            Self.noCanary(bld.body.string, "building page")

            let g = try await b.get("/grids/\(idText(s.f.t.gridA.id))")
            #expect(g.status == .ok)
            #expect(g.body.string.lowercased().contains("/grids/\(idText(s.f.t.gridA.id))/verification"))
            #expect(g.body.string.contains("action=\"/population/export-requests\""))
            Self.noCanary(g.body.string, "grid page")
            let c = try await b.get("/communities/\(idText(s.f.t.community.id))")
            #expect(c.status == .ok && c.body.string.contains("table class=\"figures\""))

            // Search from the building page (its id in the body).
            let inBuilding = try await b.post("/population", ["buildingId": idText(s.f.t.buildingA.id)])
            #expect(inBuilding.body.string.contains("/residents/\(rid)"))
        }
    }

    @Test("the web reveal needs a purpose, shows the value on its answer page only and is audited with field and purpose")
    func webReveal() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            let rid = idText(s.resident)
            var b = Browser(app)
            _ = try await b.login("worker.a")
            _ = try await b.get("/residents/\(rid)")
            let none = try await b.post("/residents/\(rid)/reveal", ["field": "idNumber", "purpose": " "])
            #expect(none.status == .unprocessableEntity)
            #expect(none.body.string.contains("purpose"))
            Self.noCanary(none.body.string, "refused reveal")
            #expect(try await Self.audit(app, AuditQuery(objectType: "resident", objectID: rid, action: .maskReveal)).isEmpty)

            let ok = try await b.post("/residents/\(rid)/reveal", ["field": "idNumber", "purpose": "核查身份"])
            #expect(ok.status == .ok)
            #expect(ok.body.string.contains(Self.canaryID))
            #expect(!ok.body.string.contains(Self.canaryPhone), "only the asked field")
            #expect(ok.headers.first(name: .cacheControl) == "no-store")
            let phone = try await b.post("/residents/\(rid)/reveal", ["field": "phone", "purpose": "联系住户"])
            #expect(phone.body.string.contains(Self.canaryPhone))
            // The next plain view is masked again.
            Self.noCanary(try await b.get("/residents/\(rid)").body.string, "resident page after reveal")

            let rows = try await Self.audit(app, AuditQuery(objectType: "resident", objectID: rid, action: .maskReveal))
            #expect(rows.count == 2)
            #expect(Set(rows.map { $0.fields.joined() }) == ["idNumber", "phone"])
            #expect(Set(rows.compactMap(\.purpose)) == ["核查身份", "联系住户"])
            #expect(rows.allSatisfy { $0.actorID == s.f.workerA.id })
            Self.noCanary(String(decoding: try JSONEncoder().encode(rows), as: UTF8.self), "audit rows")

            // Governance staff read but may not reveal; the page offers no reveal form.
            try await makeUser(app, "staff", .governanceCenterStaff, TerritoryScope(level: .community, territoryID: s.f.t.community.id))
            var st = Browser(app)
            _ = try await st.login("staff")
            let page = try await st.get("/residents/\(rid)")
            #expect(page.status == .ok && !page.body.string.contains("/reveal\""))
            #expect(try await st.post("/residents/\(rid)/reveal", ["field": "idNumber", "purpose": "核查身份"]).status == .forbidden)
            #expect(try await st.post("/residents/\(rid)/verification", ["outcome": "verified"]).status == .forbidden)
        }
    }

    @Test("another grid's worker and another community's officer get 404 for pages, reveal, marks, work lists and exports")
    func otherTerritory404() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            let rid = idText(s.resident)
            let aid = idText(s.f.addressA)
            let gid = idText(s.f.t.gridA.id)
            try await makeUser(app, "officer.c2", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: s.f.t.otherCommunity.id))
            for user in ["worker.b", "officer.c2"] {
                var b = Browser(app)
                _ = try await b.login(user)
                _ = try await b.get("/population")
                #expect(try await b.get("/residents/\(rid)").status == .notFound, "\(user)")
                #expect(try await b.get("/addresses/\(aid)").status == .notFound, "\(user)")
                #expect(try await b.post("/residents/\(rid)/reveal", ["field": "idNumber", "purpose": "核查身份"]).status == .notFound, "\(user)")
                for outcome in ["verified", "changed", "movedOut"] {
                    #expect(try await b.post("/residents/\(rid)/verification", ["outcome": outcome]).status == .notFound, "\(user) \(outcome)")
                }
                #expect(try await b.get("/residents/\(rid)/change").status == .notFound, "\(user)")
                #expect(try await b.post("/residents/\(rid)/change", ["employer": "x"]).status == .notFound, "\(user)")
                #expect(try await b.get("/residents/\(rid)/move-out").status == .notFound, "\(user)")
                #expect(try await b.post("/residents/\(rid)/move-out", ["reason": "movedAway"]).status == .notFound, "\(user)")
                #expect(try await b.post("/addresses/\(aid)/verification", ["outcome": "verified"]).status == .notFound, "\(user)")
                #expect(try await b.get("/grids/\(gid)/verification").status == .notFound, "\(user)")
                #expect(try await b.post("/population/export-requests", ["gridId": gid, "format": "csv", "purpose": "统计"]).status == .notFound, "\(user)")
                #expect(try await b.post("/population/export-requests", ["buildingId": idText(s.f.t.buildingA.id), "format": "xlsx", "purpose": "统计"]).status == .notFound, "\(user)")
                // A search over everything visible does not reach grid A.
                let all = try await b.post("/population", ["name": "李"])
                #expect(!all.body.string.contains("/residents/\(rid)"), "\(user)")
            }
            // The API, with grid B's token.
            let tb = s.f.tokenB
            #expect(try await apiCall(app, .POST, "/api/v1/residents/\(rid)/verification", token: tb, json: #"{"outcome":"verified"}"#).status == .notFound)
            #expect(try await apiCall(app, .POST, "/api/v1/addresses/\(aid)/verification", token: tb, json: #"{"outcome":"verified"}"#).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/grids/\(gid)/verification-list", token: tb).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/grids/\(gid)/population-counts", token: tb).status == .notFound)
            let exp = try await apiCall(app, .POST, "/api/v1/export-approvals", token: tb, json: #"{"filter":{"gridId":"\#(gid)"},"format":"csv","purpose":"统计"}"#)
            #expect(exp.status == .notFound)
            // Nothing was marked or exported.
            #expect(try await Self.audit(app, AuditQuery(action: .export)).isEmpty)
            let state = try await ResidentRepository(cipher: app.fengqiao.cipher).verificationStates([s.resident], on: app.fengqiao.store.db)[s.resident]
            #expect(state?.verifiedAt == nil)
        }
    }

    // MARK: 核采

    @Test("FENGQIAO_VERIFICATION_DAYS sets the 核采 period (default 90); a bad value is named")
    func periodConfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-cfg-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try AppConfig.load(dataDirectory: dir, environment: [:]).verificationPolicy.periodDays == 90)
        #expect(try AppConfig.load(dataDirectory: dir, environment: ["FENGQIAO_VERIFICATION_DAYS": "30"]).verificationPolicy.periodDays == 30)
        for bad in ["0", "abc", "4000"] {
            do {
                _ = try AppConfig.load(dataDirectory: dir, environment: ["FENGQIAO_VERIFICATION_DAYS": bad])
                Issue.record("\(bad) was accepted")
            } catch let e as ConfigError {
                #expect(e.problems.contains { $0.contains("FENGQIAO_VERIFICATION_DAYS") })
            }
        }
    }

    @Test("the work list holds the grid's records last checked before the period; marking verified takes one off")
    func workListPeriod() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            let f = s.f
            let c2 = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                       json: P.residentJSON(address: f.addressA2, idNumber: "530481198506150023", phone: nil, name: "王芳"))
            let fresh = try json(c2, as: P.ResidentOut.self).id
            let c3 = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenB,
                                       json: P.residentJSON(address: f.addressB, idNumber: "53048120150720004X", phone: nil, name: "赵六"))
            let inB = try json(c3, as: P.ResidentOut.self).id
            try await Self.backdate(app, table: "actual_residents", s.resident, days: 120)
            try await Self.backdate(app, table: "actual_residents", fresh, days: 10)
            try await Self.backdate(app, table: "actual_residents", inB, days: 200)
            try await Self.backdate(app, table: "standard_addresses", f.addressA, days: 91)

            struct Item: Decodable {
                struct R: Decodable { var id: UUID; var idNumber: String }
                struct A: Decodable { var id: UUID }
                struct V: Decodable { var overdue: Bool; var verifiedAt: Date? }
                var resident: R?
                var address: A?
                var verification: V
            }
            struct WL: Decodable { var periodDays: Int; var items: [Item]; var total: Int }
            let gid = idText(f.t.gridA.id)
            let wl = try json(try await apiCall(app, .GET, "/api/v1/grids/\(gid)/verification-list", token: f.tokenA), as: WL.self)
            #expect(wl.periodDays == 90)
            #expect(wl.items.compactMap(\.resident?.id) == [s.resident], "only the 120-day-old record of grid A")
            #expect(wl.total == 1 && wl.items.allSatisfy(\.verification.overdue))
            #expect(wl.items.first?.resident?.idNumber == "530481********0011")
            let wa = try json(try await apiCall(app, .GET, "/api/v1/grids/\(gid)/verification-list?kind=addresses", token: f.tokenA), as: WL.self)
            #expect(wa.items.compactMap(\.address?.id) == [f.addressA])
            let badKind = try await apiCall(app, .GET, "/api/v1/grids/\(gid)/verification-list?kind=houses", token: f.tokenA)
            #expect(problem(badKind)?.errors?.first?.field == "kind")

            // A 30-day period (FENGQIAO_VERIFICATION_DAYS) also lists nothing new; a 5-day one lists both.
            func list(days: Int) async throws -> [UUID] {
                var cfg = app.fengqiao.config
                cfg.verificationPolicy = VerificationPolicy(periodDays: days)
                let other = Fengqiao(config: cfg, store: app.fengqiao.store, cipher: app.fengqiao.cipher, passwords: app.fengqiao.passwords)
                let visible = VisibleTerritory(stationIDs: nil, communityIDs: nil, gridIDs: [f.t.gridA.id], level: .grid)
                return try await VerificationService(other).workList(gridID: f.t.gridA.id, kinds: [.residents], visible: visible, limit: 100, offset: 0).residents.map(\.0.id)
            }
            #expect(try await list(days: 30) == [s.resident])
            #expect(try await list(days: 5) == [s.resident, fresh], "the longest-waiting first")
            #expect(try await list(days: 365) == [])

            // The web work list shows it masked; marking verified from it returns to it, and the record leaves the list.
            var b = Browser(app)
            _ = try await b.login("worker.a")
            let page = try await b.get("/grids/\(gid)/verification")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("/residents/\(idText(s.resident))") && !page.body.string.contains("/residents/\(idText(fresh))"))
            Self.noCanary(page.body.string, "work list")
            let here = "/grids/\(gid)/verification?kind=residents&page=1"
            let mark = try await b.post("/residents/\(idText(s.resident))/verification", ["outcome": "verified", "next": here])
            #expect(mark.status == .seeOther)
            #expect(location(mark) == here + "&done=1")
            let after = try json(try await apiCall(app, .GET, "/api/v1/grids/\(gid)/verification-list", token: f.tokenA), as: WL.self)
            #expect(after.total == 0)
            let rows = try await Self.audit(app, AuditQuery(objectType: "resident", objectID: idText(s.resident), action: .update))
            #expect(rows.count == 1 && rows.first?.fields == ["verification"] && rows.first?.detail == "核采 verified")
            let state = try await ResidentRepository(cipher: app.fengqiao.cipher).verificationStates([s.resident], on: app.fengqiao.store.db)[s.resident]
            #expect(state?.outcome == .verified && state?.verifiedByID == f.workerA.id && state?.verifiedByName == "worker.a")

            // Addresses: verified only.
            let av = try await apiCall(app, .POST, "/api/v1/addresses/\(idText(f.addressA))/verification", token: f.tokenA, json: #"{"outcome":"verified"}"#)
            #expect(av.status == .ok, "\(av.body.string)")
            let ac = try await apiCall(app, .POST, "/api/v1/addresses/\(idText(f.addressA))/verification", token: f.tokenA, json: #"{"outcome":"changed"}"#)
            #expect(problem(ac)?.errors?.first?.field == "outcome")
            #expect(try json(try await apiCall(app, .GET, "/api/v1/grids/\(gid)/verification-list?kind=addresses", token: f.tokenA), as: WL.self).total == 0)
        }
    }

    @Test("changed: only phone, employer, reason, relation and hukou address; audited with field names only; the new phone is searchable")
    func changedRecord() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            let rid = idText(s.resident)
            let path = "/api/v1/residents/\(rid)/verification"
            let same = try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"changed","changes":{"employer":"阳光物业"}}"#)
            #expect(problem(same)?.errors?.first?.field == "changes")
            let missing = try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"changed"}"#)
            #expect(problem(missing)?.errors?.first?.field == "changes")
            let badPhone = try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"changed","changes":{"phone":"12345"}}"#)
            #expect(problem(badPhone)?.errors?.first?.field == "phone")

            struct Marked: Decodable {
                struct R: Decodable { var phone: String?; var employer: String?; var housingRelation: String }
                var resident: R
                var changedFields: [String]
            }
            let ok = try await apiCall(app, .POST, path, token: s.f.tokenA,
                                       json: #"{"outcome":"changed","changes":{"phone":"13912345678","employer":"澄江市第一中学","housingRelation":"owner"}}"#)
            #expect(ok.status == .ok, "\(ok.body.string)")
            let m = try json(ok, as: Marked.self)
            #expect(m.changedFields == ["phone", "employer", "housingRelation"])
            #expect(m.resident.phone == "139****5678" && m.resident.employer == "澄江市第一中学" && m.resident.housingRelation == "owner")
            #expect(!ok.body.string.contains("13912345678"))
            let rows = try await Self.audit(app, AuditQuery(objectType: "resident", objectID: rid, action: .update))
            #expect(rows.count == 1)
            #expect(rows.first?.fields == ["phone", "employer", "housingRelation", "verification"])
            let text = String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
            #expect(!text.contains("13912345678") && !text.contains("澄江市第一中学") && !text.contains(Self.canaryPhone), "values never in the audit trail")
            // The blind index follows the phone.
            struct Page: Decodable { var total: Int }
            #expect(try json(try await apiCall(app, .POST, "/api/v1/residents/search", token: s.f.tokenA, json: #"{"phone":"13912345678"}"#), as: Page.self).total == 1)
            #expect(try json(try await apiCall(app, .POST, "/api/v1/residents/search", token: s.f.tokenA, json: #"{"phone":"\#(Self.canaryPhone)"}"#), as: Page.self).total == 0)

            // The web form: the phone is never prefilled, only its mask; clearing it and changing the reason.
            var b = Browser(app)
            _ = try await b.login("worker.a")
            _ = try await b.get("/residents/\(rid)")
            let redirect = try await b.post("/residents/\(rid)/verification", ["outcome": "changed"])
            #expect(redirect.status == .seeOther && location(redirect)?.hasPrefix("/residents/\(rid)/change") == true)
            let form = try await b.get("/residents/\(rid)/change")
            #expect(form.status == .ok && form.body.string.contains("139****5678") && !form.body.string.contains("13912345678"))
            let saved = try await b.post("/residents/\(rid)/change", ["clearPhone": "1", "employer": "澄江市第一中学", "residenceReason": "study", "housingRelation": "owner", "hukouAddress": "云南省昆明市"])
            #expect(saved.status == .seeOther)
            let r = try await PopulationService(app.fengqiao).resident(s.resident, visible: .everything)
            #expect(r.phone == nil && r.residenceReason == .study && r.employer == "澄江市第一中学")
            let rows2 = try await Self.audit(app, AuditQuery(objectType: "resident", objectID: rid, action: .update))
            #expect(rows2.first?.fields == ["phone", "residenceReason", "verification"], "newest first")
            let invalid = try await b.post("/residents/\(rid)/change", ["phone": "12345", "employer": "x"])
            #expect(invalid.status == .unprocessableEntity && !invalid.body.string.contains("value=\"12345\""))
        }
    }

    @Test("moved out: deregistered with date and GA/T 2000.25 reason, out of the work list and counts, the number free again")
    func movedOut() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            let rid = idText(s.resident)
            try await Self.backdate(app, table: "actual_residents", s.resident, days: 120)
            let path = "/api/v1/residents/\(rid)/verification"
            let noDetails = try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"movedOut"}"#)
            #expect(problem(noDetails)?.errors?.first?.field == "deregistration")
            let future = try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"movedOut","deregistration":{"reason":"movedAway","deregisteredAt":"2999-01-01"}}"#)
            #expect(problem(future)?.errors?.first?.field == "deregisteredAt")
            let other = try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"movedOut","deregistration":{"reason":"other"}}"#)
            #expect(problem(other)?.errors?.first?.field == "note")

            var b = Browser(app)
            _ = try await b.login("worker.a")
            let form = try await b.get("/residents/\(rid)/move-out")
            #expect(form.status == .ok && form.body.string.contains("迁出本地"))
            let today = CalendarDate(Date(), timeZone: TimeZone(identifier: "Asia/Shanghai")!).description
            let done = try await b.post("/residents/\(rid)/move-out", ["deregisteredAt": today, "reason": "movedAway"])
            #expect(done.status == .seeOther)
            let r = try await PopulationService(app.fengqiao).resident(s.resident, visible: .everything)
            #expect(r.deregisteredAt?.description == today && r.deregistrationReason == "迁出本地")
            let rows = try await Self.audit(app, AuditQuery(objectType: "resident", objectID: rid, action: .update))
            #expect(rows.first?.fields == ["deregisteredAt", "deregistrationReason", "verification"] && rows.first?.detail == "核采 movedOut")
            let page = try await b.get("/residents/\(rid)")
            #expect(page.body.string.contains("迁出本地") && !page.body.string.contains("action=\"/residents/\(rid)/verification\""))

            // Twice is a conflict; verified after moving out too.
            let again = try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"movedOut","deregistration":{"reason":"death"}}"#)
            #expect(again.status == .conflict)
            #expect(try await apiCall(app, .POST, path, token: s.f.tokenA, json: #"{"outcome":"verified"}"#).status == .conflict)
            // Out of the work list and the counts.
            struct WL: Decodable { var total: Int }
            #expect(try json(try await apiCall(app, .GET, "/api/v1/grids/\(idText(s.f.t.gridA.id))/verification-list", token: s.f.tokenA), as: WL.self).total == 0)
            struct Counts: Decodable { var residents: Int; var migrant: Int; var residentsOverdue: Int }
            let c = try json(try await apiCall(app, .GET, "/api/v1/grids/\(idText(s.f.t.gridA.id))/population-counts", token: s.f.tokenA), as: Counts.self)
            #expect(c.residents == 0 && c.migrant == 0 && c.residentsOverdue == 0)
            // The person may be registered again (at another address).
            let re = try await apiCall(app, .POST, "/api/v1/residents", token: s.f.tokenB, json: P.residentJSON(address: s.f.addressB))
            #expect(re.status == .created, "\(re.body.string)")
        }
    }

    @Test("grid figures: population types, hukou-separated and overdue, on the API and the grid page")
    func figures() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            let f = s.f
            _ = try await apiCall(app, .POST, "/api/v1/residents", token: f.tokenA,
                                  json: P.residentJSON(address: f.addressA2, idNumber: "530481198506150023", phone: nil, name: "王芳").replacingOccurrences(of: "\"migrant\"", with: "\"registered\""))
            try await Self.backdate(app, table: "actual_residents", s.resident, days: 95)
            struct Counts: Decodable {
                var residents: Int; var registered: Int; var migrant: Int; var foreign: Int; var hukouSeparated: Int
                var residentsOverdue: Int; var addresses: Int; var addressesOverdue: Int
            }
            let c = try json(try await apiCall(app, .GET, "/api/v1/grids/\(idText(f.t.gridA.id))/population-counts", token: f.tokenA), as: Counts.self)
            #expect(c.residents == 2 && c.registered == 1 && c.migrant == 1 && c.foreign == 0)
            #expect(c.hukouSeparated == 1 && c.residentsOverdue == 1)
            #expect(c.addresses == 2 && c.addressesOverdue == 0)
            let cb = try json(try await apiCall(app, .GET, "/api/v1/grids/\(idText(f.t.gridB.id))/population-counts", token: f.tokenB), as: Counts.self)
            #expect(cb.residents == 0 && cb.addresses == 1)
            // The grid page shows the same figures, linking the overdue ones to the work list.
            var b = Browser(app)
            _ = try await b.login("worker.a")
            let page = try await b.get("/grids/\(idText(f.t.gridA.id))").body.string
            #expect(page.contains("一标三实统计"))
            #expect(page.contains(#"<span class="num">2</span><span class="label">实有人口</span>"#))
            #expect(page.contains(#"<span class="num">1</span><span class="label">人户分离</span>"#))
            #expect(page.contains(#"tile warn" href="/grids/"#) && page.contains(#"<span class="num">1</span><span class="label">人员逾期未核采</span>"#))
            // Someone without person:read (a volunteer of the grid) sees no figures.
            try await makeUser(app, "vol", .volunteer, TerritoryScope(level: .grid, territoryID: f.t.gridA.id))
            var v = Browser(app)
            _ = try await v.login("vol")
            let vp = try await v.get("/grids/\(idText(f.t.gridA.id))")
            #expect(vp.status == .ok && !vp.body.string.contains("一标三实统计"))
        }
    }

    // MARK: Exports

    @Test("CSV export: masked, watermarked with exporter and time, audited with purpose, filter and row count")
    func csvExport() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            var b = Browser(app)
            _ = try await b.login("worker.a")
            _ = try await b.get("/grids/\(idText(s.f.t.gridA.id))")
            let noPurpose = try await b.post("/population/export-requests", ["gridId": idText(s.f.t.gridA.id), "format": "csv", "purpose": ""])
            #expect(noPurpose.status == .unprocessableEntity)
            #expect(try await Self.audit(app, AuditQuery(action: .export)).isEmpty)

            // The export is requested, approved by the community officer, then downloaded once.
            let asked = try await b.post("/population/export-requests", ["gridId": idText(s.f.t.gridA.id), "format": "csv", "purpose": "年度核查"])
            #expect(asked.status == .seeOther && asked.headers.first(name: .location) == "/exports?done=requested")
            let mine = try await b.get("/exports?done=requested")
            #expect(mine.status == .ok && mine.body.string.contains("年度核查") && mine.body.string.contains("待审批"))
            struct Lists: Decodable { var mine: [ApprovalOut]; var toDecide: [ApprovalOut] }
            let listed = try json(try await apiCall(app, .GET, "/api/v1/export-approvals", token: s.f.tokenA), as: Lists.self)
            #expect(listed.mine.count == 1 && listed.mine[0].status == "pending" && listed.toDecide.isEmpty)
            let approvalID = try #require(listed.mine.first?.id)
            #expect(try await b.post("/exports/\(idText(approvalID))/download", [:]).status == .unprocessableEntity, "not approved yet")
            let officer = try await makeUser(app, "officer.x", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: s.f.t.community.id))
            let officerToken = try await issueToken(app, officer)
            var ob = Browser(app)
            _ = try await ob.login("officer.x")
            let queue = try await ob.get("/exports")
            #expect(queue.status == .ok && queue.body.string.contains("/exports/\(idText(approvalID))/decision"))
            #expect(try await ob.post("/exports/\(idText(approvalID))/decision", ["decision": "approve"]).status == .seeOther)
            #expect(try await b.get("/exports").body.string.contains("/exports/\(idText(approvalID))/download"))
            let res = try await b.post("/exports/\(idText(approvalID))/download", [:])
            #expect(res.status == .ok)
            #expect(res.headers.contentType?.subType == "csv")
            #expect(res.headers.first(name: .contentDisposition)?.hasPrefix("attachment; filename=\"residents-") == true)
            let text = res.body.string
            #expect(text.hasPrefix("\u{FEFF}"))
            let lines = text.dropFirst().components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.count == 3, "watermark, header, one row: \(lines)")
            let mark = lines[0]
            #expect(mark.contains("导出人 worker.a（worker.a）") && mark.contains("导出时间") && mark.contains("+08:00") && mark.contains("年度核查"))
            #expect(mark.contains("审批 \(idText(approvalID).prefix(8)) (officer.x)"))
            #expect(lines[1].hasPrefix("姓名,性别,出生日期"))
            #expect(lines[2].hasPrefix("李四,男,1990-**-**,居民身份证,530481********0011,流动人口,是,138****8000,凤麓路1号阳光小区1栋2单元3层301室,第1网格"))
            Self.noCanary(text, "CSV")
            // One download per approval.
            #expect(try await b.post("/exports/\(idText(approvalID))/download", [:]).status == .unprocessableEntity)

            let rows = try await Self.audit(app, AuditQuery(action: .export))
            #expect(rows.count == 1)
            let e = try #require(rows.first)
            #expect(e.actorID == s.f.workerA.id && e.objectType == "resident" && e.objectID == idText(s.f.t.gridA.id))
            #expect(e.purpose == "年度核查")
            #expect(e.detail?.contains("rows=1") == true && e.detail?.contains("format=csv") == true && e.detail?.contains("gridId=\(idText(s.f.t.gridA.id))") == true)
            #expect(e.fields.contains("idNumber(masked)"))
            #expect(mark.contains("#\(e.seq)"), "the file names its audit row")
            #expect(res.headers.first(name: "X-Export-Audit-Seq") == String(e.seq))

            #expect(e.detail?.contains("approval \(idText(approvalID)) by officer.x") == true)

            // A name filter is audited by kind only; an exact ID number is not an export filter.
            let exact = try await apiCall(app, .POST, "/api/v1/export-approvals", token: s.f.tokenA,
                                          json: #"{"filter":{"name":"李","idNumber":"\#(Self.canaryID)"},"format":"csv","purpose":"核对"}"#)
            #expect(problem(exact)?.errors?.first?.field == "filter.idNumber")
            let api = try await apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA,
                                        json: try await Self.approvedExport(app, s, officerToken, #"{"filter":{"name":"李"},"format":"csv","purpose":"核对"}"#))
            #expect(api.status == .ok)
            #expect(api.body.string.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 3)
            let last = try #require(try await Self.audit(app, AuditQuery(action: .export)).first)
            #expect(last.detail?.contains("namePrefix") == true)
            Self.noCanary(String(decoding: try JSONEncoder().encode(last), as: UTF8.self), "export audit row")
            let noFormat = try await apiCall(app, .POST, "/api/v1/export-approvals", token: s.f.tokenA, json: #"{"purpose":"核对"}"#)
            #expect(problem(noFormat)?.errors?.first?.field == "format")
            let noApproval = try await apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA, json: #"{}"#)
            #expect(problem(noApproval)?.errors?.first?.field == "approvalId")
        }
    }

    struct ApprovalOut: Decodable { var id: UUID; var status: String }

    /// Requests an export as worker A and has it approved by a community officer; returns the
    /// export body naming the approval.
    static func approvedExport(_ app: Application, _ s: Setup, _ officerToken: String, _ request: String) async throws -> String {
        let r = try await apiCall(app, .POST, "/api/v1/export-approvals", token: s.f.tokenA, json: request)
        #expect(r.status == .created, "\(r.body.string)")
        let id = try json(r, as: ApprovalOut.self).id
        let d = try await apiCall(app, .POST, "/api/v1/export-approvals/\(idText(id))/decision", token: officerToken, json: #"{"approve":true}"#)
        #expect(d.status == .ok, "\(d.body.string)")
        return #"{"approvalId":"\#(idText(id))"}"#
    }

    /// Valid 公民身份号码 `530481` + birth date + sequence + check character.
    static func idNumber(_ n: Int) -> String {
        let first17 = String(format: "530481198%01d%02d%02d%03d", n % 10, 1 + (n / 10) % 12, 1 + (n / 120) % 28, 100 + n % 800)
        return first17 + String(CitizenIDNumber.checkCharacter(forFirst17: first17)!)
    }

    @Test("XLSX export: a valid zip with the sheet, title row and page header naming the exporter, masked, across several pages of rows")
    func xlsxExport() async throws {
        try await withApp { app in
            let s = try await Self.setup(app)
            // 1,204 more residents at address A2 (more than one 1,000-row page).
            let repo = ResidentRepository(cipher: app.fengqiao.cipher)
            let extra = (0..<1204).map { n in
                ActualResident(
                    populationType: .registered, hukouSeparated: false, idDocType: .residentIdCard, idNumber: Self.idNumber(n), name: "测试\(n)", sex: n % 2 == 0 ? .female : .male,
                    birthDate: try! CalendarDate(year: 1980, month: 1, day: 1), residenceAddressID: s.f.addressA2, gridID: s.f.t.gridA.id, residenceReason: .work,
                    housingRelation: .owner, phone: try? PhoneNumber(String(format: "139%08d", n)), registeredAt: try! CalendarDate(year: 2020, month: 1, day: 1))
            }
            try await app.fengqiao.store.write { db in
                for r in extra { try await repo.insert(r, on: db) }
            }
            let officerToken = try await issueToken(app, try await makeUser(app, "officer.x", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: s.f.t.community.id)))
            let res = try await apiCall(app, .POST, "/api/v1/residents/export", token: s.f.tokenA,
                                        json: try await Self.approvedExport(app, s, officerToken, #"{"filter":{"gridId":"\#(idText(s.f.t.gridA.id))"},"format":"xlsx","purpose":"年度核查"}"#))
            #expect(res.status == .ok)
            #expect(res.headers.contentType?.subType == "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            #expect(res.headers.first(name: "X-Export-Rows") == "1205")
            let data = Data(res.body.readableBytesView)
            #expect(data.starts(with: [0x50, 0x4B, 0x03, 0x04]), "a zip file")
            let archive = try Archive(data: data, accessMode: .read)
            let names = Set(archive.map(\.path))
            #expect(names.isSuperset(of: ["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/worksheets/sheet1.xml", "xl/styles.xml", "docProps/core.xml"]))
            func part(_ name: String) throws -> String {
                var out = Data()
                _ = try archive.extract(try #require(archive[name]), consumer: { out.append($0) })
                return String(decoding: out, as: UTF8.self)
            }
            let sheet = try part("xl/worksheets/sheet1.xml")
            let workbook = try part("xl/workbook.xml")
            for (n, xml) in [("sheet", sheet), ("workbook", workbook), ("core", try part("docProps/core.xml")), ("types", try part("[Content_Types].xml"))] {
                let parser = XMLParser(data: Data(xml.utf8))
                #expect(parser.parse(), "\(n) is well-formed XML: \(String(describing: parser.parserError))")
            }
            #expect(workbook.contains("<sheet name=\"实有人口\""))
            #expect(sheet.components(separatedBy: "<row ").count - 1 == 2 + 1205, "title, header, every resident")
            #expect(sheet.contains("<row r=\"1207\">"))
            #expect(sheet.contains("导出人 worker.a（worker.a）"), "title row")
            #expect(sheet.contains("<oddHeader>&amp;L导出人 worker.a（worker.a）"), "printed page header")
            #expect(sheet.contains("<oddFooter>"))
            #expect(sheet.contains("530481********0011") && sheet.contains("139****0007"))
            Self.noCanary(sheet, "sheet")
            #expect(!sheet.contains(Self.idNumber(7)) && !sheet.contains("13900000007"))
            #expect(try part("docProps/core.xml").contains("<dc:creator>worker.a</dc:creator>"))
            let e = try #require(try await Self.audit(app, AuditQuery(action: .export)).first)
            #expect(e.detail?.contains("rows=1205") == true && e.detail?.contains("format=xlsx") == true)
        }
    }
}
