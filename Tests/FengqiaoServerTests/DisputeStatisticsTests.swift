import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Issue 4 "Statistics" and "Work lists" through HTTP: the figures of a known small set of
/// cases (success rate, ladder, overdue, prevented escalations, repeat calls, days to settle),
/// the same figures from the Swift rule, territory scoping (another community sees none of it,
/// 404 for its territory), the web page with server-drawn SVG, and each user's work lists.
@Suite("dispute statistics and work lists", .serialized)
struct DisputeStatisticsTests {
    typealias D = DisputeTests

    struct Figures: Decodable {
        var received: Int
        var accepted: Int
        var settled: Int
        var closed: Int
        var successRate: Double?
        var averageDaysToSettle: Double?
        var overdue: Int
        var preventedEscalations: Int
        var keptInCommunity: Int
        var keptInCommunityShare: Double?
        var repeatIncidents: Int?
    }
    struct Row: Decodable { var key: String; var label: String; var figures: Figures }
    struct Level: Decodable { var level: String; var settled: Int; var share: Double? }
    struct Ladder: Decodable { var settled: Int; var levels: [Level] }
    struct Stats: Decodable {
        var scope: String
        var totals: Figures
        var settledByLevel: Ladder
        var byCategory: [Row]
        var bySource: [Row]
        var byRiskGrade: [Row]
        var byLevel: [Row]
        var byOutcome: [Row]
        var byMonth: [Row]
        var byGrid: [Row]
        var byCommunity: [Row]
        var summary: [String: String]
        func ladder(_ l: String) -> Int { settledByLevel.levels.first { $0.level == l }?.settled ?? -1 }
    }
    struct WorkItem: Decodable { var id: UUID; var summary: String; var deadline: String?; var missing: [String]? }
    struct WorkList: Decodable { var items: [WorkItem]; var total: Int }
    struct Worklist: Decodable {
        var dueToday: WorkList
        var overdue: WorkList
        var awaitingSignOff: WorkList
        var jointSignOff: WorkList
        var judicialConfirmation: WorkList
        var toAccept: WorkList
        var assigned: WorkList
    }

    static func register(_ app: Application, _ token: String, grid: UUID, category: String = "02", summary: String, extra: String = "") async throws -> UUID {
        let body = #"{"category":"\#(category)","source":"5","gridId":"\#(idText(grid))","summary":"\#(summary)","parties":[{"name":"张三"},{"name":"李四"}]\#(extra)}"#
        let r = try await apiCall(app, .POST, "/api/v1/disputes", token: token, json: body)
        #expect(r.status == .created, "\(r.body.string)")
        return try json(r, as: D.DetailOut.self).dispute.id
    }

    /// accept → assign mediator one → (escalations) → oral agreement in effect; returns the version.
    static func settleOral(_ app: Application, _ f: D.Fixture, _ id: UUID, escalations: Int = 0) async throws -> Int {
        _ = try await D.advanced(app, f.officer, id, #"{"event":"accept","version":1}"#)
        var d = try await D.advanced(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
        for _ in 0..<escalations {
            let r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/escalate", token: f.officer, json: #"{"version":\#(d.dispute.version)}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            d = try json(r, as: D.DetailOut.self)
        }
        var r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement", token: f.mediator1Token,
                                  json: #"{"form":"oral","kind":"people","recordedContent":"双方同意互相谅解","recordedBy":"王调解","partyMarks":{},"committeeSeal":false}"#)
        #expect(r.status == .created, "\(r.body.string)")
        r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/effect", token: f.mediator1Token, json: #"{"version":\#(d.dispute.version)}"#)
        #expect(r.status == .ok, "\(r.body.string)")
        let out = try json(r, as: D.DetailOut.self)
        #expect(out.dispute.state == "agreement_effective")
        return out.dispute.version
    }

    static func stats(_ app: Application, _ token: String, _ query: String = "", sourceLocation: SourceLocation = #_sourceLocation) async throws -> Stats {
        let r = try await apiCall(app, .GET, "/api/v1/disputes/statistics" + query, token: token)
        #expect(r.status == .ok, "\(r.body.string)", sourceLocation: sourceLocation)
        return try json(r, as: Stats.self)
    }

    /// Five cases in the community (grid A: D1 settled in the grid after 2 days, D2 escalated to
    /// the community and terminated, D5 left open until overdue; grid B: D3 refused, D4 red,
    /// escalated twice and settled above the community the same day) and one in the other
    /// community; two calls from one address (one repeat).
    struct Data {
        var f: D.Fixture
        var d1: UUID, d2: UUID, d3: UUID, d4: UUID, d5: UUID, d6: UUID
    }

    static func seed(_ app: Application) async throws -> Data {
        let f = try await D.fixture(app)
        let t = f.t
        let d1 = try await register(app, f.workerA, grid: t.gridA.id, category: "02", summary: "楼上噪音")
        let d2 = try await register(app, f.workerA, grid: t.gridA.id, category: "01", summary: "赡养纠纷")
        let d3 = try await register(app, f.workerB, grid: t.gridB.id, category: "02", summary: "占用楼道")
        let d4 = try await register(app, f.workerB, grid: t.gridB.id, category: "04", summary: "欠款纠纷", extra: #","riskFlags":["weapons"]"#)
        let d5 = try await register(app, f.workerA, grid: t.gridA.id, category: "99", summary: "停车纠纷")
        let other = try await makeUser(app, "worker.c", .gridWorker, TerritoryScope(level: .grid, territoryID: t.gridC.id))
        let d6 = try await register(app, try await issueToken(app, other), grid: t.gridC.id, category: "02", summary: "另一社区的纠纷")
        // D4: red, moved up twice (grid → community → station), settled there on day 0.
        _ = try await settleOral(app, f, d4, escalations: 2)
        // D3: a party clearly refuses (Art. 17).
        _ = try await D.advanced(app, f.officer, d3, #"{"event":"reject","version":1,"reason":"partyRefuses"}"#)
        // D2: escalated to the community, then mediation failed (Art. 26).
        _ = try await D.advanced(app, f.officer, d2, #"{"event":"accept","version":1}"#)
        _ = try await D.advanced(app, f.officer, d2, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
        var r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(d2))/escalate", token: f.officer, json: #"{"version":3}"#)
        #expect(r.status == .ok, "\(r.body.string)")
        _ = try await D.advanced(app, f.officer, d2, #"{"event":"terminate","version":4,"reason":"failed"}"#)
        // D1: settled in the grid two days later, then performed, visited, closed.
        f.clock.advance(days: 2)
        var v = try await settleOral(app, f, d1)
        for e in ["startPerformance", "performed"] {
            v = try await D.advanced(app, f.officer, d1, #"{"event":"\#(e)","version":\#(v)}"#).dispute.version
        }
        _ = try await D.advanced(app, f.officer, d1, #"{"event":"followUpVisitRecorded","version":\#(v),"note":"回访无异常"}"#)
        // Two calls from the same address: the second is a repeat.
        for phone in ["13900000001", "13900000002"] {
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: D.incidentJSON(address: f.addressA, phone: phone))
            #expect(r.status == .created, "\(r.body.string)")
            f.clock.advance(days: 1)
        }
        // Six more days: D5 (yellow, grid level, 7 days) is past its deadline.
        f.clock.advance(days: 6)
        return Data(f: f, d1: d1, d2: d2, d3: d3, d4: d4, d5: d5, d6: d6)
    }

    @Test("figures of a known set: totals, ladder, breakdowns, summary; SQL agrees with the Swift rule")
    func knownFigures() async throws {
        try await withApp { app in
            let s = try await Self.seed(app)
            let f = s.f
            let st = try await Self.stats(app, f.officer)
            let t = st.totals
            #expect(t.received == 5 && t.accepted == 3 && t.settled == 2 && t.closed == 3, "\(t)")
            #expect(t.successRate.map { abs($0 - 2.0 / 3.0) < 1e-9 } == true)
            #expect(t.averageDaysToSettle == 1.0, "D1 took 2 days, D4 0 days")
            #expect(t.overdue == 1 && t.preventedEscalations == 1 && t.keptInCommunity == 4 && t.keptInCommunityShare == 0.8, "\(t)")
            #expect(t.repeatIncidents == 1)
            #expect(st.settledByLevel.settled == 2 && st.ladder("grid") == 1 && st.ladder("station") == 1 && st.ladder("building") == 0 && st.ladder("community") == 0)
            #expect(st.settledByLevel.levels.first { $0.level == "grid" }?.share == 0.5)
            // Breakdowns.
            let cat = Dictionary(uniqueKeysWithValues: st.byCategory.map { ($0.key, $0.figures) })
            #expect(cat["02"]?.received == 2 && cat["02"]?.settled == 1 && cat["01"]?.closed == 1 && cat["04"]?.preventedEscalations == 1 && cat["99"]?.overdue == 1)
            #expect(st.byCategory.first { $0.key == "02" }?.label == "邻里纠纷")
            #expect(st.bySource.map(\.key) == ["5"] && st.bySource[0].figures.received == 5)
            #expect(Dictionary(uniqueKeysWithValues: st.byRiskGrade.map { ($0.key, $0.figures.received) }) == ["R": 1, "Y": 4])
            #expect(Dictionary(uniqueKeysWithValues: st.byLevel.map { ($0.key, $0.figures.received) }) == ["grid": 3, "community": 1, "station": 1])
            #expect(Dictionary(uniqueKeysWithValues: st.byOutcome.map { ($0.key, $0.figures.received) }) == ["inProgress": 1, "settled": 2, "terminated": 1, "notAccepted": 1])
            #expect(st.byMonth.map(\.key) == ["2026-09"] && st.byMonth[0].figures.received == 5)
            let grids = Dictionary(uniqueKeysWithValues: st.byGrid.map { ($0.label, $0.figures) })
            #expect(grids["第1网格"]?.received == 3 && grids["第1网格"]?.repeatIncidents == 1 && grids["第2网格"]?.received == 2 && grids["第2网格"]?.repeatIncidents == 0)
            #expect(st.byCommunity.count == 1 && st.byCommunity[0].label == "测试社区" && st.byCommunity[0].figures.received == 5)
            #expect(st.summary["zh"]?.contains("共排查化解矛盾纠纷 5 起，调处成功率 66.7%") == true, "\(st.summary)")
            #expect(st.summary["zh"]?.contains("小事不出网格 1 起") == true && st.summary["zh"]?.contains("矛盾不上交率 80%") == true)
            #expect(st.summary["en"]?.contains("mediation success rate 66.7%") == true)
            // The Swift rule over the cases as read one by one gives the same counts.
            var swift = DisputeFigures()
            for id in [s.d1, s.d2, s.d3, s.d4, s.d5] {
                let row = try await app.fengqiao.store.sql.select().columns("state", "level", "risk_grade", "civil_to_criminal_risk", "level_due_at", "registered_at")
                    .from("disputes").where("id", .equal, SQLBind(id)).first()!
                swift = swift + DisputeFigures.of(
                    state: DisputeState(rawValue: try row.decode(column: "state", as: String.self))!, level: DisputeLevel(rawValue: try row.decode(column: "level", as: String.self))!,
                    risk: RiskGrade(rawValue: try row.decode(column: "risk_grade", as: String.self))!, civilToCriminalRisk: try row.decode(column: "civil_to_criminal_risk", as: Bool.self),
                    levelDueAt: try row.decode(column: "level_due_at", as: Date?.self), registeredAt: try row.decode(column: "registered_at", as: Date.self), settledDays: nil, now: f.clock.now)
            }
            #expect(swift.received == t.received && swift.accepted == t.accepted && swift.settled == t.settled && swift.closed == t.closed)
            #expect(swift.overdue == t.overdue && swift.preventedEscalations == t.preventedEscalations && swift.keptInCommunity == t.keptInCommunity)
            // Narrowed to grid B; a period after the cases; a bad period.
            let b = try await Self.stats(app, f.officer, "?territory=\(idText(f.t.gridB.id))")
            #expect(b.totals.received == 2 && b.totals.settled == 1 && b.ladder("station") == 1 && b.scope == "第2网格")
            let later = try await Self.stats(app, f.officer, "?from=2026-10-01")
            #expect(later.totals.received == 0 && later.totals.successRate == nil && later.byCategory.isEmpty)
            let sept = try await Self.stats(app, f.officer, "?from=2026-09-21&to=2026-09-21")
            #expect(sept.totals.received == 5)
            var r = try await apiCall(app, .GET, "/api/v1/disputes/statistics?from=2026-09-30&to=2026-09-01", token: f.officer)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "to")
            r = try await apiCall(app, .GET, "/api/v1/disputes/statistics?from=30.9.2026", token: f.officer)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "from")
            r = try await apiCall(app, .GET, "/api/v1/disputes/statistics?territory=nope", token: f.officer)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "territory")
        }
    }

    @Test("cache: an unchanged scope reuses its report; a write by any path (even raw SQL) or the next time bucket makes a new one")
    func reportCache() async throws {
        struct Stamp: Decodable { var generatedAt: String; var totals: Figures }
        try await withApp { app in
            let data = try await Self.seed(app)
            let f = data.f
            func stamp() async throws -> Stamp {
                let r = try await apiCall(app, .GET, "/api/v1/disputes/statistics", token: f.officer)
                #expect(r.status == .ok, "\(r.body.string)")
                return try json(r, as: Stamp.self)
            }
            let first = try await stamp()
            f.clock.advance(seconds: 1)
            let again = try await stamp()
            #expect(again.generatedAt == first.generatedAt, "the same scope with nothing changed is the cached report")
            // A write that bypasses every service (a trigger bumps the change counter).
            let sql = app.fengqiao.store.db as! any SQLDatabase
            try await sql.raw("UPDATE disputes SET state = 'closed_resolved' WHERE id = \(bind: data.d5)").run()
            let afterWrite = try await stamp()
            #expect(afterWrite.generatedAt != first.generatedAt)
            #expect(afterWrite.totals.closed == first.totals.closed + 1, "the raw write is counted at once")
            // The next time bucket (60 s by default) recomputes even with no write.
            f.clock.advance(seconds: 61)
            let later = try await stamp()
            #expect(later.generatedAt != afterWrite.generatedAt)
        }
    }

    @Test("一事一案一补 for a dispute: claimable once closed as resolved after the follow-up visit, by one who handled it; one per case; reviewed by another; amount from the dispute tariff")
    func disputeSubsidy() async throws {
        struct ClaimOut: Decodable { var id: UUID; var caseType: String; var state: String; var amountFen: Int? }
        try await withApp { app in
            let data = try await Self.seed(app)
            let f = data.f
            _ = try await HazardService(app.fengqiao).addTariff(SubsidyTariffEntry(caseType: .dispute, effectiveFrom: try CalendarDate(year: 2020, month: 1, day: 1), amountFen: 10_000),
                                                                 actor: EscalationService.systemActor)
            func claim(_ token: String, _ id: UUID) async throws -> TestingHTTPResponse {
                try await apiCall(app, .POST, "/api/v1/subsidy-claims", token: token, json: #"{"caseType":"dispute","caseId":"\#(idText(id))"}"#)
            }
            // D5 is still open: not claimable. D6 is in another community: not found for this worker.
            let open = try await claim(f.workerA, data.d5)
            #expect(open.status == .unprocessableEntity && problem(open)?.errors?.first?.field == "caseId", "\(open.body.string)")
            let foreign = try await claim(f.workerA, data.d6)
            #expect(foreign.status == .unprocessableEntity && problem(foreign)?.detail.contains("territory") == true, "\(foreign.body.string)")
            // D1 closed as resolved after the follow-up visit; grid worker A registered it.
            let ok = try await claim(f.workerA, data.d1)
            #expect(ok.status == .created, "\(ok.body.string)")
            let c = try json(ok, as: ClaimOut.self)
            #expect(c.caseType == "dispute" && c.state == "claimed")
            let again = try await claim(f.workerA, data.d1)
            #expect(again.status == .conflict && problem(again)?.detail.contains(idText(c.id)) == true)
            // Grid worker B's grid does not hold D1: it is not even found.
            #expect(try await claim(f.workerB, data.d1).status == .unprocessableEntity)
            let approved = try await apiCall(app, .POST, "/api/v1/subsidy-claims/\(idText(c.id))/review", token: f.officer, json: #"{"approve":true}"#)
            #expect(approved.status == .ok, "\(approved.body.string)")
            let a = try json(approved, as: ClaimOut.self)
            #expect(a.state == "approved" && a.amountFen == 10_000)
        }
    }

    @Test("web: the case page offers 申领一事一补 to a handler of a resolved case, posts it once; another grid's worker gets 404")
    func disputeSubsidyWeb() async throws {
        try await withApp { app in
            let data = try await Self.seed(app)
            let page = "/disputes/\(idText(data.d1))"
            var a = Browser(app)
            _ = try await a.login("worker.a")
            var r = try await a.get(page)
            #expect(r.body.string.contains("\(page)/claim"))
            r = try await a.get("/disputes/\(idText(data.d5))")
            #expect(!r.body.string.contains("/claim\""), "an open case offers no claim")
            r = try await a.post("\(page)/claim", [:])
            #expect(r.status == .seeOther, "\(r.status) \(r.body.string.prefix(300))")
            r = try await a.get(page + "?notice=claimed")
            #expect(r.body.string.contains("补贴申领已提交") && !r.body.string.contains("\(page)/claim\""))
            r = try await a.post("\(page)/claim", [:])
            #expect(r.status == .conflict || r.status == .unprocessableEntity, "\(r.status)")
            #expect(r.body.string.contains("one subsidy per case"))
            var b = Browser(app)
            _ = try await b.login("worker.b")
            _ = try await b.get("/disputes")
            #expect(try await b.post("\(page)/claim", [:]).status == .notFound)
        }
    }

    @Test("a dispute subsidy is refused to one who did not handle the case")
    func disputeSubsidyNotHandler() async throws {
        try await withApp { app in
            let data = try await Self.seed(app)
            let other = try await makeUser(app, "worker.a2", .gridWorker, TerritoryScope(level: .grid, territoryID: data.f.t.gridA.id))
            let r = try await apiCall(app, .POST, "/api/v1/subsidy-claims", token: try await issueToken(app, other),
                                      json: #"{"caseType":"dispute","caseId":"\#(idText(data.d1))"}"#)
            #expect(r.status == .forbidden, "\(r.body.string)")
        }
    }

    @Test("scope: another community sees none of it (404 for its territory), a grid its grid, a mediator their cases")
    func scope() async throws {
        try await withApp { app in
            let s = try await Self.seed(app)
            let f = s.f
            // The other community's officer: only its own case; ours is 404.
            let other = try await Self.stats(app, f.otherOfficer)
            #expect(other.totals.received == 1 && other.totals.repeatIncidents == 0 && other.byGrid.count == 1 && other.byCommunity.map(\.label) == ["另一社区"])
            for territory in [f.t.community.id, f.t.gridA.id, f.t.gridB.id, UUID()] {
                let r = try await apiCall(app, .GET, "/api/v1/disputes/statistics?territory=\(idText(territory))", token: f.otherOfficer)
                #expect(r.status == .notFound, "\(r.body.string)")
            }
            // Grid B's worker: grid B only, even when asking for the whole community.
            for q in ["", "?territory=\(idText(f.t.community.id))"] {
                let b = try await Self.stats(app, f.workerB, q)
                #expect(b.totals.received == 2 && b.byGrid.count == 1 && b.totals.repeatIncidents == 0)
            }
            let r = try await apiCall(app, .GET, "/api/v1/disputes/statistics?territory=\(idText(f.t.gridA.id))", token: f.workerB)
            #expect(r.status == .notFound)
            // Mediator one is assigned to D1, D2 and D4; mediator two to none.
            let m1 = try await Self.stats(app, f.mediator1Token)
            #expect(m1.totals.received == 3 && m1.totals.settled == 2 && m1.totals.closed == 3)
            // Labelled as the mediator's own cases, not the community's.
            #expect(m1.scope == "mediator.one承办（测试社区）", "\(m1.scope)")
            let m2 = try await Self.stats(app, f.mediator2Token)
            #expect(m2.totals.received == 0 && m2.byGrid.isEmpty)
            // No read permission, no statistics.
            let volunteer = try await makeUser(app, "volunteer.a", .volunteer, TerritoryScope(level: .grid, territoryID: f.t.gridA.id))
            let a = try await apiCall(app, .GET, "/api/v1/disputes/statistics", token: try await issueToken(app, volunteer))
            #expect(a.status == .forbidden)
            // The web page of the other community's officer shows none of ours.
            var web = Browser(app)
            _ = try await web.login("officer.other")
            let page = try await web.get("/disputes/statistics")
            #expect(page.status == .ok && page.body.string.contains("排查化解矛盾纠纷 1 起") && !page.body.string.contains("测试社区"))
            #expect(try await web.get("/disputes/statistics?territory=\(idText(f.t.community.id))").status == .notFound)
        }
    }

    @Test("web: 矛盾纠纷统计 with server-drawn, labelled SVG charts and tables, zh and en")
    func webPage() async throws {
        try await withApp { app in
            _ = try await Self.seed(app)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            var r = try await officer.get("/disputes/statistics")
            #expect(r.status == .ok)
            let page = r.body.string
            #expect(page.contains("矛盾纠纷统计") && page.contains("共排查化解矛盾纠纷 5 起，调处成功率 66.7%"))
            #expect(page.contains("<svg") && page.contains("role=\"img\"") && page.contains("<title") && page.contains("<desc"))
            #expect(page.contains("小事不出网格") && page.contains("上交派出所/综治中心") && page.contains("邻里纠纷") && page.contains("2026-09"))
            #expect(!page.contains("<script src=\"http"), "no chart library")
            r = try await officer.get("/disputes/statistics?territory=\(idText(UUID()))")
            #expect(r.status == .notFound)
            var english = officer
            english.cookies["fq_lang"] = "en"
            r = try await english.get("/disputes/statistics")
            #expect(r.body.string.contains("Dispute statistics") && r.body.string.contains("mediation success rate 66.7%"))
        }
    }

    @Test("regression: repeat calls about an address with no dispute behind them are received (the chain lookup groups its OR)")
    func repeatsWithoutDispute() async throws {
        try await withApp { app in
            let f = try await D.fixture(app)
            var ids: [UUID] = []
            for (n, phone) in ["13900000011", "13900000012", "13900000013"].enumerated() {
                let r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: D.incidentJSON(address: f.addressA, phone: phone, category: "20"))
                #expect(r.status == .created, "call \(n + 1): \(r.body.string)")
                let i = try json(r, as: D.IncidentOut.self)
                #expect(i.isRepeat == (n > 0) && i.disputeId == nil)
                ids.append(i.id)
                f.clock.advance(days: 1)
            }
            let st = try await Self.stats(app, f.officer)
            #expect(st.totals.repeatIncidents == 2 && st.totals.received == 0)
        }
    }

    @Test("work lists: due today, overdue, awaiting sign-off, judicial confirmation — each user their own")
    func worklist() async throws {
        try await withApp { app in
            let f = try await D.fixture(app)
            // 08:00 in Shanghai on 2026-09-22.
            f.clock.advance(seconds: Date(timeIntervalSince1970: 1_790_035_200).timeIntervalSince(f.clock.now))
            // Old: registered in grid A, then 8 days pass (yellow grid deadline is 7 days).
            let old = try await Self.register(app, f.workerA, grid: f.t.gridA.id, summary: "久拖未决")
            f.clock.advance(days: 8)
            // Due today: red at building level (12 h) registered at 08:00 → 20:00 today.
            let today = try await Self.register(app, f.workerA, grid: f.t.gridA.id, summary: "今日到期", extra: #","level":"building","riskFlags":["threatOfViolence"]"#)
            // Awaiting sign-off: mediating with a written draft lacking marks.
            let draft = try await Self.register(app, f.workerB, grid: f.t.gridB.id, summary: "待签协议")
            _ = try await D.advanced(app, f.officer, draft, #"{"event":"accept","version":1}"#)
            _ = try await D.advanced(app, f.officer, draft, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
            var r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(draft))/agreement", token: f.mediator1Token, json: #"""
                {"form":"written","kind":"people","partiesInformation":"张三、李四","facts":"噪音","disputedMatters":"噪音","responsibilities":"张三","agreedContent":"不再噪音","performanceManner":"当面","performanceDeadline":"2026-12-31","partyMarks":{},"committeeSeal":false}
                """#)
            #expect(r.status == .created, "\(r.body.string)")
            // Judicial-confirmation window open: an oral agreement in effect.
            let effective = try await Self.register(app, f.workerB, grid: f.t.gridB.id, summary: "协议已生效")
            _ = try await Self.settleOral(app, f, effective)

            func list(_ token: String) async throws -> Worklist {
                let r = try await apiCall(app, .GET, "/api/v1/disputes/worklist", token: token)
                #expect(r.status == .ok, "\(r.body.string)")
                return try json(r, as: Worklist.self)
            }
            let o = try await list(f.officer)
            #expect(o.dueToday.items.map(\.id) == [today] && o.dueToday.total == 1)
            #expect(o.overdue.items.map(\.id) == [old] && o.overdue.total == 1)
            #expect(o.awaitingSignOff.items.map(\.id) == [draft])
            let missing = o.awaitingSignOff.items.first?.missing ?? []
            #expect(missing.contains("mediatorSignature") && missing.contains("committeeSeal") && missing.filter { $0.hasPrefix("party:") }.count == 2, "\(missing)")
            #expect(o.judicialConfirmation.items.map(\.id) == [effective])
            let eff = CalendarDate(f.clock.now, timeZone: TimeZone(identifier: "Asia/Shanghai")!)
            #expect(o.judicialConfirmation.items.first?.deadline == JudicialConfirmation.deadline(effectiveOn: eff).description)
            #expect(o.jointSignOff.total == 0)
            // Pushed to the governance centre (双推送): the police side's sign-off is awaited until given.
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(old))/joint/push", token: f.officer, json: #"{"note":"联合化解"}"#)
            #expect(r.status == .ok || r.status == .created, "\(r.body.string)")
            #expect(try await list(f.officer).jointSignOff.items.map(\.id) == [old])
            #expect(try await list(f.workerA).jointSignOff.total == 0, "a grid worker signs for no side")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(old))/joint/sign-off", token: f.officer, json: #"{"note":"警方同意"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            #expect(try await list(f.officer).jointSignOff.total == 0)
            // Grid A's worker: only grid A's cases; grid B's worker: only grid B's.
            let a = try await list(f.workerA)
            #expect(a.dueToday.total == 1 && a.overdue.total == 1 && a.awaitingSignOff.total == 0 && a.judicialConfirmation.total == 0)
            let b = try await list(f.workerB)
            #expect(b.dueToday.total == 0 && b.overdue.total == 0 && b.awaitingSignOff.total == 1 && b.judicialConfirmation.total == 1)
            // Mediator one: the assigned cases only; mediator two: nothing.
            let m1 = try await list(f.mediator1Token)
            #expect(m1.awaitingSignOff.items.map(\.id) == [draft] && m1.judicialConfirmation.total == 1 && m1.overdue.total == 0 && m1.dueToday.total == 0)
            let m2 = try await list(f.mediator2Token)
            #expect(m2.awaitingSignOff.total + m2.judicialConfirmation.total + m2.overdue.total + m2.dueToday.total == 0)
            // 待受理: registered, not yet accepted — the officer sees both of grid A's, oldest first;
            // grid A's worker the same two, grid B's none; mediators never (they do not decide acceptance).
            #expect(o.toAccept.items.map(\.id) == [old, today] && o.toAccept.total == 2)
            #expect(a.toAccept.items.map(\.id) == [old, today] && b.toAccept.total == 0)
            #expect(m1.toAccept.total == 0)
            // 我承办的案件: a mediator's open assigned cases (the draft and the agreement in effect); others none.
            #expect(Set(m1.assigned.items.map(\.id)) == [draft, effective] && m1.assigned.total == 2)
            #expect(m2.assigned.total == 0 && o.assigned.total == 0 && a.assigned.total == 0)
            // Each assignment notified the mediator once, linking the case page; mediator two got nothing.
            let sql = app.fengqiao.store.db as! any SQLDatabase
            let notes = try await sql.raw("SELECT account_id, link FROM notifications WHERE kind = 'dispute.assigned'").all()
            #expect(notes.count == 2)
            #expect(try notes.allSatisfy { try $0.decode(column: "account_id", as: UUID.self) == f.mediator1.id })
            #expect(Set(try notes.map { try $0.decode(column: "link", as: String.self) }) == ["/disputes/\(idText(draft))", "/disputes/\(idText(effective))"])
            // The other community: nothing of ours.
            let other = try await list(f.otherOfficer)
            #expect(other.dueToday.total + other.overdue.total + other.awaitingSignOff.total + other.judicialConfirmation.total == 0)
            // Once every mark is on, the case leaves the sign-off list.
            let parties = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(draft))", token: f.officer), as: D.DetailOut.self).parties
            for p in parties {
                r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(draft))/agreement/sign", token: f.mediator1Token, json: #"{"partyId":"\#(idText(p.id))","mark":"fingerprinted"}"#)
                #expect(r.status == .ok)
            }
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(draft))/agreement/sign", token: f.mediator1Token, json: #"{"mediatorSignature":"王调解","committeeSeal":true}"#)
            #expect(r.status == .ok)
            #expect(try await list(f.mediator1Token).awaitingSignOff.total == 0)
            r = try await apiCall(app, .GET, "/api/v1/disputes/worklist?limit=0", token: f.officer)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "limit")
            // 我的待办 on the dispute page.
            var web = Browser(app)
            _ = try await web.login("worker.a")
            let page = try await web.get("/disputes")
            #expect(page.status == .ok)
            #expect(page.body.string.contains("我的待办") && page.body.string.contains("今日到期") && page.body.string.contains("久拖未决") && page.body.string.contains("已超期"))
            #expect(!page.body.string.contains("待签协议"))
        }
    }
}
