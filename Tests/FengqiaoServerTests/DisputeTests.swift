import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// A clock the test moves by hand (injected through `app.disputeSettings`).
final class DisputeTestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date
    init(_ start: Date) { value = start }
    var now: Date { lock.withLock { value } }
    func advance(days: Double) { lock.withLock { value = value.addingTimeInterval(days * 86_400) } }
    func advance(seconds: Double) { lock.withLock { value = value.addingTimeInterval(seconds) } }
}

/// Issue 4, first slice, through HTTP: incident → dispute → grid-level mediation → escalation to
/// the community when the deadline passes → written agreement → follow-up → closed resolved;
/// repeat calls linked and raising the risk; scope 404s; optimistic concurrency; bad input.
@Suite("disputes and incidents API", .serialized)
struct DisputeTests {
    struct Fixture {
        var t: Territory
        var clock: DisputeTestClock
        var officer: String
        var workerA: String
        var workerB: String
        var otherOfficer: String
        var mediator1: Account
        var mediator1Token: String
        var mediator2Token: String
        var addressA: UUID
    }

    struct SummaryOut: Decodable {
        var id: UUID
        var version: Int
        var state: String
        var category: String
        var source: String
        var riskGrade: String
        var level: String
        var settledLevel: String?
        var incidentId: UUID?
        var effectiveOn: String?
    }
    struct PartyOut: Decodable { var id: UUID; var name: String; var idNumber: String?; var phone: String?; var masked: Bool }
    struct AgreementOut: Decodable { var id: UUID; var missingForEffect: [String]; var effectiveOn: String? }
    struct DetailOut: Decodable {
        var dispute: SummaryOut
        var parties: [PartyOut]
        var sessions: [SessionOut]
        var agreement: AgreementOut?
        var incidentIds: [UUID]
        var allowedEvents: [String]
        var judicialConfirmationDeadline: String?
    }
    struct SessionOut: Decodable { var id: UUID; var place: String }
    struct IncidentOut: Decodable {
        var id: UUID
        var state: String
        var isRepeat: Bool
        var repeatOf: UUID?
        var duplicateOf: UUID?
        var disputeId: UUID?
        var callerPhone: String?
        var repeatCountInWindow: Int?
        var riskRaisedTo: String?
        var arrivedAt: Date?
    }
    struct IncidentEventOut: Decodable { var incident: IncidentOut; var dispute: DetailOut? }
    struct TimelineOut: Decodable { var kind: String; var stateAfter: String; var actorName: String; var detail: String? }

    static let partyID = "530481199001010011"
    static let start = Date(timeIntervalSince1970: 1_790_000_000)

    static func fixture(_ app: Application) async throws -> Fixture {
        let clock = DisputeTestClock(start)
        // Only the clock: the rules stay the configured ones (`withApp(disputeRules:)`).
        app.disputeSettings.clock = { clock.now }
        let t = try await seedTerritory(app)
        let community = TerritoryScope(level: .community, territoryID: t.community.id)
        let officer = try await makeUser(app, "officer", .communityPoliceOfficer, community)
        let wa = try await makeUser(app, "worker.a", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridA.id))
        let wb = try await makeUser(app, "worker.b", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridB.id))
        let other = try await makeUser(app, "officer.other", .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.otherCommunity.id))
        let m1 = try await makeUser(app, "mediator.one", .mediator, community)
        let m2 = try await makeUser(app, "mediator.two", .mediator, community)
        let ta = try await issueToken(app, wa)
        let r = try await apiCall(app, .POST, "/api/v1/addresses", token: ta, json: PopulationTests.addressJSON(grid: t.gridA.id, building: t.buildingA.id))
        #expect(r.status == .created, "\(r.body.string)")
        struct Addr: Decodable { var id: UUID }
        return Fixture(
            t: t, clock: clock, officer: try await issueToken(app, officer), workerA: ta, workerB: try await issueToken(app, wb),
            otherOfficer: try await issueToken(app, other), mediator1: m1, mediator1Token: try await issueToken(app, m1),
            mediator2Token: try await issueToken(app, m2), addressA: try json(r, as: Addr.self).id)
    }

    static func incidentJSON(address: UUID, phone: String, at: Date? = nil, category: String = "80") -> String {
        let when = at.map { #","reportedAt":"\#(ISO8601DateFormatter().string(from: $0))""# } ?? ""
        return #"{"category":"\#(category)","priority":"p3","addressId":"\#(idText(address))","callerName":"王女士","callerPhone":"\#(phone)","summary":"楼上楼下吵架"\#(when)}"#
    }

    static func disputeJSON(grid: UUID, extra: String = "") -> String {
        #"{"category":"02","source":"5","gridId":"\#(idText(grid))","summary":"邻里噪音纠纷","parties":[{"name":"张三","idNumber":"\#(partyID)","phone":"13800138000"},{"name":"李四"}]\#(extra)}"#
    }

    /// Posts an event and returns the answer.
    static func event(_ app: Application, _ token: String, _ id: UUID, _ body: String) async throws -> TestingHTTPResponse {
        try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/events", token: token, json: body)
    }

    static func advanced(_ app: Application, _ token: String, _ id: UUID, _ body: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> DetailOut {
        let r = try await event(app, token, id, body)
        #expect(r.status == .ok, "\(r.body.string)", sourceLocation: sourceLocation)
        return try json(r, as: DetailOut.self)
    }

    @Test("done-when path: incident → dispute → grid mediation → escalation by deadline → written agreement → follow-up → closed resolved; repeat calls raise the risk")
    func fullPath() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            // 1. The first call: a neighbours' quarrel.
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.incidentJSON(address: f.addressA, phone: "13900000001"))
            #expect(r.status == .created, "\(r.body.string)")
            let first = try json(r, as: IncidentOut.self)
            #expect(!first.isRepeat && first.state == "received")
            #expect(first.callerPhone != nil && first.callerPhone != "+8613900000001" && !(first.callerPhone ?? "").contains("13900000001"))
            for e in ["dispatch", "arrive"] {
                r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(first.id))/events", token: f.officer, json: #"{"event":"\#(e)"}"#)
                #expect(r.status == .ok, "\(r.body.string)")
            }
            #expect(try json(r, as: IncidentEventOut.self).incident.arrivedAt != nil)
            // 2. Turned into a dispute, keeping the link.
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(first.id))/events", token: f.officer, json: #"""
                {"event":"convertToDispute","dispute":{"category":"02","level":"grid","summary":"楼上噪音引发争吵","parties":[{"name":"张三","idNumber":"\#(Self.partyID)"},{"name":"李四","phone":"13800138001"}]}}
                """#)
            #expect(r.status == .created, "\(r.body.string)")
            let converted = try json(r, as: IncidentEventOut.self)
            #expect(converted.incident.state == "transferred")
            let created = try #require(converted.dispute)
            let id = created.dispute.id
            #expect(converted.incident.disputeId == id)
            #expect(created.dispute.source == "4" && created.dispute.incidentId == first.id && created.dispute.state == "registered")
            #expect(created.dispute.level == "grid" && created.dispute.riskGrade == "Y")
            #expect(created.parties[0].masked && created.parties[0].idNumber != Self.partyID && created.parties[0].idNumber?.hasPrefix("530") == true)
            #expect(created.incidentIds == [first.id])
            // 3. Accepted, mediator assigned, a session at grid level.
            var d = try await Self.advanced(app, f.workerA, id, #"{"event":"accept","version":1}"#)
            #expect(d.dispute.state == "accepted" && d.dispute.version == 2)
            d = try await Self.advanced(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
            #expect(d.dispute.state == "mediating")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/sessions", token: f.mediator1Token,
                                  json: #"{"heldOn":"\#(CalendarDate(f.clock.now, timeZone: TimeZone(identifier: "Asia/Shanghai")!))","place":"1栋楼下","attendees":["张三","李四","王调解"],"minutes":"双方陈述，未达成一致"}"#)
            #expect(r.status == .created, "\(r.body.string)")
            // 4. The grid-level deadline (yellow: 7 days) passes: the sweep moves it to the community.
            f.clock.advance(days: 6)
            r = try await apiCall(app, .POST, "/api/v1/disputes/escalations", token: f.officer, json: "{}")
            #expect(r.status == .ok && r.body.string.contains("[]"), "\(r.body.string)")
            f.clock.advance(days: 1)
            r = try await apiCall(app, .POST, "/api/v1/disputes/escalations", token: f.officer, json: "{}")
            #expect(r.status == .ok && r.body.string.lowercased().contains(idText(id)), "\(r.body.string)")
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer)
            d = try json(r, as: DetailOut.self)
            #expect(d.dispute.level == "community")
            // 5. A second and third call from the same address: linked; the third raises the risk to orange.
            f.clock.advance(days: 1)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.incidentJSON(address: f.addressA, phone: "13900000002"))
            let second = try json(r, as: IncidentOut.self)
            #expect(second.isRepeat && second.repeatOf == first.id && second.disputeId == id && second.repeatCountInWindow == 2 && second.riskRaisedTo == nil)
            f.clock.advance(days: 1)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.incidentJSON(address: f.addressA, phone: "13900000003"))
            let third = try json(r, as: IncidentOut.self)
            #expect(third.isRepeat && third.repeatOf == first.id && third.disputeId == id && third.repeatCountInWindow == 3 && third.riskRaisedTo == "O")
            // Another caller about the same event ten minutes later: a duplicate, not a repeat, but
            // linked to the open dispute behind the call it duplicates (and on its timeline).
            f.clock.advance(seconds: 600)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.incidentJSON(address: f.addressA, phone: "13900000004"))
            let dup = try json(r, as: IncidentOut.self)
            #expect(!dup.isRepeat && dup.duplicateOf == third.id && dup.disputeId == id && dup.riskRaisedTo == nil)
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer)
            d = try json(r, as: DetailOut.self)
            #expect(d.dispute.riskGrade == "O")
            #expect(Set(d.incidentIds) == [first.id, second.id, third.id, dup.id])
            #expect(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))/timeline", token: f.officer).body.string.contains("duplicateIncident"))
            // 6. A written agreement: Art. 29 contents first, then marks, signature and seal.
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement", token: f.mediator1Token,
                                  json: #"{"form":"written","kind":"people","partiesInformation":"张三、李四","agreedContent":"张三夜间不再制造噪音","partyMarks":{},"committeeSeal":false}"#)
            #expect(r.status == .unprocessableEntity)
            #expect(problem(r)?.errors?.first?.field == "agreement")
            #expect(problem(r)?.detail.contains("facts, disputedMatters, responsibilities, performanceManner, performanceDeadline") == true, "\(r.body.string)")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement", token: f.mediator1Token, json: #"""
                {"form":"written","kind":"people","partiesInformation":"张三，住1栋301；李四，住1栋201","facts":"张三夜间噪音影响李四休息","disputedMatters":"噪音及赔礼","responsibilities":"张三负主要责任","agreedContent":"张三22时后不再制造噪音并赔礼道歉","performanceManner":"当面道歉","performanceDeadline":"2026-12-31","partyMarks":{},"committeeSeal":false}
                """#)
            #expect(r.status == .created, "\(r.body.string)")
            d = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DetailOut.self)
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/effect", token: f.mediator1Token, json: #"{"version":\#(d.dispute.version)}"#)
            #expect(r.status == .unprocessableEntity)
            #expect(problem(r)?.detail.contains("mediatorSignature, committeeSeal") == true, "\(r.body.string)")
            for p in d.parties {
                r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/sign", token: f.mediator1Token, json: #"{"partyId":"\#(idText(p.id))","mark":"signed"}"#)
                #expect(r.status == .ok, "\(r.body.string)")
            }
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/sign", token: f.mediator1Token, json: #"{"mediatorSignature":"王调解","committeeSeal":true}"#)
            #expect(try json(r, as: AgreementOut.self).missingForEffect.isEmpty)
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/effect", token: f.mediator1Token, json: #"{"version":\#(d.dispute.version)}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            d = try json(r, as: DetailOut.self)
            #expect(d.dispute.state == "agreement_effective" && d.dispute.settledLevel == "community")
            let effective = try #require(d.dispute.effectiveOn.flatMap(CalendarDate.init(iso:)))
            let deadline = JudicialConfirmation.deadline(effectiveOn: effective)
            #expect(d.judicialConfirmationDeadline == deadline.description)
            // A judicial-confirmation date after the window is refused naming the deadline.
            let late = JudicialConfirmation.deadline(effectiveOn: deadline)
            r = try await Self.event(app, f.officer, id, #"{"event":"applyJudicialConfirmation","version":\#(d.dispute.version),"appliedOn":"\#(late)"}"#)
            #expect(r.status == .unprocessableEntity)
            #expect(problem(r)?.errors?.first?.field == "appliedOn" && problem(r)?.detail.contains(deadline.description) == true, "\(r.body.string)")
            // 7. Performance, follow-up visit, closed resolved.
            d = try await Self.advanced(app, f.mediator1Token, id, #"{"event":"startPerformance","version":\#(d.dispute.version)}"#)
            d = try await Self.advanced(app, f.mediator1Token, id, #"{"event":"performed","version":\#(d.dispute.version)}"#)
            #expect(d.dispute.state == "follow_up")
            r = try await Self.event(app, f.mediator1Token, id, #"{"event":"followUpVisitRecorded","version":\#(d.dispute.version)}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "note")
            d = try await Self.advanced(app, f.mediator1Token, id, #"{"event":"followUpVisitRecorded","version":\#(d.dispute.version),"note":"回访：双方相安无事"}"#)
            #expect(d.dispute.state == "closed_resolved" && d.allowedEvents.isEmpty)
            // An event after closure is refused naming the state and the event; nothing changes.
            r = try await Self.event(app, f.officer, id, #"{"event":"accept","version":\#(d.dispute.version)}"#)
            #expect(r.status == .conflict)
            #expect(problem(r)?.detail.contains(#"event "accept" is not allowed in state "closed_resolved""#) == true, "\(r.body.string)")
            // The timeline tells the whole story, in order.
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))/timeline", token: f.workerA)
            let kinds = try json(r, as: ListPage<TimelineOut>.self).items.map(\.kind)
            #expect(kinds == [
                "register", "accept", "assignMediators", "session", "escalate", "repeatIncident", "repeatIncident", "duplicateIncident", "agreementDrafted",
                "agreementSigned", "agreementSigned", "agreementSigned", "agreeWritten", "startPerformance", "performed", "followUpVisitRecorded",
            ])
            // The statistics count the case at the level it was settled (the community), with the
            // two repeat calls and the escalation (orange) it prevented; the page says so.
            r = try await apiCall(app, .GET, "/api/v1/disputes/statistics", token: f.officer)
            #expect(r.status == .ok, "\(r.body.string)")
            let st = try json(r, as: DisputeStatisticsTests.Stats.self)
            #expect(st.totals.received == 1 && st.totals.settled == 1 && st.totals.closed == 1 && st.totals.successRate == 1, "\(st.totals)")
            #expect(st.ladder("community") == 1 && st.ladder("grid") == 0 && st.ladder("building") == 0 && st.ladder("station") == 0)
            #expect(st.totals.keptInCommunity == 1 && st.totals.repeatIncidents == 2 && st.totals.preventedEscalations == 1)
            #expect(st.byLevel.map(\.key) == ["community"] && st.bySource.map(\.key) == ["4"])
            var officerWeb = Browser(app)
            _ = try await officerWeb.login("officer")
            let statsPage = try await officerWeb.get("/disputes/statistics").body.string
            #expect(statsPage.contains("共排查化解矛盾纠纷 1 起，调处成功率 100%") && statsPage.contains("大事不出社区 1 起"), "\(statsPage.prefix(3000))")
            // The case page shows the one timeline of everything that happened.
            let casePage = try await officerWeb.get("/disputes/\(idText(id))").body.string
            for label in ["登记", "受理", "指派调解员", "上移层级", "重复警情", "拟定调解协议", "书面协议生效", "开始履行", "履行完毕", "回访", "mediator.one", "worker.a"] {
                #expect(casePage.contains(label), "timeline lacks \(label)")
            }
            // Reads of the parties and every transition are audited.
            let sql = app.fengqiao.store.sql
            let reads = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("audit_log")
                .where("action", .equal, "read").where("object_type", .equal, "dispute").where("object_id", .equal, idText(id)).first()!.decode(column: "n", as: Int.self)
            #expect(reads >= 3)
            let updates = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("audit_log")
                .where("action", .equal, "update").where("object_type", .equal, "dispute").where("object_id", .equal, idText(id)).first()!.decode(column: "n", as: Int.self)
            #expect(updates >= 8)
            let raw = try await sql.select().column("id_number_enc").from("dispute_parties").all()
            #expect(raw.allSatisfy { (try? $0.decode(column: "id_number_enc", as: String?.self))??.contains(Self.partyID) != true })
        }
    }

    @Test("scope: other grid, other community and unassigned mediators get 404 for reads and writes")
    func scope() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            var r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerA, json: Self.disputeJSON(grid: f.t.gridA.id))
            #expect(r.status == .created, "\(r.body.string)")
            let id = try json(r, as: DetailOut.self).dispute.id
            // A grid worker cannot register in another grid.
            r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerB, json: Self.disputeJSON(grid: f.t.gridA.id))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "gridId")
            for token in [f.workerB, f.otherOfficer, f.mediator2Token, f.mediator1Token] {
                r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: token)
                #expect(r.status == .notFound)
                r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))/timeline", token: token)
                #expect(r.status == .notFound)
                r = try await Self.event(app, token, id, #"{"event":"accept","version":1}"#)
                #expect(r.status == .notFound)
                r = try await apiCall(app, .GET, "/api/v1/disputes", token: token)
                #expect(try json(r, as: ListPage<SummaryOut>.self).total == 0)
            }
            r = try await apiCall(app, .GET, "/api/v1/disputes", token: f.officer)
            #expect(try json(r, as: ListPage<SummaryOut>.self).total == 1)
            // Once assigned, mediator one sees it; mediator two still does not.
            _ = try await Self.advanced(app, f.officer, id, #"{"event":"accept","version":1}"#)
            _ = try await Self.advanced(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.mediator1Token)
            #expect(r.status == .ok)
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.mediator2Token)
            #expect(r.status == .notFound)
            // Incidents: the other community's officer gets 404; a grid worker cannot receive incidents.
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.incidentJSON(address: f.addressA, phone: "13900000001"))
            let inc = try json(r, as: IncidentOut.self)
            r = try await apiCall(app, .GET, "/api/v1/incidents/\(idText(inc.id))", token: f.otherOfficer)
            #expect(r.status == .notFound)
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(inc.id))/events", token: f.otherOfficer, json: #"{"event":"dispatch"}"#)
            #expect(r.status == .notFound)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.workerA, json: Self.incidentJSON(address: f.addressA, phone: "13900000001"))
            #expect(r.status == .forbidden)
        }
    }

    @Test("repeat detection reads through the (category, key, reported_at) indexes, never a scan")
    func repeatIndexes() async throws {
        try await withApp { app in
            let sql = app.fengqiao.store.sql
            let keys = ["address_id": "incidents_address_key_idx", "party_idx": "incidents_party_key_idx", "caller_phone_idx": "incidents_phone_key_idx"]
            switch app.fengqiao.store.dialect {
            case .sqlite:
                for (column, index) in keys {
                    let rows = try await sql.raw("""
                        EXPLAIN QUERY PLAN SELECT id FROM police_incidents WHERE category = '80' AND \(unsafeRaw: column) = 'x'
                        AND reported_at >= 0 AND reported_at <= 1 ORDER BY reported_at LIMIT 1000
                        """).all()
                    let plan = try rows.map { try $0.decode(column: "detail", as: String.self) }.joined(separator: " | ")
                    #expect(plan.contains("USING INDEX \(index)") || plan.contains("USING COVERING INDEX \(index)"), "\(plan)")
                    #expect(!plan.contains("SCAN police_incidents"), "\(plan)")
                }
            case .postgres:
                let rows = try await sql.raw("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'police_incidents'").all()
                let defs = try rows.map { try $0.decode(column: "indexdef", as: String.self) }
                for (column, index) in keys {
                    #expect(defs.contains { $0.contains(index) && $0.contains("(category, \(column), reported_at)") }, "\(defs)")
                }
            }
        }
    }

    @Test("web: the dispute list and one case's timeline, scoped, parties masked, zh/en")
    func webPages() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            var r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerA, json: Self.disputeJSON(grid: f.t.gridA.id))
            let id = try json(r, as: DetailOut.self).dispute.id
            _ = try await Self.advanced(app, f.officer, id, #"{"event":"accept","version":1}"#)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            r = try await officer.get("/disputes")
            #expect(r.status == .ok)
            #expect(r.body.string.contains("邻里噪音纠纷") && r.body.string.contains("/disputes/\(idText(id))") && r.body.string.contains("已受理"))
            r = try await officer.get("/disputes/\(idText(id))")
            #expect(r.status == .ok)
            let page = r.body.string
            #expect(page.contains("办理过程") && page.contains("受理") && page.contains("张三") && page.contains("worker.a"))
            #expect(!page.contains(Self.partyID) && !page.contains("13800138000"), "parties are masked")
            var english = officer
            english.cookies["fq_lang"] = "en"
            r = try await english.get("/disputes/\(idText(id))")
            #expect(r.body.string.contains("Timeline") && r.body.string.contains("Accepted"))
            var other = Browser(app)
            _ = try await other.login("worker.b")
            r = try await other.get("/disputes/\(idText(id))")
            #expect(r.status == .notFound)
            r = try await other.get("/disputes")
            #expect(r.status == .ok && !r.body.string.contains("邻里噪音纠纷"))
        }
    }

    @Test("two users advancing the same case at once: one wins, the other is told the case changed")
    func concurrency() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            let r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer, json: Self.disputeJSON(grid: f.t.gridA.id))
            let id = try json(r, as: DetailOut.self).dispute.id
            async let a = Self.event(app, f.officer, id, #"{"event":"accept","version":1}"#)
            async let b = Self.event(app, f.workerA, id, #"{"event":"reject","version":1,"reason":"partyRefuses"}"#)
            let results = try await [a, b]
            #expect(results.filter { $0.status == .ok }.count == 1)
            let lost = try #require(results.first { $0.status != .ok })
            #expect(lost.status == .conflict)
            #expect(problem(lost)?.errors?.first?.field == "version" && problem(lost)?.detail.contains("the case changed") == true, "\(lost.body.string)")
            let d = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DetailOut.self)
            #expect(d.dispute.version == 2)
        }
    }

    @Test("bad input: unknown incident category, location outside every grid, invalid transition, related mediator, missing fields")
    func badInput() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.incidentJSON(address: f.addressA, phone: "13900000001", category: "81"))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "category")
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: #"{"category":"80","location":{"lon":100.0,"lat":20.0}}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "location", "\(r.body.string)")
            // Inside grid A's polygon: placed in grid A.
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: #"{"category":"80","location":{"lon":102.905,"lat":24.675}}"#)
            #expect(r.status == .created, "\(r.body.string)")
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: #"{"category":"80"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "location")
            r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer, json: #"{"category":"77","source":"1","gridId":"\#(idText(f.t.gridA.id))","summary":"x","parties":[{"name":"a"}]}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "category")
            r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer, json: #"{"category":"02","source":"1","gridId":"\#(idText(f.t.gridA.id))","summary":"x","parties":[]}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "parties")
            r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer, json: #"{"category":"02","source":"1","gridId":"\#(idText(f.t.gridA.id))","summary":"x","parties":[{"name":"a","idNumber":"530481199001010012"}]}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "parties[0].idNumber")
            r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer, json: Self.disputeJSON(grid: f.t.gridA.id, extra: #","riskFlags":["weapons"]"#))
            let d = try json(r, as: DetailOut.self)
            #expect(d.dispute.riskGrade == "R")
            let id = d.dispute.id
            // Invalid transition: nothing changes.
            r = try await Self.event(app, f.officer, id, #"{"event":"agreeWritten","version":1}"#)
            #expect(r.status == .conflict && problem(r)?.detail.contains(#"event "agreeWritten" is not allowed in state "registered""#) == true, "\(r.body.string)")
            r = try await Self.event(app, f.officer, id, #"{"event":"fly","version":1}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "event")
            r = try await Self.event(app, f.officer, id, #"{"event":"reject","version":1}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "reason")
            var now = try await Self.advanced(app, f.officer, id, #"{"event":"accept","version":1}"#)
            // A mediator related to a party is refused; a non-mediator account too.
            let party = now.parties[1].id
            r = try await Self.event(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))","relatedPartyIds":["\#(idText(party))"]}]}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.detail.contains("related to a party") == true, "\(r.body.string)")
            r = try await Self.event(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[]}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "mediators")
            let outsider = try await makeUser(app, "mediator.other", .mediator, TerritoryScope(level: .community, territoryID: f.t.otherCommunity.id))
            r = try await Self.event(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(outsider.id))"}]}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "mediators[0].accountId", "\(r.body.string)")
            // Manual escalation (mediation failed at this level): stale version refused, then grid → community → station, then no higher.
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/escalate", token: f.officer, json: #"{"version":1}"#)
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "version")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/escalate", token: f.officer, json: #"{"version":2,"note":"网格调解不成"}"#)
            #expect(try json(r, as: DetailOut.self).dispute.level == "community")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/escalate", token: f.officer, json: #"{"version":3}"#)
            #expect(try json(r, as: DetailOut.self).dispute.level == "station")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/escalate", token: f.officer, json: #"{"version":4}"#)
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "level")
            now = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DetailOut.self)
            #expect(now.dispute.state == "accepted" && now.dispute.version == 4 && now.dispute.level == "station")
            // Sessions only while mediating.
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/sessions", token: f.officer, json: #"{"heldOn":"2026-01-01","place":"x","attendees":["a"],"minutes":"m"}"#)
            #expect(r.status == .conflict)
        }
    }

    @Test("a party is linked to a registered resident only inside the caller's territory and under the same name")
    func partyLinkIsScoped() async throws {
        try await withApp { app in
            let f = try await Self.fixture(app)
            // 张三 lives at an address of grid A.
            let r = try await apiCall(app, .POST, "/api/v1/residents", token: f.workerA,
                                      json: PopulationTests.residentJSON(address: f.addressA, idNumber: Self.partyID, name: "张三"))
            #expect(r.status == .created, "\(r.body.string)")
            struct Linked: Decodable { var residentId: UUID? }
            struct Detail: Decodable { var parties: [Linked] }
            // Grid A's worker: linked.
            let a = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerA, json: Self.disputeJSON(grid: f.t.gridA.id))
            #expect(a.status == .created, "\(a.body.string)")
            #expect(try json(a, as: Detail.self).parties.first?.residentId != nil)
            // Grid B's worker naming the same ID number: no link, so nothing tells them the person exists elsewhere.
            let b = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerB, json: Self.disputeJSON(grid: f.t.gridB.id))
            #expect(b.status == .created, "\(b.body.string)")
            #expect(try json(b, as: Detail.self).parties.first?.residentId == nil)
            // The right ID number under another name is not linked either.
            let c = try await apiCall(app, .POST, "/api/v1/disputes", token: f.workerA,
                                      json: Self.disputeJSON(grid: f.t.gridA.id).replacingOccurrences(of: "张三", with: "王五"))
            #expect(c.status == .created, "\(c.body.string)")
            #expect(try json(c, as: Detail.self).parties.first?.residentId == nil)
        }
    }
}
