import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import Testing
import Vapor
import VaporTesting

/// Issue 4 through the web forms only (Browser: session cookie + CSRF): a police incident about
/// a neighbours' quarrel → turned into a dispute → accepted → mediator assigned → session →
/// moved up a level → written agreement drafted, signed, in effect → performance → follow-up →
/// closed resolved; inline errors in Chinese; scope 404s and permissions.
@Suite("dispute and incident web forms", .serialized)
struct DisputeWebFlowTests {
    /// The case `version` the page's action forms carry.
    static func version(_ page: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        guard let r = page.range(of: #"name="version" value="(\d+)""#, options: .regularExpression) else {
            Issue.record("no version field on the page", sourceLocation: sourceLocation)
            return ""
        }
        return String(page[r].dropFirst(#"name="version" value=""#.count).dropLast())
    }

    /// Every value of `name="<field>" value="…"` on the page, in order.
    static func values(_ page: String, field: String) -> [String] {
        let pattern = "name=\"\(NSRegularExpression.escapedPattern(for: field))\" value=\"([^\"]*)\""
        let re = try! NSRegularExpression(pattern: pattern)
        return re.matches(in: page, range: NSRange(page.startIndex..., in: page)).compactMap { Range($0.range(at: 1), in: page).map { String(page[$0]) } }
    }

    /// The id at the end of a redirect `Location` (`/incidents/<id>?notice=…`).
    static func redirectID(_ res: TestingHTTPResponse, prefix: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> UUID {
        #expect(res.status == .seeOther || res.status == .found, "\(res.status) \(res.body.string.prefix(2000))", sourceLocation: sourceLocation)
        let loc = try #require(location(res), sourceLocation: sourceLocation)
        #expect(loc.hasPrefix(prefix), "\(loc)", sourceLocation: sourceLocation)
        let tail = loc.dropFirst(prefix.count).prefix { $0 != "?" && $0 != "#" }
        return try #require(UUID(uuidString: String(tail)), sourceLocation: sourceLocation)
    }

    /// Posts an action of the case page and follows the redirect; returns the page after it.
    @discardableResult
    static func act(_ b: inout Browser, _ id: UUID, _ form: [String: String], sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let path = "/disputes/\(idText(id))"
        let before = try await b.get(path).body.string
        var f = form
        if f["version"] == nil { f["version"] = version(before, sourceLocation: sourceLocation) }
        let r = try await b.post(path + "/act", f)
        #expect(r.status == .seeOther, "\(form["action"] ?? ""): \(r.status) \(Self.errorText(r.body.string))", sourceLocation: sourceLocation)
        let page = try await b.get(path + "?notice=done").body.string
        #expect(page.contains("已保存。"), sourceLocation: sourceLocation)
        return page
    }

    /// The inline error paragraph of a page, for failure messages.
    static func errorText(_ page: String) -> String {
        guard let r = page.range(of: #"role="alert"[^>]*>[^<]*"#, options: .regularExpression) else { return String(page.prefix(1500)) }
        return String(page[r])
    }

    static func today(_ clock: DisputeTestClock) -> String { CalendarDate(clock.now, timeZone: TimeZone(identifier: "Asia/Shanghai")!).description }

    static let agreement: [String: String] = [
        "action": "agreement", "form": "written", "partiesInformation": "张三，住1栋301；李四，住1栋201", "facts": "张三夜间噪音影响李四休息",
        "disputedMatters": "噪音及赔礼", "responsibilities": "张三负主要责任", "agreedContent": "张三22时后不再制造噪音并赔礼道歉",
        "performanceManner": "当面道歉", "performanceDeadline": "2026-12-31",
    ]

    @Test("the whole path in the browser: incident → dispute → accepted → mediator → session → up a level → written agreement signed and in effect → performance → follow-up → closed resolved")
    func wholePath() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            // Navigation: the officer sees 警情.
            var page = try await officer.get("/").body.string
            #expect(page.contains(#"href="/incidents""#))
            // 1. Intake: the category select of §3.7.1, the address of the demo grid.
            page = try await officer.get("/incidents/new").body.string
            #expect(page.contains(#"<option value="80">80 纠纷</option>"#) && page.contains(idText(f.addressA)), "\(page.prefix(3000))")
            var r = try await officer.post("/incidents/new", [
                "category": "80", "priority": "p3", "addressId": idText(f.addressA), "callerName": "王女士", "callerPhone": "13900000001",
                "summary": "楼上楼下吵架",
            ])
            let incidentID = try Self.redirectID(r, prefix: "/incidents/")
            page = try await officer.get("/incidents/\(idText(incidentID))?notice=received").body.string
            #expect(page.contains("警情已登记。") && page.contains("楼上楼下吵架") && page.contains("已接警") && page.contains("王女士"))
            #expect(!page.contains("13900000001") && page.contains("139****0001"), "the caller phone is masked")
            #expect(page.contains("凤麓路1号"), "the standard address is shown")
            // The list, newest first, links the incident.
            page = try await officer.get("/incidents").body.string
            #expect(page.contains("/incidents/\(idText(incidentID))") && page.contains("楼上楼下吵架") && page.contains("第 1 / 1 页"))
            // 2. Dispatch and arrival are recorded with their times.
            for action in ["dispatch", "arrive"] {
                r = try await officer.post("/incidents/\(idText(incidentID))/act", ["action": action])
                #expect(r.status == .seeOther, "\(action): \(Self.errorText(r.body.string))")
            }
            page = try await officer.get("/incidents/\(idText(incidentID))").body.string
            #expect(page.contains("已到场") && page.contains("派警") && page.contains("到达现场"))
            #expect(Self.values(page, field: "action").contains("convertToDispute"))
            // 3. Turned into a dispute: redirected to the new case, which keeps the link.
            r = try await officer.post("/incidents/\(idText(incidentID))/act", [
                "action": "convertToDispute", "category": "02", "level": "grid", "summary": "楼上噪音引发争吵",
                "p0.role": "applicant", "p0.name": "张三", "p0.idNumber": DisputeTests.partyID, "p1.role": "respondent", "p1.name": "李四", "p1.phone": "13800138001",
            ])
            let id = try Self.redirectID(r, prefix: "/disputes/")
            page = try await officer.get("/disputes/\(idText(id))?notice=converted").body.string
            #expect(page.contains("警情已转为矛盾纠纷") && page.contains("已登记") && page.contains("警情转入") && page.contains("/incidents/\(idText(incidentID))"))
            #expect(!page.contains(DisputeTests.partyID) && !page.contains("13800138001"), "parties are masked")
            #expect(Self.values(page, field: "action").contains("accept") && Self.version(page) == "1")
            page = try await officer.get("/incidents/\(idText(incidentID))").body.string
            #expect(page.contains("已转矛盾纠纷") && page.contains("/disputes/\(idText(id))"))
            // 4. Accepted by the grid worker of the place.
            var worker = Browser(app)
            _ = try await worker.login("worker.a")
            page = try await Self.act(&worker, id, ["action": "accept"])
            #expect(page.contains("已受理") && Self.version(page) == "2")
            // 5. A mediator assigned: only the mediators serving the case are offered.
            page = try await officer.get("/disputes/\(idText(id))").body.string
            #expect(page.contains("mediator.one") && page.contains(#"name="mediator1""#))
            page = try await Self.act(&officer, id, ["action": "assign", "mediator1": idText(f.mediator1.id)])
            #expect(page.contains("调解中") && page.contains("mediator.one"))
            // 6. The mediator records a session.
            var mediator = Browser(app)
            _ = try await mediator.login("mediator.one")
            page = try await Self.act(&mediator, id, [
                "action": "session", "heldOn": Self.today(f.clock), "place": "1栋楼下调解室", "attendees": "张三\n李四\n王调解", "minutes": "双方陈述，未达成一致",
            ])
            #expect(page.contains("1栋楼下调解室") && page.contains("张三、李四、王调解") && page.contains("双方陈述，未达成一致"))
            // 7. Mediation failed at the grid: moved up to the community.
            page = try await Self.act(&officer, id, ["action": "escalate", "note": "网格调解不成"])
            #expect(page.contains("<dd>社区"), "level is now the community")
            // 8. The written agreement: contents, marks, seal, in effect.
            page = try await Self.act(&mediator, id, Self.agreement)
            #expect(page.contains("张三22时后不再制造噪音并赔礼道歉") && page.contains("尚缺"))
            let partyIDs = Self.values(page, field: "partyId")
            #expect(partyIDs.count == 2)
            for p in partyIDs { page = try await Self.act(&mediator, id, ["action": "sign", "partyId": p, "mark": "signed"]) }
            page = try await Self.act(&mediator, id, ["action": "sign", "mediatorSignature": "王调解", "committeeSeal": "1"])
            #expect(!page.contains("尚缺"))
            page = try await Self.act(&mediator, id, ["action": "effect"])
            #expect(page.contains("协议生效"))
            let deadline = JudicialConfirmation.deadline(effectiveOn: try #require(CalendarDate(iso: Self.today(f.clock))))
            #expect(page.contains("申请期限至 \(deadline)"), "the Art. 33 deadline is shown with the form")
            // 9. Performance, follow-up, closed resolved.
            page = try await Self.act(&mediator, id, ["action": "startPerformance"])
            #expect(page.contains("履行中"))
            page = try await Self.act(&mediator, id, ["action": "performed", "note": "已当面道歉"])
            #expect(page.contains("回访中"))
            page = try await Self.act(&mediator, id, ["action": "followUp", "note": "回访：双方相安无事"])
            #expect(page.contains("已化解结案"))
            #expect(!Self.values(page, field: "action").contains { ["accept", "session", "followUp", "agreement"].contains($0) }, "no action forms after closure")
            // 10. The timeline tells the story in Chinese with display names; no raw event codes.
            for label in ["登记", "受理", "指派调解员", "调解", "上移层级", "拟定调解协议", "协议签字/盖章", "书面协议生效", "开始履行", "履行完毕", "回访", "已化解结案", "worker.a", "mediator.one", "officer"] {
                #expect(page.contains(label), "timeline lacks \(label)")
            }
            for code in ["<td>register</td>", "<td>accept</td>", "<td>assignMediators</td>", "<td>session</td>", "<td>agreeWritten</td>", "<td>followUpVisitRecorded</td>", "<td>mediating</td>", "<td>closed_resolved</td>"] {
                #expect(!page.contains(code), "raw code \(code) on the page")
            }
            // The API agrees.
            let d = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self)
            #expect(d.dispute.state == "closed_resolved" && d.dispute.settledLevel == "community" && d.dispute.incidentId == incidentID && d.sessions.count == 1)
        }
    }

    @Test("inline errors: Art. 29 contents missing listed, the Art. 33 deadline named, a mediator who is a party refused, a stale form told the case changed and nothing changes")
    func inlineErrors() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            // Registration through /disputes/new.
            var page = try await officer.get("/disputes").body.string
            #expect(page.contains(#"href="/disputes/new""#))
            page = try await officer.get("/disputes/new").body.string
            #expect(page.contains("院坝问政") && page.contains("12345/信访转办") && page.contains("02 邻里纠纷") && page.contains("第1网格"))
            var r = try await officer.post("/disputes/new", ["source": "1", "category": "02", "gridId": idText(f.t.gridA.id), "summary": "邻里噪音纠纷", "p0.name": ""])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("当事人"), "\(Self.errorText(r.body.string))")
            r = try await officer.post("/disputes/new", [
                "source": "1", "category": "02", "gridId": idText(f.t.gridA.id), "summary": "邻里噪音纠纷", "p0.name": "张三", "p0.idNumber": "530481199001010012",
            ])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("当事人 1 身份证号"), "\(Self.errorText(r.body.string))")
            #expect(!r.body.string.contains("530481199001010012"), "a refused ID number is not echoed")
            r = try await officer.post("/disputes/new", [
                "source": "1", "category": "02", "gridId": idText(f.t.gridA.id), "summary": "邻里噪音纠纷", "p0.name": "张三", "p1.name": "李四", "flag.weapons": "1",
            ])
            let id = try Self.redirectID(r, prefix: "/disputes/")
            page = try await officer.get("/disputes/\(idText(id))?notice=registered").body.string
            #expect(page.contains("矛盾纠纷已登记。") && page.contains("主动排查") && page.contains("risk-R"))
            // A stale form: the worker's page is at version 1, the officer accepts first.
            var worker = Browser(app)
            _ = try await worker.login("worker.a")
            let stale = Self.version(try await worker.get("/disputes/\(idText(id))").body.string)
            _ = try await Self.act(&officer, id, ["action": "accept"])
            r = try await worker.post("/disputes/\(idText(id))/act", ["action": "reject", "reason": "partyRefuses", "version": stale])
            #expect(r.status == .conflict)
            #expect(r.body.string.contains("案件已被他人更改，请刷新后重试"), "\(Self.errorText(r.body.string))")
            #expect(r.body.string.contains("已受理") && !r.body.string.contains("<dd>不予受理"), "nothing changed")
            var d = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self)
            #expect(d.dispute.state == "accepted" && d.dispute.version == 2)
            // A mediator who is a party is refused with the service's reason, in Chinese.
            let parties = d.parties.map(\.id)
            r = try await officer.post("/disputes/\(idText(id))/act", ["action": "assign", "version": "2", "mediator1": idText(f.mediator1.id), "isParty": idText(parties[0])])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("调解员 mediator.one 是本案当事人，应当回避"), "\(Self.errorText(r.body.string))")
            r = try await officer.post("/disputes/\(idText(id))/act", ["action": "assign", "version": "2", "mediator1": idText(f.mediator1.id), "related.\(idText(parties[1]))": "1"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("与当事人有近亲属或利害关系"), "\(Self.errorText(r.body.string))")
            _ = try await Self.act(&officer, id, ["action": "assign", "mediator1": idText(f.mediator1.id)])
            // A session form drawn before another change is refused as stale too.
            let before = Self.version(try await worker.get("/disputes/\(idText(id))").body.string)
            _ = try await Self.act(&officer, id, ["action": "risk", "riskGrade": "R", "note": "扬言报复"])
            r = try await worker.post("/disputes/\(idText(id))/act", ["action": "session", "version": before, "heldOn": Self.today(f.clock), "place": "x", "attendees": "张三", "minutes": "m"])
            #expect(r.status == .conflict && r.body.string.contains("案件已被他人更改，请刷新后重试"))
            d = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self)
            #expect(d.sessions.isEmpty)
            // An agreement missing Art. 29 contents: refused, listing what is missing; no draft stored.
            r = try await officer.post("/disputes/\(idText(id))/act", [
                "action": "agreement", "version": String(d.dispute.version), "form": "written", "partiesInformation": "张三、李四", "agreedContent": "张三夜间不再制造噪音",
            ])
            #expect(r.status == .unprocessableEntity)
            #expect(r.body.string.contains("调解协议缺少《人民调解法》第二十九条规定的内容：纠纷的主要事实、争议事项、各方当事人的责任、履行方式、履行期限"), "\(Self.errorText(r.body.string))")
            #expect(r.body.string.contains("张三夜间不再制造噪音"), "what was typed is shown again")
            d = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self)
            #expect(d.agreement == nil && d.dispute.state == "mediating")
            // Taking effect before the marks: the missing marks are named by party.
            _ = try await Self.act(&officer, id, Self.agreement)
            r = try await officer.post("/disputes/\(idText(id))/act", ["action": "effect", "version": String(d.dispute.version)])
            #expect(r.status == .unprocessableEntity)
            #expect(r.body.string.contains("协议尚不能生效，缺少：当事人张三的签名/盖章/指印、当事人李四的签名/盖章/指印、调解员签名、调解委员会印章"), "\(Self.errorText(r.body.string))")
            // In effect, then a judicial-confirmation date after the window: refused with the deadline.
            var page2 = ""
            for p in parties { page2 = try await Self.act(&officer, id, ["action": "sign", "partyId": idText(p), "mark": "fingerprinted"]) }
            #expect(page2.contains("按指印"))
            _ = try await Self.act(&officer, id, ["action": "sign", "mediatorSignature": "王调解", "committeeSeal": "1"])
            page = try await Self.act(&officer, id, ["action": "effect"])
            let effective = try #require(CalendarDate(iso: Self.today(f.clock)))
            let deadline = JudicialConfirmation.deadline(effectiveOn: effective)
            let late = JudicialConfirmation.deadline(effectiveOn: deadline)
            r = try await officer.post("/disputes/\(idText(id))/act", ["action": "judicial", "version": Self.version(page), "appliedOn": late.description])
            #expect(r.status == .unprocessableEntity)
            #expect(r.body.string.contains("申请日期 \(late) 已超过司法确认申请期限 \(deadline)"), "\(Self.errorText(r.body.string))")
            page = try await Self.act(&officer, id, ["action": "judicial", "appliedOn": effective.description])
            #expect(page.contains("司法确认中") && page.contains("法院确认有效"))
            // A follow-up without notes names the field.
            page = try await Self.act(&officer, id, ["action": "courtConfirms"])
            page = try await Self.act(&officer, id, ["action": "performed"])
            r = try await officer.post("/disputes/\(idText(id))/act", ["action": "followUp", "version": Self.version(page), "note": ""])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("说明：必填"), "\(Self.errorText(r.body.string))")
        }
    }

    @Test("incident intake errors name the field: unknown category, no location, a bad phone; nothing stored")
    func intakeErrors() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            _ = try await officer.get("/incidents/new")
            var r = try await officer.post("/incidents/new", ["category": "81", "addressId": idText(f.addressA), "summary": "吵架"])
            #expect(r.status == .unprocessableEntity)
            #expect(r.body.string.contains("警情类别：未知类别"), "\(Self.errorText(r.body.string))")
            #expect(r.body.string.contains(#"data-field="category""#) && r.body.string.contains(#"aria-invalid="true""#))
            #expect(r.body.string.contains("吵架"), "the summary typed is kept")
            r = try await officer.post("/incidents/new", ["category": "80", "summary": "吵架"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("事发地点：请选择标准地址或网格，或填写坐标"), "\(Self.errorText(r.body.string))")
            r = try await officer.post("/incidents/new", ["category": "80", "lon": "100.0", "lat": "20.0"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("事发地点：不在您辖区内的任何网格中"), "\(Self.errorText(r.body.string))")
            r = try await officer.post("/incidents/new", ["category": "80", "gridId": idText(f.t.gridA.id), "callerPhone": "12345"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("报警人电话"), "\(Self.errorText(r.body.string))")
            #expect(try await tableCount(app, "police_incidents") == 0)
            // A point inside grid A's polygon is placed in grid A.
            r = try await officer.post("/incidents/new", ["category": "80", "lon": "102.905", "lat": "24.675", "summary": "路边争执"])
            let id = try Self.redirectID(r, prefix: "/incidents/")
            let page = try await officer.get("/incidents/\(idText(id))").body.string
            #expect(page.contains("第1网格") && page.contains("路边争执"))
            // A second call from the same caller's address is marked as a repeat with a link to the first.
            r = try await officer.post("/incidents/new", ["category": "80", "addressId": idText(f.addressA), "callerPhone": "13900000001", "summary": "第一次"])
            let first = try Self.redirectID(r, prefix: "/incidents/")
            f.clock.advance(days: 2)
            r = try await officer.post("/incidents/new", ["category": "80", "addressId": idText(f.addressA), "callerPhone": "13900000002", "summary": "第二次"])
            let second = try Self.redirectID(r, prefix: "/incidents/")
            #expect(location(r)?.contains("notice=repeat") == true)
            let p2 = try await officer.get("/incidents/\(idText(second))").body.string
            #expect(p2.contains(#"id="repeat-of" href="/incidents/\#(idText(first))""#))
            let list = try await officer.get("/incidents").body.string
            #expect(list.contains("dw-repeat") && list.range(of: "第二次")!.lowerBound < list.range(of: "第一次")!.lowerBound, "newest first, repeat marked")
            // The address picker searches the territory's standard addresses by words and grid.
            let created = try await apiCall(app, .POST, "/api/v1/addresses", token: f.workerA, json: PopulationTests.addressJSON(grid: f.t.gridA.id, building: f.t.buildingA.id, room: "502"))
            #expect(created.status == .created, "\(created.body.string)")
            var form = try await officer.get("/incidents/new").body.string
            #expect(form.contains("3层301室") && form.contains("3层502室"))
            form = try await officer.get("/incidents/new?q=\(Browser.enc("阳光 502"))").body.string
            #expect(form.contains("3层502室") && !form.contains("3层301室"), "both words must match")
            form = try await officer.get("/incidents/new?q=\(Browser.enc("凤麓路"))&grid=\(idText(f.t.gridB.id))").body.string
            #expect(!form.contains("凤麓路1号"), "grid B has no address")
            form = try await officer.get("/disputes/new?q=502").body.string
            #expect(form.contains("3层502室") && !form.contains("3层301室"))
            var other = Browser(app)
            _ = try await other.login("officer.other")
            #expect(!(try await other.get("/disputes/new?q=\(Browser.enc("凤麓路"))").body.string.contains("凤麓路1号")), "another community's addresses are not offered")
        }
    }

    @Test("the other routes from the forms: refusal (Art. 17), oral agreement (Art. 28/30), termination (Art. 26), transfer to the police (Art. 25); incident dispositions")
    func otherRoutes() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            _ = try await officer.get("/disputes")
            func register(_ summary: String) async throws -> UUID {
                let r = try await officer.post("/disputes/new", ["source": "2", "category": "02", "gridId": idText(f.t.gridA.id), "summary": summary, "p0.name": "张三", "p1.name": "李四"])
                return try Self.redirectID(r, prefix: "/disputes/")
            }
            func mediating(_ summary: String) async throws -> UUID {
                let id = try await register(summary)
                _ = try await Self.act(&officer, id, ["action": "accept"])
                _ = try await Self.act(&officer, id, ["action": "assign", "mediator1": idText(f.mediator1.id)])
                return id
            }
            // Refused: a party clearly refuses (Art. 17); the reason is required.
            var id = try await register("一方拒绝调解")
            var page = try await officer.get("/disputes/\(idText(id))").body.string
            var r = try await officer.post("/disputes/\(idText(id))/act", ["action": "reject", "version": Self.version(page)])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("原因："), "\(Self.errorText(r.body.string))")
            page = try await Self.act(&officer, id, ["action": "reject", "reason": "partyRefuses", "note": "李四明确表示不接受调解"])
            #expect(page.contains("不予受理") && page.contains("一方当事人明确拒绝调解"))
            // Oral agreement: recorded content and recorder, in effect the same day.
            id = try await mediating("口头协议")
            r = try await officer.post("/disputes/\(idText(id))/act", ["action": "agreement", "version": Self.version(try await officer.get("/disputes/\(idText(id))").body.string), "form": "oral", "recordedContent": "双方同意各退一步"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("口头协议缺少：记录人（调解员）"), "\(Self.errorText(r.body.string))")
            _ = try await Self.act(&officer, id, ["action": "agreement", "form": "oral", "recordedContent": "双方同意各退一步", "recordedBy": "王调解"])
            page = try await Self.act(&officer, id, ["action": "effect"])
            #expect(page.contains("协议生效") && page.contains("口头协议生效") && page.contains("双方同意各退一步"))
            // Terminated (Art. 26) with the other routes explained.
            id = try await mediating("调解不成")
            page = try await Self.act(&officer, id, ["action": "terminate", "reason": "failed", "note": "已告知当事人仲裁、行政、司法等其他途径"])
            #expect(page.contains("终止调解") && page.contains("已告知仲裁、行政、司法等途径（第二十六条）"))
            // Transferred to the police (Art. 25): the note is required.
            id = try await mediating("出现治安因素")
            page = try await officer.get("/disputes/\(idText(id))").body.string
            r = try await officer.post("/disputes/\(idText(id))/act", ["action": "transfer", "version": Self.version(page)])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("说明：必填"), "\(Self.errorText(r.body.string))")
            page = try await Self.act(&officer, id, ["action": "transfer", "note": "一方持械威胁，移交派出所"])
            #expect(page.contains("已移交公安") && !Self.values(page, field: "action").contains("session"))
            // Incident dispositions: invalid needs a reason; settled on site; case opened; feedback closes.
            _ = try await officer.get("/incidents/new")
            r = try await officer.post("/incidents/new", ["category": "00", "gridId": idText(f.t.gridA.id), "summary": "误拨"])
            let invalid = try Self.redirectID(r, prefix: "/incidents/")
            r = try await officer.post("/incidents/\(idText(invalid))/act", ["action": "markInvalid"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("说明：必填"), "\(Self.errorText(r.body.string))")
            r = try await officer.post("/incidents/\(idText(invalid))/act", ["action": "markInvalid", "note": "误拨"])
            #expect(r.status == .seeOther)
            #expect(try await officer.get("/incidents/\(idText(invalid))").body.string.contains("无效警情"))
            for (category, disposition, label) in [("60", "resolveOnSite", "现场调解处置"), ("20", "openCase", "已立案")] {
                r = try await officer.post("/incidents/new", ["category": category, "gridId": idText(f.t.gridB.id), "summary": "处置 \(disposition)"])
                let inc = try Self.redirectID(r, prefix: "/incidents/")
                for a in ["dispatch", "arrive", disposition] {
                    r = try await officer.post("/incidents/\(idText(inc))/act", ["action": a, "note": "现场处理"])
                    #expect(r.status == .seeOther, "\(a): \(Self.errorText(r.body.string))")
                }
                page = try await officer.get("/incidents/\(idText(inc))").body.string
                #expect(page.contains(label) && page.contains("接警后 0 分钟到达"), "\(label)")
                r = try await officer.post("/incidents/\(idText(inc))/act", ["action": "feedbackToCaller", "note": "已电话反馈"])
                #expect(r.status == .seeOther)
                page = try await officer.get("/incidents/\(idText(inc))").body.string
                #expect(page.contains("已反馈结束") && page.contains("当前状态下没有可进行的操作"))
                // An action the state no longer allows is refused naming both, nothing changes.
                r = try await officer.post("/incidents/\(idText(inc))/act", ["action": "dispatch"])
                #expect(r.status == .conflict && r.body.string.contains("当前状态“已反馈结束”下不能进行“派警”"), "\(Self.errorText(r.body.string))")
            }
        }
    }

    @Test("marks recorded at the same moment by two users are all kept (the draft is read and written under the case's lock)")
    func concurrentMarks() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            _ = try await officer.get("/disputes")
            let r = try await officer.post("/disputes/new", ["source": "1", "category": "02", "gridId": idText(f.t.gridA.id), "summary": "同时签字", "p0.name": "张三", "p1.name": "李四", "p2.name": "王五"])
            let id = try Self.redirectID(r, prefix: "/disputes/")
            _ = try await Self.act(&officer, id, ["action": "accept"])
            _ = try await Self.act(&officer, id, ["action": "assign", "mediator1": idText(f.mediator1.id)])
            _ = try await Self.act(&officer, id, Self.agreement)
            let parties = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self).parties.map(\.id)
            let path = "/api/v1/disputes/\(idText(id))/agreement/sign"
            async let a = apiCall(app, .POST, path, token: f.mediator1Token, json: #"{"partyId":"\#(idText(parties[0]))","mark":"signed"}"#)
            async let b = apiCall(app, .POST, path, token: f.officer, json: #"{"partyId":"\#(idText(parties[1]))","mark":"sealed"}"#)
            async let c = apiCall(app, .POST, path, token: f.mediator1Token, json: #"{"partyId":"\#(idText(parties[2]))","mark":"fingerprinted"}"#)
            async let d = apiCall(app, .POST, path, token: f.officer, json: #"{"mediatorSignature":"王调解","committeeSeal":true}"#)
            let results = try await [a, b, c, d]
            #expect(results.allSatisfy { $0.status == .ok }, "\(results.map(\.status))")
            let after = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self)
            #expect(after.agreement?.missingForEffect == [], "\(after.agreement?.missingForEffect ?? [])")
            // Changing the draft afterwards asks for every mark again.
            var changed = Self.agreement
            changed["agreedContent"] = "张三22时后不再制造噪音"
            let page = try await Self.act(&officer, id, changed)
            #expect(page.contains("修改已签署的协议草稿后") || page.contains("尚缺"))
            let redo = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self)
            #expect(redo.agreement?.missingForEffect.count == 5, "\(redo.agreement?.missingForEffect ?? [])")
        }
    }

    @Test("access: another grid's or community's users get 404 on the pages and cannot post actions; roles without the permission cannot open the forms")
    func access() async throws {
        try await withApp { app in
            let f = try await DisputeTests.fixture(app)
            var officer = Browser(app)
            _ = try await officer.login("officer")
            _ = try await officer.get("/incidents/new")
            var r = try await officer.post("/incidents/new", ["category": "80", "addressId": idText(f.addressA), "summary": "楼上楼下吵架"])
            let incidentID = try Self.redirectID(r, prefix: "/incidents/")
            r = try await officer.post("/disputes/new", ["source": "5", "category": "02", "gridId": idText(f.t.gridA.id), "summary": "邻里噪音纠纷", "p0.name": "张三"])
            let id = try Self.redirectID(r, prefix: "/disputes/")
            // Grid B's worker and the other community's officer: 404 everywhere, nothing changes.
            var workerB = Browser(app)
            _ = try await workerB.login("worker.b")
            var other = Browser(app)
            _ = try await other.login("officer.other")
            for var b in [workerB, other] {
                #expect(try await b.get("/incidents/\(idText(incidentID))").status == .notFound)
                #expect(try await b.get("/disputes/\(idText(id))").status == .notFound)
                _ = try await b.get("/disputes")
                #expect(try await b.post("/disputes/\(idText(id))/act", ["action": "accept", "version": "1"]).status == .notFound)
                #expect(!(try await b.get("/incidents").body.string.contains("楼上楼下吵架")))
            }
            _ = try await other.get("/disputes")
            #expect(try await other.post("/incidents/\(idText(incidentID))/act", ["action": "dispatch"]).status == .notFound)
            #expect(try await other.post("/incidents/\(idText(incidentID))/act", ["action": "markInvalid", "note": "误报"]).status == .notFound)
            // The other officer's form cannot name a grid outside their territory either.
            r = try await other.post("/disputes/new", ["source": "5", "category": "02", "gridId": idText(f.t.gridA.id), "summary": "x", "p0.name": "张三"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("网格：不在您的辖区内"), "\(Self.errorText(r.body.string))")
            let d = try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DisputeTests.DetailOut.self)
            #expect(d.dispute.state == "registered" && d.dispute.version == 1)
            let inc = try json(try await apiCall(app, .GET, "/api/v1/incidents/\(idText(incidentID))", token: f.officer), as: DisputeTests.IncidentOut.self)
            #expect(inc.state == "received")
            // A grid worker reads incidents of the grid but may not receive or handle them.
            var workerA = Browser(app)
            _ = try await workerA.login("worker.a")
            #expect(try await workerA.get("/incidents").status == .ok)
            let page = try await workerA.get("/incidents/\(idText(incidentID))").body.string
            #expect(page.contains("楼上楼下吵架") && !page.contains(#"/act""#))
            #expect(try await workerA.get("/incidents/new").status == .forbidden)
            #expect(try await workerA.post("/incidents/new", ["category": "80", "addressId": idText(f.addressA)]).status == .forbidden)
            #expect(try await workerA.post("/incidents/\(idText(incidentID))/act", ["action": "dispatch"]).status == .forbidden)
            // A mediator has no incident permission at all, and sees no unassigned case.
            var mediator = Browser(app)
            _ = try await mediator.login("mediator.one")
            #expect(try await mediator.get("/incidents").status == .forbidden)
            #expect(try await mediator.get("/incidents/new").status == .forbidden)
            #expect(!(try await mediator.get("/").body.string.contains(#"href="/incidents""#)))
            #expect(try await mediator.get("/disputes/\(idText(id))").status == .notFound)
            #expect(try await mediator.post("/disputes/\(idText(id))/act", ["action": "accept", "version": "1"]).status == .notFound)
            // A mediator may register (dispute:write) but sees only assigned cases: back to the list with a notice.
            #expect(!(try await mediator.get("/disputes").body.string.contains(#"href="/disputes/new""#)))
            let reg = try await mediator.post("/disputes/new", ["source": "2", "category": "02", "gridId": idText(f.t.gridA.id), "summary": "调解员登记", "p0.name": "张三"])
            #expect(reg.status == .seeOther && location(reg) == "/disputes?notice=registeredUnassigned")
            #expect(try await mediator.get("/disputes?notice=registeredUnassigned").body.string.contains("待受理后指派调解员"))
            // Without the CSRF token a form post is refused.
            #expect(try await officer.post("/disputes/\(idText(id))/act", ["action": "accept", "version": "1"], csrf: false).status == .forbidden)
        }
    }
}
