import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import NIOFoundationCompat
import SQLKit
import Testing
import Vapor
import VaporTesting

/// The hazard pages (issue 5, web and statistics part): the phone report form (idempotent per
/// rendered form, a refused photo keeps a draft, duplicates offered first), the event page's
/// actions per role and state, the overdue sweep and work list, statistics on a known data set,
/// subsidy totals and their audited export; scopes answer 404 across grids.
@Suite("hazard pages, escalation, statistics and subsidy totals", .serialized)
struct HazardWebTests {
    static let jpeg = TestImages.jpeg(width: 16, height: 16)
    static let jpeg2 = TestImages.jpeg(width: 24, height: 12)
    static let png = TestImages.png()
    static let notImage = Data("%PDF-1.4 not a photo".utf8)
    /// A point inside grid A's boundary (lon 102.90–102.91, lat 24.67–24.68).
    static let inA = (lon: 102.905, lat: 24.675)

    struct EventOut: Decodable {
        var id: UUID
        var state: String
        var reopenCount: Int
        var photos: [PhotoOut]?
    }
    struct PhotoOut: Decodable { var sha256: String; var url: String }
    struct Created: Decodable { var event: EventOut }
    struct Figures: Decodable {
        var found: Int; var voided: Int; var verified: Int; var whistled: Int; var solved: Int; var onTime: Int
        var overdue: Int; var reopened: Int; var evaluated: Int; var satisfaction: Double?; var whistleRate: Double?; var onTimeRate: Double?
    }
    struct Line: Decodable { var gridName: String?; var category: String?; var figures: Figures }
    struct Stats: Decodable { var summary: String; var total: Figures; var byCategory: [Line]; var byGrid: [Line]; var rows: [Line] }
    struct Sweep: Decodable { var checked: Int; var escalated: Int; var alreadyEscalated: Int }
    struct TotalsLine: Decodable { var name: String; var slotsFen: [Int]; var totalFen: Int; var totalYuan: String; var claims: Int }
    struct Totals: Decodable { var rows: [TotalsLine]; var totalFen: Int; var totalYuan: String; var ownOnly: Bool; var slots: [String] }

    struct World {
        var t: Territory
        var worker: Account
        var workerToken: String
        var workerBToken: String
        var contact: Account
        var contactToken: String
        var officerToken: String
        var adminToken: String
    }

    func world(_ app: Application) async throws -> World {
        let t = try await seedTerritory(app)
        let worker = try await makeUser(app, "grid.a", .gridWorker, .init(level: .grid, territoryID: t.gridA.id))
        let workerB = try await makeUser(app, "grid.b", .gridWorker, .init(level: .grid, territoryID: t.gridB.id))
        let contact = try await makeUser(app, "property.a", .departmentContact, .init(level: .community, territoryID: t.community.id))
        let officer = try await makeUser(app, "officer", .communityPoliceOfficer, .init(level: .community, territoryID: t.community.id))
        let (_, adminToken) = try await sysadminToken(app)
        let map = try await apiCall(app, .POST, "/api/v1/responsible-contacts", token: adminToken,
                                    json: #"{"category":"municipalFacility","territoryId":"\#(idText(t.community.id))","contactId":"\#(idText(contact.id))","organisation":"阳光物业"}"#)
        #expect(map.status == .created, "\(map.body.string)")
        let tariff = try await apiCall(app, .POST, "/api/v1/subsidy-tariffs", token: adminToken, json: #"{"caseType":"event","effectiveFrom":"2020-01-01","amountFen":5000}"#)
        #expect(tariff.status == .created)
        return World(t: t, worker: worker, workerToken: try await issueToken(app, worker), workerBToken: try await issueToken(app, workerB),
                     contact: contact, contactToken: try await issueToken(app, contact), officerToken: try await issueToken(app, officer), adminToken: adminToken)
    }

    // MARK: helpers

    /// Posts a multipart form (fields, then files) with the browser's cookies and CSRF token.
    func postMultipart(_ b: inout Browser, _ path: String, _ fields: [String: String], files: [(String, String, Data)], csrf: Bool = true) async throws -> TestingHTTPResponse {
        let boundary = "----fqtest\(UUID().uuidString.prefix(8))"
        var body = Data()
        var all = fields
        if csrf { all["_csrf"] = b.csrf }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8)
        }
        for (name, filename, data) in files {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
            body += data
            body += Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        var headers = b.cookieHeader
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        var out: TestingHTTPResponse?
        try await b.app.testing().test(.POST, path, headers: headers, body: ByteBuffer(data: body)) { out = $0 }
        b.absorb(out!)
        return out!
    }

    func formKey(_ html: String) -> String? {
        guard let r = html.range(of: "name=\"formKey\" value=\"") else { return nil }
        let rest = html[r.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    func event(_ app: Application, _ id: UUID, token: String) async throws -> EventOut {
        try json(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: token), as: EventOut.self)
    }

    func transition(_ app: Application, _ id: UUID, token: String, _ body: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let r = try await apiCall(app, .POST, "/api/v1/events/\(idText(id))/transitions", token: token, json: body)
        #expect(r.status == .ok, "\(body): \(r.body.string)", sourceLocation: sourceLocation)
    }

    func upload(_ app: Application, _ id: UUID, token: String, _ data: Data) async throws {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        headers.replaceOrAdd(name: .contentType, value: "image/jpeg")
        try await app.testing().test(.POST, "/api/v1/events/\(idText(id))/photos", headers: headers, body: ByteBuffer(data: data)) { res in
            #expect(res.status == .created, "\(res.body.string)")
        }
    }

    /// A reported event through the API (draft, photo, submit).
    func reported(_ app: Application, token: String, category: String = "municipalFacility", building: UUID? = nil, lon: Double = inA.lon, lat: Double = inA.lat, photo: Data = jpeg) async throws -> UUID {
        let where_ = building.map { #""buildingId":"\#(idText($0))""# } ?? #""location":{"lon":\#(lon),"lat":\#(lat)}"#
        let r = try await apiCall(app, .POST, "/api/v1/events", token: token, json: #"{"category":"\#(category)","severity":"normal","description":"测试隐患","\#(where_.dropFirst())}"#)
        #expect(r.status == .created, "\(r.body.string)")
        let id = try json(r, as: Created.self).event.id
        try await upload(app, id, token: token, photo)
        try await transition(app, id, token: token, #"{"command":"submit"}"#)
        return id
    }

    // MARK: tests

    @Test("report form: one event per rendered form, a refused photo keeps a draft with the reason, duplicates offered before saving")
    func reportForm() async throws {
        try await withApp { app in
            let w = try await world(app)
            var b = Browser(app)
            _ = try await b.login("grid.a")
            var page = try await b.get("/hazards/new")
            #expect(page.status == .ok)
            let html = page.body.string
            #expect(html.contains("capture=\"environment\"") && html.contains("accept=\"image/*\"") && html.contains("multiple") && html.contains("/js/hazard-report.js"))
            #expect(!html.contains("http://") && !html.contains("https://"), "no external assets")
            let key = try #require(formKey(html))
            let fields = ["formKey": key, "category": "municipalFacility", "severity": "normal", "description": "井盖破损", "buildingId": idText(w.t.buildingA.id)]
            let first = try await postMultipart(&b, "/hazards/new", fields, files: [("photos", "a.jpg", Self.jpeg), ("photos", "b.jpg", Self.jpeg2)])
            #expect(first.status == .seeOther, "\(first.body.string.prefix(500))")
            let loc = try #require(location(first))
            // Sent again (a dropped connection): nothing new, the same event.
            let again = try await postMultipart(&b, "/hazards/new", fields, files: [("photos", "a.jpg", Self.jpeg), ("photos", "b.jpg", Self.jpeg2)])
            #expect(again.status == .seeOther && location(again) == loc)
            #expect(try await tableCount(app, "grid_events") == 1)
            let id = try #require(UUID(uuidString: String(loc.dropFirst("/hazards/".count))))
            let e = try await event(app, id, token: w.workerToken)
            #expect(e.state == "reported" && e.photos?.count == 2)
            page = try await b.get(loc)
            #expect(page.status == .ok && page.body.string.contains("/api/v1/events/\(idText(id))/photos/"))

            // A refused photo: the report is kept as a draft and the page names the reason.
            page = try await b.get("/hazards/new")
            let key2 = try #require(formKey(page.body.string))
            #expect(key2 != key, "a fresh key per rendering")
            let bad = try await postMultipart(&b, "/hazards/new", ["formKey": key2, "category": "fire", "description": "楼道堆物", "lon": "\(Self.inA.lon)", "lat": "\(Self.inA.lat)"],
                                              files: [("photos", "scan.pdf", Self.notImage)])
            #expect(bad.status == .unprocessableEntity)
            #expect(bad.body.string.contains("photos[0] (scan.pdf)") && bad.body.string.contains("not a JPEG, PNG or HEIC"), "\(bad.body.string.prefix(1500))")
            #expect(bad.body.string.contains("草稿"))
            let draftID = try await app.fengqiao.store.sql.raw("SELECT id FROM grid_events WHERE category = 'fire'").first()?.decode(column: "id", as: UUID.self)
            let draft = try #require(draftID)
            #expect(try await event(app, draft, token: w.workerToken).state == "draft")
            // The draft is completed from its page: a good photo and submit.
            _ = try await b.get("/hazards/\(idText(draft))")
            let fix = try await postMultipart(&b, "/hazards/\(idText(draft))/photos", ["then": "submit"], files: [("photos", "ok.png", Self.png)])
            #expect(fix.status == .seeOther, "\(fix.body.string.prefix(800))")
            #expect(try await event(app, draft, token: w.workerToken).state == "reported")
            // Without a CSRF token nothing is accepted.
            let forged = try await postMultipart(&b, "/hazards/\(idText(draft))/photos", [:], files: [("photos", "x.jpg", Self.jpeg)], csrf: false)
            #expect(forged.status == .forbidden)

            // Same category at the same building: possible duplicates first, nothing saved.
            page = try await b.get("/hazards/new")
            let key3 = try #require(formKey(page.body.string))
            let dupFields = ["formKey": key3, "category": "municipalFacility", "description": "井盖又坏了", "buildingId": idText(w.t.buildingA.id)]
            let dup = try await postMultipart(&b, "/hazards/new", dupFields, files: [("photos", "c.jpg", Self.jpeg)])
            #expect(dup.status == .ok && dup.body.string.contains("附近可能重复的事件") && dup.body.string.contains("/hazards/\(idText(id))"))
            #expect(try await tableCount(app, "grid_events") == 2)
            var confirmed = dupFields
            confirmed["confirmNew"] = "1"
            let made = try await postMultipart(&b, "/hazards/new", confirmed, files: [("photos", "c.jpg", Self.jpeg)])
            #expect(made.status == .seeOther)
            #expect(try await tableCount(app, "grid_events") == 3)

            // Missing location: an inline error naming the field; nothing saved.
            page = try await b.get("/hazards/new")
            let key4 = try #require(formKey(page.body.string))
            let noLoc = try await postMultipart(&b, "/hazards/new", ["formKey": key4, "category": "gas", "description": "燃气味"], files: [("photos", "d.jpg", Self.jpeg)])
            #expect(noLoc.status == .unprocessableEntity && noLoc.body.string.contains("location:"))
            #expect(try await tableCount(app, "grid_events") == 3)

            // The list shows the grid's open events; another grid's worker gets 404 for page and photo.
            let list = try await b.get("/hazards")
            #expect(list.status == .ok && list.body.string.contains("/hazards/\(idText(id))"))
            var other = Browser(app)
            _ = try await other.login("grid.b")
            #expect(try await other.get("/hazards/\(idText(id))").status == .notFound)
            let sha = try #require(e.photos?.first?.sha256)
            #expect(try await other.get("/api/v1/events/\(idText(id))/photos/\(sha)").status == .notFound)
            #expect(try await b.get("/api/v1/events/\(idText(id))/photos/\(sha)").status == .ok)
            #expect(!(try await other.get("/hazards").body.string.contains(idText(id))))
            // A contact cannot report.
            var contact = Browser(app)
            _ = try await contact.login("property.a")
            #expect(try await contact.get("/hazards/new").status == .forbidden)
        }
    }

    @Test("event page: each role sees its actions; whistle → 报到 → result photos → check → close → evaluate → subsidy through the pages")
    func actionsThroughPages() async throws {
        try await withApp { app in
            let w = try await world(app)
            let id = try await reported(app, token: w.workerToken, building: w.t.buildingA.id)
            let path = "/hazards/\(idText(id))"
            var worker = Browser(app)
            _ = try await worker.login("grid.a")
            var officer = Browser(app)
            _ = try await officer.login("officer")
            var contact = Browser(app)
            _ = try await contact.login("property.a")

            var page = try await worker.get(path).body.string
            #expect(page.contains("value=\"verify\"") && page.contains("value=\"void\"") && !page.contains("value=\"acknowledge\""))
            // The contact does not see an event not dispatched to them.
            #expect(try await contact.get(path).status == .notFound)
            // A wrong step is an inline error naming the field.
            _ = try await officer.get(path)
            var r = try await officer.post("\(path)/actions", ["command": "void"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("voidReason:"))
            r = try await officer.post("\(path)/actions", ["command": "verify"])
            #expect(r.status == .seeOther)
            r = try await officer.post("\(path)/actions", ["command": "fileCase", "category": "municipalFacility", "severity": "urgent"])
            #expect(r.status == .seeOther)
            page = try await officer.get(path).body.string
            #expect(page.contains("阳光物业") && page.contains("name=\"whistleReason\""))
            r = try await officer.post("\(path)/actions", ["command": "dispatch", "contactId": idText(w.contact.id), "whistleReason": "emergency"])
            #expect(r.status == .seeOther, "\(r.body.string.prefix(500))")

            page = try await contact.get(path).body.string
            #expect(page.contains("value=\"acknowledge\"") && page.contains("value=\"return\"") && !page.contains("value=\"verify\""))
            r = try await contact.post("\(path)/actions", ["command": "return", "reason": ""])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("reason:"))
            // A real return takes the event out of the contact's view: back to their list with a notice, not a 404.
            r = try await contact.post("\(path)/actions", ["command": "return", "reason": "非本单位职责"])
            #expect(r.status == .seeOther && r.headers.first(name: .location) == "/hazards?notice=returned", "\(r.status)")
            #expect(try await contact.get("/hazards?notice=returned").body.string.contains("事件已退回"))
            r = try await officer.post("\(path)/actions", ["command": "dispatch", "contactId": idText(w.contact.id), "whistleReason": "emergency"])
            #expect(r.status == .seeOther, "re-dispatch after the return: \(r.body.string.prefix(300))")
            r = try await contact.post("\(path)/actions", ["command": "acknowledge"])
            #expect(r.status == .seeOther)
            page = try await contact.get(path).body.string
            #expect(page.contains("value=\"submitResult\""))
            r = try await postMultipart(&contact, "\(path)/photos", ["then": "submitResult"], files: [("photos", "fixed.jpg", Self.jpeg2)])
            #expect(r.status == .seeOther, "\(r.body.string.prefix(500))")
            #expect(try await event(app, id, token: w.workerToken).state == "awaitingCheck")

            page = try await worker.get(path).body.string
            #expect(page.contains("value=\"checkPass\"") && page.contains("value=\"checkFail\"") && page.contains("处置结果照片"))
            r = try await worker.post("\(path)/actions", ["command": "checkPass"])
            #expect(r.status == .seeOther)
            r = try await worker.post("\(path)/actions", ["command": "evaluate", "satisfaction": "4"])
            #expect(r.status == .seeOther)
            page = try await worker.get(path).body.string
            #expect(page.contains("★★★★☆") && page.contains("value=\"1\"") && page.contains("/claim"))
            #expect(page.contains("派遣 / 吹哨") && page.contains("报到（接单）"), "timeline names the steps")
            r = try await worker.post("\(path)/claim", ["claim": "1"])
            #expect(r.status == .seeOther)

            // The reviewer's list shows the claim with approve/reject; approval fixes 50.00 yuan.
            page = try await officer.get("/subsidies/claims?pending=1").body.string
            let claimID = try #require(try await app.fengqiao.store.sql.raw("SELECT id FROM subsidy_claims").first()?.decode(column: "id", as: UUID.self))
            #expect(page.contains("/subsidies/claims/\(idText(claimID))/review"))
            // The claimant cannot review (route right).
            #expect(try await worker.post("/subsidies/claims/\(idText(claimID))/review", ["decision": "approve"]).status == .forbidden)
            r = try await officer.post("/subsidies/claims/\(idText(claimID))/review", ["decision": "approve"])
            #expect(r.status == .seeOther)
            page = try await worker.get("/subsidies/claims").body.string
            #expect(page.contains("已批准") && page.contains("50.00"))
        }
    }

    @Test("escalation sweep: once per overdue stage, on the timeline and the supervisor's work list; API and lifecycle tick")
    func escalation() async throws {
        try await withApp { app in
            let w = try await world(app)
            let id = try await reported(app, token: w.workerToken)
            let fresh = try await reported(app, token: w.workerToken, category: "fire")
            // Nothing is overdue yet.
            var s = try json(try await apiCall(app, .POST, "/api/v1/events/escalations", token: w.officerToken), as: Sweep.self)
            #expect(s.escalated == 0)
            // The verify stage started ten days ago.
            try await app.fengqiao.store.sql.raw("UPDATE grid_events SET stage_started_at = \(bind: Date().addingTimeInterval(-10 * 86_400)) WHERE id = \(bind: id)").run()
            s = try json(try await apiCall(app, .POST, "/api/v1/events/escalations", token: w.officerToken), as: Sweep.self)
            #expect(s.escalated == 1 && s.checked >= 1)
            s = try json(try await apiCall(app, .POST, "/api/v1/events/escalations", token: w.adminToken), as: Sweep.self)
            #expect(s.escalated == 0 && s.alreadyEscalated == 1, "idempotent")
            let tick = await EscalationLifecycle.tick(app)
            #expect(tick?.escalated == 0)
            #expect(try await tableCount(app, "event_escalations") == 1)
            let audits = try await app.fengqiao.store.sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE object_id = \(bind: idText(id)) AND detail LIKE 'escalated:%'").first()?.decode(column: "n", as: Int.self)
            #expect(audits == 1)
            // A grid worker may not start a sweep.
            #expect(try await apiCall(app, .POST, "/api/v1/events/escalations", token: w.workerToken).status == .forbidden)

            // The supervisor's work list (API and page) lists it, not the fresh one.
            let list = try await apiCall(app, .GET, "/api/v1/events/overdue", token: w.officerToken)
            #expect(list.status == .ok && list.body.string.lowercased().contains(idText(id)) && !list.body.string.lowercased().contains(idText(fresh)), "\(list.body.string.prefix(300))")
            var officer = Browser(app)
            _ = try await officer.login("officer")
            let page = try await officer.get("/hazards/overdue")
            #expect(page.status == .ok && page.body.string.contains("/hazards/\(idText(id))"))
            let ev = try await officer.get("/hazards/\(idText(id))").body.string
            #expect(ev.contains("逾期督办") && ev.contains("class=\"esc\""))
            let sw = try await officer.post("/hazards/escalations", [:])
            #expect(sw.status == .seeOther && location(sw) == "/hazards/overdue?swept=0")
            var worker = Browser(app)
            _ = try await worker.login("grid.a")
            #expect(try await worker.get("/hazards/overdue").status == .forbidden)
            #expect(try await worker.get("/hazards").body.string.contains("hz-item overdue"))

            // After the event moves on, the next stage has its own clock: verified now, not overdue.
            try await transition(app, id, token: w.workerToken, #"{"command":"verify"}"#)
            s = try json(try await apiCall(app, .POST, "/api/v1/events/escalations", token: w.officerToken), as: Sweep.self)
            #expect(s.escalated == 0)
            #expect(!(try await apiCall(app, .GET, "/api/v1/events/overdue", token: w.officerToken).body.string.lowercased().contains(idText(id))))
        }
    }

    @Test("statistics on a known data set: found, verified, whistled, solved, on time, overdue, reopened, satisfaction and rates; scopes")
    func statistics() async throws {
        try await withApp { app in
            let w = try await world(app)
            // e1: grid A, whistled to the contact, closed, evaluated 4.
            let e1 = try await reported(app, token: w.workerToken)
            for c in [#"{"command":"verify"}"#, #"{"command":"fileCase"}"#, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))","whistleReason":"beyondStreetCapacity"}"#] {
                try await transition(app, e1, token: w.officerToken, c)
            }
            try await transition(app, e1, token: w.contactToken, #"{"command":"acknowledge"}"#)
            try await upload(app, e1, token: w.contactToken, Self.jpeg2)
            try await transition(app, e1, token: w.contactToken, #"{"command":"submitResult"}"#)
            try await transition(app, e1, token: w.workerToken, #"{"command":"checkPass"}"#)
            try await transition(app, e1, token: w.workerToken, #"{"command":"evaluate","satisfaction":4}"#)
            // e2: grid A, fire, reported and overdue (escalated).
            let e2 = try await reported(app, token: w.workerToken, category: "fire", lon: 102.901, lat: 24.671)
            try await app.fengqiao.store.sql.raw("UPDATE grid_events SET stage_started_at = \(bind: Date().addingTimeInterval(-10 * 86_400)) WHERE id = \(bind: e2)").run()
            _ = try await EscalationService(app.fengqiao).sweep()
            // e3: grid A, verified then voided.
            let e3 = try await reported(app, token: w.workerToken, lon: 102.909, lat: 24.679)
            try await transition(app, e3, token: w.workerToken, #"{"command":"verify"}"#)
            try await transition(app, e3, token: w.workerToken, #"{"command":"void","voidReason":"duplicate"}"#)
            // e4: grid B, resolved in the grid, a failed check, then closed.
            let e4 = try await reported(app, token: w.workerBToken, building: w.t.buildingB.id)
            for c in [#"{"command":"verify"}"#, #"{"command":"fileCase"}"#, #"{"command":"resolveInGrid"}"#] { try await transition(app, e4, token: w.workerBToken, c) }
            try await upload(app, e4, token: w.workerBToken, Self.png)
            try await transition(app, e4, token: w.workerBToken, #"{"command":"submitResult"}"#)
            try await transition(app, e4, token: w.workerBToken, #"{"command":"checkFail","reason":"未修好"}"#)
            try await transition(app, e4, token: w.workerBToken, #"{"command":"submitResult"}"#)
            try await transition(app, e4, token: w.workerBToken, #"{"command":"checkPass"}"#)
            // A draft is never counted.
            _ = try await apiCall(app, .POST, "/api/v1/events", token: w.workerToken, json: #"{"category":"gas","description":"草稿","buildingId":"\#(idText(w.t.buildingA.id))"}"#)

            let r = try await apiCall(app, .GET, "/api/v1/events/statistics?territory=\(idText(w.t.community.id))", token: w.officerToken)
            #expect(r.status == .ok, "\(r.body.string)")
            let s = try json(r, as: Stats.self)
            let t = s.total
            #expect(t.found == 3 && t.voided == 1 && t.verified == 2 && t.whistled == 1 && t.solved == 2 && t.onTime == 2 && t.overdue == 1 && t.reopened == 1 && t.evaluated == 1)
            #expect(t.satisfaction == 4 && t.whistleRate == 0.3333 && t.onTimeRate == 1)
            #expect(s.summary == "发现风险隐患 3 处，解决群众急难愁盼问题 2 件")
            let fire = try #require(s.byCategory.first { $0.category == "fire" })
            #expect(fire.figures.found == 1 && fire.figures.overdue == 1 && fire.figures.solved == 0)
            let gridB = try #require(s.byGrid.first { $0.gridName == "第2网格" })
            #expect(gridB.figures.found == 1 && gridB.figures.reopened == 1 && gridB.figures.solved == 1)
            #expect(s.rows.count == 3, "grid A × 2 categories, grid B × 1")
            // A period before the events: nothing.
            let empty = try json(try await apiCall(app, .GET, "/api/v1/events/statistics?from=2020-01-01&to=2020-12-31", token: w.officerToken), as: Stats.self)
            #expect(empty.total.found == 0)
            // Bad period: the field is named.
            let bad = try await apiCall(app, .GET, "/api/v1/events/statistics?from=2026-13-01", token: w.officerToken)
            #expect(bad.status == .unprocessableEntity && problem(bad)?.errors?.first?.field == "from")

            // Grid A's worker: own grid; grid B and the community are 404; the contact 403.
            let own = try json(try await apiCall(app, .GET, "/api/v1/events/statistics", token: w.workerToken), as: Stats.self)
            #expect(own.total.found == 2 && own.total.solved == 1)
            #expect(try await apiCall(app, .GET, "/api/v1/events/statistics?territory=\(idText(w.t.gridB.id))", token: w.workerToken).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/events/statistics?territory=\(idText(w.t.community.id))", token: w.workerToken).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/events/statistics", token: w.contactToken).status == .forbidden)

            // The page: the summary, server-drawn charts and the map with the open fire hazard marker and legend.
            var officer = Browser(app)
            _ = try await officer.login("officer")
            let page = try await officer.get("/hazards/statistics?territory=\(idText(w.t.community.id))")
            let html = page.body.string
            #expect(page.status == .ok && html.contains("发现风险隐患 3 处，解决群众急难愁盼问题 2 件"))
            #expect(html.contains("class=\"chart\"") && html.contains("class=\"gridmap\""))
            #expect(html.contains("hz-fire age-fresh") && html.contains("/hazards/\(idText(e2))") && html.contains("超过 7 天"))
            #expect(!html.contains("/hazards/\(idText(e1))\""), "closed events are not on the map")
            var other = Browser(app)
            _ = try await other.login("grid.b")
            #expect(try await other.get("/hazards/statistics?territory=\(idText(w.t.gridA.id))").status == .notFound)
        }
    }

    @Test("subsidy totals per person and per grid, own totals for a claimant, audited watermarked export")
    func subsidyTotals() async throws {
        try await withApp { app in
            let w = try await world(app)
            let ids = [try await reported(app, token: w.workerToken), try await reported(app, token: w.workerToken, category: "fire", lon: 102.901, lat: 24.671)]
            for id in ids {
                for c in [#"{"command":"verify"}"#, #"{"command":"fileCase"}"#, #"{"command":"resolveInGrid"}"#] { try await transition(app, id, token: w.workerToken, c) }
                try await upload(app, id, token: w.workerToken, Self.png)
                try await transition(app, id, token: w.workerToken, #"{"command":"submitResult"}"#)
                try await transition(app, id, token: w.workerToken, #"{"command":"checkPass"}"#)
                let c = try await apiCall(app, .POST, "/api/v1/subsidy-claims", token: w.workerToken, json: #"{"caseId":"\#(idText(id))"}"#)
                #expect(c.status == .created)
            }
            // One claim approved at 50.00, the other rejected.
            let claims = try await app.fengqiao.store.sql.raw("SELECT id FROM subsidy_claims ORDER BY created_at").all().map { try $0.decode(column: "id", as: UUID.self) }
            #expect(try await apiCall(app, .POST, "/api/v1/subsidy-claims/\(idText(claims[0]))/review", token: w.officerToken, json: #"{"approve":true}"#).status == .ok)
            #expect(try await apiCall(app, .POST, "/api/v1/subsidy-claims/\(idText(claims[1]))/review", token: w.officerToken, json: #"{"approve":false,"note":"重复"}"#).status == .ok)
            let year = CalendarDate(Date(), timeZone: TimeZone(identifier: "Asia/Shanghai")!).year
            let month = CalendarDate(Date(), timeZone: TimeZone(identifier: "Asia/Shanghai")!).month

            var t = try json(try await apiCall(app, .GET, "/api/v1/subsidy-totals?year=\(year)&by=person", token: w.officerToken), as: Totals.self)
            #expect(t.rows.count == 1 && t.rows[0].name == "grid.a" && t.rows[0].totalFen == 5000 && t.rows[0].totalYuan == "50.00" && t.rows[0].claims == 1)
            #expect(t.slots.count == 12 && t.rows[0].slotsFen[month - 1] == 5000 && t.rows[0].slotsFen.reduce(0, +) == 5000 && !t.ownOnly)
            t = try json(try await apiCall(app, .GET, "/api/v1/subsidy-totals?year=\(year)&month=\(month)&by=grid", token: w.officerToken), as: Totals.self)
            #expect(t.rows.count == 1 && t.rows[0].name == "第1网格" && t.totalYuan == "50.00" && t.slots.count == 1)
            t = try json(try await apiCall(app, .GET, "/api/v1/subsidy-totals?year=\(year - 1)", token: w.officerToken), as: Totals.self)
            #expect(t.rows.isEmpty && t.totalFen == 0)
            // A claimant sees their own; another grid's worker sees nothing of grid A.
            t = try json(try await apiCall(app, .GET, "/api/v1/subsidy-totals?year=\(year)", token: w.workerToken), as: Totals.self)
            #expect(t.ownOnly && t.totalFen == 5000)
            t = try json(try await apiCall(app, .GET, "/api/v1/subsidy-totals?year=\(year)", token: w.workerBToken), as: Totals.self)
            #expect(t.ownOnly && t.rows.isEmpty)
            let bList = try await apiCall(app, .GET, "/api/v1/subsidy-claims", token: w.workerBToken)
            #expect(bList.status == .ok && !bList.body.string.lowercased().contains(idText(claims[0])))
            #expect(try await apiCall(app, .GET, "/api/v1/subsidy-totals", token: w.contactToken).status == .forbidden)
            let badMonth = try await apiCall(app, .GET, "/api/v1/subsidy-totals?month=13", token: w.officerToken)
            #expect(badMonth.status == .unprocessableEntity && problem(badMonth)?.errors?.first?.field == "month")

            // Export: purpose required; CSV with watermark and amounts; audited.
            let noPurpose = try await apiCall(app, .POST, "/api/v1/subsidy-totals/export", token: w.officerToken, json: #"{"year":\#(year),"format":"csv"}"#)
            #expect(noPurpose.status == .unprocessableEntity && problem(noPurpose)?.errors?.first?.field == "purpose")
            let csv = try await apiCall(app, .POST, "/api/v1/subsidy-totals/export", token: w.officerToken, json: #"{"year":\#(year),"by":"person","format":"csv","purpose":"月度补贴发放"}"#)
            #expect(csv.status == .ok && csv.headers.contentType?.subType == "csv")
            let text = csv.body.string
            #expect(text.contains("grid.a") && text.contains("50.00") && text.contains("月度补贴发放") && text.contains("#\(csv.headers.first(name: "X-Export-Audit-Seq") ?? "?")"))
            let audit = try await app.fengqiao.store.sql.raw("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'export' AND object_type = 'subsidy-totals' AND purpose = '月度补贴发放'").first()?.decode(column: "n", as: Int.self)
            #expect(audit == 1)
            let xlsx = try await apiCall(app, .POST, "/api/v1/subsidy-totals/export", token: w.officerToken, json: #"{"year":\#(year),"by":"grid","format":"xlsx","purpose":"年度汇总"}"#)
            #expect(xlsx.status == .ok && xlsx.body.readableBytes > 200 && xlsx.body.getBytes(at: 0, length: 2) == [0x50, 0x4B])

            // The page and its export form.
            var officer = Browser(app)
            _ = try await officer.login("officer")
            let page = try await officer.get("/subsidies?year=\(year)")
            #expect(page.status == .ok && page.body.string.contains("grid.a") && page.body.string.contains("50.00"))
            let webCSV = try await officer.post("/subsidies/export", ["year": "\(year)", "month": "", "by": "grid", "format": "csv", "purpose": "核对"])
            #expect(webCSV.status == .ok && webCSV.body.string.contains("第1网格"))
            let webBad = try await officer.post("/subsidies/export", ["year": "\(year)", "by": "grid", "format": "csv", "purpose": ""])
            #expect(webBad.status == .unprocessableEntity && webBad.body.string.contains("purpose:"))
            var contact = Browser(app)
            _ = try await contact.login("property.a")
            #expect(try await contact.get("/subsidies").status == .forbidden)
        }
    }
}
