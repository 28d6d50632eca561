import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Issue 4, joint handling and the rest of the dispute slice through HTTP: 双推送、双盯办、双化解
/// with both sides' sign-off before closing, the agreement print, the judicial-confirmation
/// reminder, the police-mediation variant, incident dispatch records and response times, party
/// reveals, the escalation sweep and free-text limits — each with its cross-territory check.
@Suite("disputes: joint handling, print, reminders, dispatch", .serialized)
struct DisputeJointTests {
    typealias D = DisputeTests

    struct Extra {
        var f: DisputeTests.Fixture
        var centre: Account
        var centreToken: String
        var otherCentreToken: String
        var officerAccount: Account
    }

    struct JointOut: Decodable {
        struct Side: Decodable { var ownerId: UUID?; var ownerName: String?; var dueAt: Date?; var signedOffAt: Date?; var reminder: String? }
        var joint: Bool
        var pushedBy: String?
        var police: Side?
        var governanceCentre: Side?
        var missingSignOffs: [String]
    }

    static func setup(_ app: Application) async throws -> Extra {
        let f = try await D.fixture(app)
        let centre = try await makeUser(app, "centre.staff", .governanceCenterStaff, TerritoryScope(level: .community, territoryID: f.t.community.id))
        let otherCentre = try await makeUser(app, "centre.other", .governanceCenterStaff, TerritoryScope(level: .community, territoryID: f.t.otherCommunity.id))
        let found = try await app.fengqiao.accounts.find(username: "officer", on: app.fengqiao.store.db)
        let officer = try #require(found)
        return Extra(f: f, centre: centre, centreToken: try await issueToken(app, centre), otherCentreToken: try await issueToken(app, otherCentre), officerAccount: Account(officer))
    }

    static func register(_ app: Application, _ f: DisputeTests.Fixture) async throws -> UUID {
        let r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer, json: D.disputeJSON(grid: f.t.gridA.id))
        #expect(r.status == .created, "\(r.body.string)")
        return try json(r, as: D.DetailOut.self).dispute.id
    }

    static func current(_ app: Application, _ f: DisputeTests.Fixture, _ id: UUID) async throws -> D.DetailOut {
        try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: D.DetailOut.self)
    }

    /// Registered, accepted, mediator one assigned: mediating at version 3.
    static func mediating(_ app: Application, _ f: DisputeTests.Fixture) async throws -> UUID {
        let id = try await register(app, f)
        _ = try await D.advanced(app, f.officer, id, #"{"event":"accept","version":1}"#)
        _ = try await D.advanced(app, f.officer, id, #"{"event":"assignMediators","version":2,"mediators":[{"accountId":"\#(idText(f.mediator1.id))"}]}"#)
        return id
    }

    static let writtenAgreement = #"""
        {"form":"written","kind":"people","partiesInformation":"张三，住1栋301；李四，住1栋201","facts":"张三夜间噪音影响李四休息","disputedMatters":"噪音及赔礼","responsibilities":"张三负主要责任","agreedContent":"张三22时后不再制造噪音并赔礼道歉","performanceManner":"当面道歉","performanceDeadline":"2026-12-31","partyMarks":{},"committeeSeal":false}
        """#

    /// A mediating case with a written agreement in effect.
    static func effective(_ app: Application, _ f: DisputeTests.Fixture) async throws -> UUID {
        let id = try await mediating(app, f)
        var r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement", token: f.mediator1Token, json: writtenAgreement)
        #expect(r.status == .created, "\(r.body.string)")
        let d = try await current(app, f, id)
        for p in d.parties {
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/sign", token: f.mediator1Token, json: #"{"partyId":"\#(idText(p.id))","mark":"fingerprinted"}"#)
            #expect(r.status == .ok)
        }
        r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/sign", token: f.mediator1Token, json: #"{"mediatorSignature":"王调解","committeeSeal":true}"#)
        r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/effect", token: f.mediator1Token, json: #"{"version":\#(d.dispute.version)}"#)
        #expect(r.status == .ok, "\(r.body.string)")
        return id
    }

    static func count(_ app: Application, _ table: String, _ filters: [(String, any Encodable & Sendable)]) async throws -> Int {
        var q = app.fengqiao.store.sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from(table)
        for (c, v) in filters { q = q.where(SQLColumn(c), .equal, SQLBind(v)) }
        return try await q.first()!.decode(column: "n", as: Int.self)
    }

    @Test("joint handling: push, supervision notes, both sign-offs before closing (refused naming the missing side), timeline, audit, reminders, scope")
    func joint() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            let id = try await Self.mediating(app, f)
            let base = "/api/v1/disputes/\(idText(id))/joint"
            var r = try await apiCall(app, .GET, base, token: f.officer)
            let before = try json(r, as: JointOut.self)
            #expect(r.status == .ok && !before.joint)
            // Roles outside the two sides are refused; the other community answers 404.
            r = try await apiCall(app, .POST, base + "/push", token: f.workerA, json: "{}")
            #expect(r.status == .forbidden, "\(r.body.string)")
            r = try await apiCall(app, .POST, base + "/push", token: f.mediator1Token, json: "{}")
            #expect(r.status == .forbidden)
            r = try await apiCall(app, .POST, base + "/push", token: f.otherOfficer, json: "{}")
            #expect(r.status == .notFound)
            r = try await apiCall(app, .POST, base + "/push", token: x.otherCentreToken, json: "{}")
            #expect(r.status == .notFound)
            // A deadline in the past and an owner of the wrong side are refused by field.
            r = try await apiCall(app, .POST, base + "/push", token: f.officer, json: #"{"dueAt":"2020-01-01T00:00:00Z"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "dueAt", "\(r.body.string)")
            r = try await apiCall(app, .POST, base + "/push", token: f.officer, json: #"{"ownerAccountId":"\#(idText(f.mediator1.id))"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "ownerAccountId", "\(r.body.string)")
            // The officer pushes to the governance centre (双推送), naming its owner; due in 12 hours.
            let due = f.clock.now.addingTimeInterval(12 * 3600)
            r = try await apiCall(app, .POST, base + "/push", token: f.officer,
                                  json: #"{"dueAt":"\#(ISO8601DateFormatter().string(from: due))","ownDueAt":"\#(ISO8601DateFormatter().string(from: due.addingTimeInterval(86_400 * 3)))","ownerAccountId":"\#(idText(x.centre.id))","note":"需综治中心协调物业"}"#)
            #expect(r.status == .created, "\(r.body.string)")
            var j = try json(r, as: JointOut.self)
            #expect(j.joint && j.pushedBy == "police" && j.police?.ownerName == "officer" && j.governanceCentre?.ownerId == x.centre.id)
            #expect(j.missingSignOffs == ["police", "governance-centre"])
            #expect(j.governanceCentre?.reminder == "dueSoon" && j.police?.reminder == nil)
            // A second push by either side is a conflict.
            r = try await apiCall(app, .POST, base + "/push", token: x.centreToken, json: "{}")
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "joint")
            // The centre's own work list shows its reminder; the officer's shows only the police side.
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: x.centreToken)
            struct Rem: Decodable { struct J: Decodable { var disputeId: UUID; var side: String; var reminder: String }; var jointDeadlines: [J] }
            #expect(try json(r, as: Rem.self).jointDeadlines.map(\.side) == ["governance-centre"], "\(r.body.string)")
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: f.officer)
            #expect(try json(r, as: Rem.self).jointDeadlines.isEmpty, "\(r.body.string)")
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: x.otherCentreToken)
            #expect(try json(r, as: Rem.self).jointDeadlines.isEmpty)
            // Supervision notes (双盯办): a note is required; the centre moves its own deadline.
            r = try await apiCall(app, .POST, base + "/supervision", token: x.centreToken, json: #"{"note":" "}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "note")
            r = try await apiCall(app, .POST, base + "/supervision", token: x.centreToken,
                                  json: #"{"note":"已约谈物业","dueAt":"\#(ISO8601DateFormatter().string(from: due.addingTimeInterval(86_400 * 5)))"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            j = try json(r, as: JointOut.self)
            #expect(j.governanceCentre?.reminder == nil)
            r = try await apiCall(app, .POST, base + "/supervision", token: x.otherCentreToken, json: #"{"note":"x y"}"#)
            #expect(r.status == .notFound)
            // The push moved the case on: a client holding the old version is told the case changed.
            r = try await D.event(app, f.officer, id, #"{"event":"terminate","version":3,"reason":"failed"}"#)
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "version")
            // Closing without both sign-offs is refused naming the missing side(s); nothing changes.
            var d = try await Self.current(app, f, id)
            r = try await D.event(app, f.officer, id, #"{"event":"terminate","version":\#(d.dispute.version),"reason":"failed"}"#)
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "signOff", "\(r.body.string)")
            #expect(problem(r)?.detail.contains("police") == true && problem(r)?.detail.contains("governance-centre") == true)
            r = try await apiCall(app, .POST, base + "/sign-off", token: f.officer, json: #"{"note":"民警侧已化解"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            #expect(try json(r, as: JointOut.self).missingSignOffs == ["governance-centre"])
            r = try await apiCall(app, .POST, base + "/sign-off", token: f.officer, json: "{}")
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "signOff")
            r = try await apiCall(app, .POST, base + "/sign-off", token: x.otherCentreToken, json: "{}")
            #expect(r.status == .notFound)
            d = try await Self.current(app, f, id)
            r = try await D.event(app, f.officer, id, #"{"event":"terminate","version":\#(d.dispute.version),"reason":"failed"}"#)
            #expect(r.status == .conflict && problem(r)?.detail.contains("missing: governance-centre") == true, "\(r.body.string)")
            #expect(problem(r)?.detail.contains("police (") == false)
            #expect(try await Self.current(app, f, id).dispute.state == "mediating")
            // Sign-off after a supervision note is closed for that side.
            r = try await apiCall(app, .POST, base + "/supervision", token: f.officer, json: #"{"note":"再次回访"}"#)
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "signOff")
            r = try await apiCall(app, .POST, base + "/sign-off", token: x.centreToken, json: "{}")
            #expect(r.status == .ok)
            #expect(try json(r, as: JointOut.self).missingSignOffs.isEmpty)
            d = try await Self.current(app, f, id)
            d = try await D.advanced(app, f.officer, id, #"{"event":"terminate","version":\#(d.dispute.version),"reason":"failed"}"#)
            #expect(d.dispute.state == "terminated")
            // On the timeline, and audited.
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))/timeline", token: f.officer)
            let kinds = try json(r, as: ListPage<D.TimelineOut>.self).items.map(\.kind)
            #expect(kinds.suffix(5) == ["jointPush", "jointSupervision", "jointSignOff", "jointSignOff", "terminate"], "\(kinds)")
            let audited = try await app.fengqiao.store.sql.select().column("detail").from("audit_log")
                .where("object_type", .equal, "dispute").where("object_id", .equal, idText(id)).all()
                .compactMap { try $0.decode(column: "detail", as: String?.self) }
            for k in ["jointPush", "jointSupervision", "jointSignOff"] { #expect(audited.contains { $0.hasPrefix(k + ":") }, "\(k)") }
            // A non-joint case closes as before.
            let plain = try await Self.mediating(app, f)
            _ = try await D.advanced(app, f.officer, plain, #"{"event":"terminate","version":3,"reason":"partyWithdraws"}"#)
        }
    }

    @Test("two sign-offs at once: both sides both succeed; the same side twice, one wins and the other is told")
    func concurrentSignOffs() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            let id = try await Self.mediating(app, f)
            let base = "/api/v1/disputes/\(idText(id))/joint"
            var r = try await apiCall(app, .POST, base + "/push", token: x.centreToken, json: "{}")
            #expect(r.status == .created, "\(r.body.string)")
            #expect(try json(r, as: JointOut.self).pushedBy == "governance-centre")
            async let a = apiCall(app, .POST, base + "/sign-off", token: f.officer, json: "{}")
            async let b = apiCall(app, .POST, base + "/sign-off", token: x.centreToken, json: "{}")
            let both = try await [a, b]
            #expect(both.allSatisfy { $0.status == .ok }, "\(both.map(\.body.string))")
            r = try await apiCall(app, .GET, base, token: f.officer)
            #expect(try json(r, as: JointOut.self).missingSignOffs.isEmpty)
            let d0 = try await Self.current(app, f, id)
            #expect(d0.dispute.version == 6)  // 3 + push + two sign-offs
            // The same side twice at once on a fresh joint case.
            let id2 = try await Self.mediating(app, f)
            let base2 = "/api/v1/disputes/\(idText(id2))/joint"
            _ = try await apiCall(app, .POST, base2 + "/push", token: f.officer, json: "{}")
            let officer2 = try await issueToken(app, x.officerAccount)
            async let c = apiCall(app, .POST, base2 + "/sign-off", token: f.officer, json: "{}")
            async let e = apiCall(app, .POST, base2 + "/sign-off", token: officer2, json: "{}")
            let same = try await [c, e]
            #expect(same.filter { $0.status == .ok }.count == 1, "\(same.map(\.body.string))")
            let lost = try #require(same.first { $0.status != .ok })
            #expect(lost.status == .conflict && problem(lost)?.errors?.first?.field == "signOff", "\(lost.body.string)")
            let n = try await Self.count(app, "dispute_timeline", [("dispute_id", id2), ("kind", "jointSignOff")])
            #expect(n == 1)
        }
    }

    @Test("agreement print: purpose required and audited, clear names and ID numbers, one copy per party plus one, Art. 33 note, no-store, scoped")
    func print() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            let id = try await Self.mediating(app, f)
            let url = "/api/v1/disputes/\(idText(id))/agreement/print"
            var r = try await apiCall(app, .POST, url, token: f.mediator1Token, json: #"{"purpose":"打印供签字"}"#)
            #expect(r.status == .conflict && problem(r)?.errors?.first?.field == "agreement")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement", token: f.mediator1Token, json: Self.writtenAgreement)
            #expect(r.status == .created)
            r = try await apiCall(app, .POST, url, token: f.mediator1Token, json: "{}")
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "purpose")
            r = try await apiCall(app, .POST, url, token: f.otherOfficer, json: #"{"purpose":"打印供签字"}"#)
            #expect(r.status == .notFound)
            r = try await apiCall(app, .POST, url, token: f.mediator2Token, json: #"{"purpose":"打印供签字"}"#)
            #expect(r.status == .notFound)
            r = try await apiCall(app, .POST, url, token: f.mediator1Token, json: #"{"purpose":"打印供当事人签字"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            #expect(r.headers.first(name: .cacheControl) == "no-store")
            #expect(r.headers.contentType?.subType == "html")
            let page = r.body.string
            #expect(page.contains("人民调解协议书") && page.contains(D.partyID) && page.contains("张三") && page.contains("李四"))
            #expect(page.contains("三十日内共同向人民法院申请司法确认") && page.contains("第三十三条"))
            #expect(page.contains("第 1 份 / 共 3 份") && page.contains("第 3 份 / 共 3 份") && page.contains("人民调解委员会存档"))
            #expect(page.contains("测试社区人民调解委员会") && page.contains("张三22时后不再制造噪音并赔礼道歉") && page.contains("2026-12-31"))
            #expect(page.components(separatedBy: "class=\"sheet\"").count == 4)
            #expect(page.contains("/css/agreement-print.css") && !page.contains("http://") && !page.contains("https://"))
            let css = try await apiCall(app, .GET, "/css/agreement-print.css", token: nil)
            #expect(css.status == .ok && css.body.string.contains("size: A4") && css.body.string.contains("break-after: page"))
            let rows = try await app.fengqiao.store.sql.select().columns("purpose", "fields").from("audit_log")
                .where("action", .equal, "print").where("object_type", .equal, "mediation-agreement").all()
            #expect(rows.count == 1)
            #expect(try rows.first?.decode(column: "purpose", as: String?.self) == "打印供当事人签字")
            // The web button posts the form and gets the same page.
            var officer = Browser(app)
            _ = try await officer.login("officer")
            r = try await officer.get("/disputes/\(idText(id))")
            #expect(r.body.string.contains("/disputes/\(idText(id))/agreement/print") && r.body.string.contains("/joint/push"))
            r = try await officer.post("/disputes/\(idText(id))/agreement/print", ["purpose": "存档打印"])
            #expect(r.status == .ok && r.body.string.contains(D.partyID) && r.headers.first(name: .cacheControl) == "no-store")
            r = try await officer.post("/disputes/\(idText(id))/agreement/print", ["purpose": ""])
            #expect(r.status == .unprocessableEntity && !r.body.string.contains(D.partyID))
            // The push button of the case page; a second push shows the refusal on the page.
            r = try await officer.post("/disputes/\(idText(id))/joint/push", ["dueOn": "", "note": "网页推送"])
            #expect(r.status == .seeOther, "\(r.body.string)")
            r = try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))/joint", token: x.centreToken)
            #expect(try json(r, as: JointOut.self).pushedBy == "police")
            r = try await officer.get("/disputes/\(idText(id))")
            #expect(r.body.string.contains("/joint/sign-off") && r.body.string.contains("网页推送"))
            r = try await officer.post("/disputes/\(idText(id))/joint/push", ["dueOn": "2020-01-01"])
            #expect(r.status == .unprocessableEntity && r.body.string.contains("already under joint handling"), "\(r.status)")
            var stranger = Browser(app)
            _ = try await stranger.login("officer.other")
            _ = try await stranger.get("/disputes")
            r = try await stranger.post("/disputes/\(idText(id))/joint/sign-off", [:])
            #expect(r.status == .notFound)
        }
    }

    @Test("police mediation (治安调解): excluded cases refused with the reason, recorded by an officer, its own agreement print")
    func policeMediation() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            let id = try await Self.mediating(app, f)
            let url = "/api/v1/disputes/\(idText(id))/agreement"
            func body(_ pm: String) -> String {
                Self.writtenAgreement.replacingOccurrences(of: #""kind":"people""#, with: #""kind":"police","policeMediation":\#(pm)"#)
            }
            var r = try await apiCall(app, .POST, url, token: f.officer, json: body(#"{"conduct":"assault","exclusions":["gangFight","provocation"],"bothPartiesConsent":true}"#))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "policeMediation.exclusions", "\(r.body.string)")
            #expect(problem(r)?.detail.contains("结伙斗殴") == true && problem(r)?.detail.contains("寻衅滋事") == true)
            r = try await apiCall(app, .POST, url, token: f.officer, json: body(#"{"conduct":"assault","exclusions":[],"bothPartiesConsent":false}"#))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "policeMediation.bothPartiesConsent")
            r = try await apiCall(app, .POST, url, token: f.officer, json: Self.writtenAgreement.replacingOccurrences(of: #""kind":"people""#, with: #""kind":"police""#))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "policeMediation")
            r = try await apiCall(app, .POST, url, token: f.mediator1Token, json: body(#"{"conduct":"assault","exclusions":[],"bothPartiesConsent":true}"#))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "kind", "\(r.body.string)")
            r = try await apiCall(app, .POST, url, token: f.officer, json: body(#"{"conduct":"propertyDamage","exclusions":[],"bothPartiesConsent":true}"#))
            #expect(r.status == .created, "\(r.body.string)")
            r = try await apiCall(app, .POST, url + "/print", token: f.officer, json: #"{"purpose":"治安调解签字"}"#)
            #expect(r.status == .ok)
            let page = r.body.string
            #expect(page.contains("治安调解协议书") && page.contains("故意损毁财物") && page.contains("治安管理处罚法") && page.contains("公安机关存档"))
            #expect(!page.contains("第三十三条"))
        }
    }

    @Test("judicial confirmation reminder: N days before the Art. 33 deadline on the mediator's work list, configurable, scoped")
    func confirmationReminder() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            let id = try await Self.effective(app, f)
            struct Rem: Decodable { struct C: Decodable { var disputeId: UUID; var daysLeft: Int; var deadline: String }; var judicialConfirmation: [C] }
            var r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: f.mediator1Token)
            let none = try json(r, as: Rem.self)
            #expect(r.status == .ok && none.judicialConfirmation.isEmpty, "\(r.body.string)")
            f.clock.advance(days: 22)
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: f.mediator1Token)
            #expect(try json(r, as: Rem.self).judicialConfirmation.isEmpty, "\(r.body.string)")
            f.clock.advance(days: 1)
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: f.mediator1Token)
            let due = try json(r, as: Rem.self).judicialConfirmation
            #expect(due.map(\.disputeId) == [id] && due.first?.daysLeft == 7, "\(r.body.string)")
            for token in [f.mediator2Token, f.otherOfficer, x.otherCentreToken] {
                r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: token)
                #expect(try json(r, as: Rem.self).judicialConfirmation.isEmpty)
            }
            app.disputeSettings.handling.confirmationRemindDays = 3
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: f.mediator1Token)
            #expect(try json(r, as: Rem.self).judicialConfirmation.isEmpty)
            f.clock.advance(days: 4)
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: f.officer)
            #expect(try json(r, as: Rem.self).judicialConfirmation.first?.daysLeft == 3)
            // Once the window has passed there is nothing left to remind.
            f.clock.advance(days: 4)
            r = try await apiCall(app, .GET, "/api/v1/disputes/reminders", token: f.officer)
            #expect(try json(r, as: Rem.self).judicialConfirmation.isEmpty)
        }
    }

    @Test("reveal of a party's ID number or phone: purpose required, audited, no-store, scoped")
    func reveal() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            let id = try await Self.register(app, f)
            let party = try await Self.current(app, f, id).parties[0].id
            let url = "/api/v1/disputes/\(idText(id))/parties/\(idText(party))/reveal"
            var r = try await apiCall(app, .POST, url, token: f.officer, json: #"{"field":"idNumber"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "purpose")
            r = try await apiCall(app, .POST, url, token: f.mediator1Token, json: #"{"field":"idNumber","purpose":"核对身份"}"#)
            #expect(r.status == .forbidden)
            for token in [f.otherOfficer, f.workerB] {
                r = try await apiCall(app, .POST, url, token: token, json: #"{"field":"idNumber","purpose":"核对身份"}"#)
                #expect(r.status == .notFound)
            }
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/parties/\(idText(UUID()))/reveal", token: f.officer, json: #"{"field":"idNumber","purpose":"核对身份"}"#)
            #expect(r.status == .notFound)
            r = try await apiCall(app, .POST, url, token: f.officer, json: #"{"field":"idNumber","purpose":"核对身份"}"#)
            #expect(r.status == .ok && r.headers.first(name: .cacheControl) == "no-store")
            struct Out: Decodable { var value: String }
            #expect(try json(r, as: Out.self).value == D.partyID)
            r = try await apiCall(app, .POST, url, token: f.workerA, json: #"{"field":"phone","purpose":"电话联系"}"#)
            #expect(try json(r, as: Out.self).value == "13800138000")
            let rows = try await app.fengqiao.store.sql.select().columns("purpose", "fields", "detail").from("audit_log")
                .where("action", .equal, "mask-reveal").where("object_type", .equal, "dispute-party").all()
            #expect(rows.count == 2)
            let texts = try rows.map { [try $0.decode(column: "purpose", as: String?.self) ?? "", try $0.decode(column: "fields", as: String?.self) ?? "", try $0.decode(column: "detail", as: String?.self) ?? ""].joined(separator: " ") }
            #expect(texts.allSatisfy { !$0.contains(D.partyID) && !$0.contains("13800138000") })
        }
    }

    @Test("incident intake notifies the grid worker and designates the officer; dispatch, arrival, disposition on the timeline; response times per grid")
    func dispatch() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: D.incidentJSON(address: f.addressA, phone: "13900000001"))
            let inc = try json(r, as: D.IncidentOut.self)
            struct TL: Decodable {
                struct H: Decodable { var gridWorkerName: String?; var officerName: String?; var notifiedAt: Date?; var disposedAt: Date? }
                struct E: Decodable { var kind: String; var detail: String?; var recipientID: UUID? }
                var handling: H?
                var items: [E]
            }
            r = try await apiCall(app, .GET, "/api/v1/incidents/\(idText(inc.id))/timeline", token: f.officer)
            var tl = try json(r, as: TL.self)
            #expect(tl.handling?.gridWorkerName == "worker.a" && tl.handling?.officerName == "officer" && tl.handling?.notifiedAt != nil, "\(r.body.string)")
            #expect(tl.items.map(\.kind) == ["received", "notifyGridWorker", "designateOfficer"])
            let workerA = try await app.fengqiao.accounts.find(username: "worker.a", on: app.fengqiao.store.db)
            let notified = try await Self.count(app, "notifications", [("account_id", try #require(workerA?.id)), ("kind", "incident.firstResponse")])
            #expect(notified == 1)
            // The notification opens the incident page, not the API.
            let links = try await app.fengqiao.store.sql.raw("SELECT link FROM notifications WHERE kind = 'incident.firstResponse'").all().map { try $0.decode(column: "link", as: String.self) }
            #expect(links == ["/incidents/\(idText(inc.id))"])
            r = try await apiCall(app, .GET, "/api/v1/incidents/\(idText(inc.id))/timeline", token: f.otherOfficer)
            #expect(r.status == .notFound)
            // Dispatch to an officer of another community is refused; then the designated officer.
            let otherFound = try await app.fengqiao.accounts.find(username: "officer.other", on: app.fengqiao.store.db)
            let otherOfficer = try #require(otherFound)
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(inc.id))/events", token: f.officer, json: #"{"event":"dispatch","officerId":"\#(idText(otherOfficer.id!))"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "officerId", "\(r.body.string)")
            f.clock.advance(seconds: 120)
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(inc.id))/events", token: f.officer, json: #"{"event":"dispatch"}"#)
            #expect(r.status == .ok)
            f.clock.advance(seconds: 600)
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(inc.id))/events", token: f.officer, json: #"{"event":"arrive"}"#)
            f.clock.advance(seconds: 600)
            r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(inc.id))/events", token: f.officer, json: #"{"event":"resolveOnSite","note":"当场调解"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            r = try await apiCall(app, .GET, "/api/v1/incidents/\(idText(inc.id))/timeline", token: f.officer)
            tl = try json(r, as: TL.self)
            #expect(tl.items.map(\.kind) == ["received", "notifyGridWorker", "designateOfficer", "dispatch", "arrive", "resolveOnSite"])
            #expect(tl.items[4].detail == "12 min after receipt" && tl.handling?.disposedAt != nil, "\(r.body.string)")
            // A second incident in grid A arriving after 20 minutes; an invalid call never counts.
            f.clock.advance(days: 2)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: D.incidentJSON(address: f.addressA, phone: "13900000009", category: "60"))
            let second = try json(r, as: D.IncidentOut.self)
            for (e, s) in [("dispatch", 60.0), ("arrive", 1140.0)] {
                f.clock.advance(seconds: s)
                r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(second.id))/events", token: f.officer, json: #"{"event":"\#(e)"}"#)
                #expect(r.status == .ok)
            }
            struct RT: Decodable { struct G: Decodable { var gridName: String; var received: Int; var arrived: Int; var medianMinutes: Double?; var averageMinutes: Double? }; var items: [G] }
            r = try await apiCall(app, .GET, "/api/v1/incidents/response-times", token: f.officer)
            #expect(r.status == .ok, "\(r.body.string)")
            let rt = try json(r, as: RT.self)
            #expect(rt.items.count == 1 && rt.items.first?.received == 2 && rt.items.first?.arrived == 2, "\(r.body.string)")
            #expect(rt.items.first?.medianMinutes == 16 && rt.items.first?.averageMinutes == 16)
            r = try await apiCall(app, .GET, "/api/v1/incidents/response-times", token: f.otherOfficer)
            #expect(try json(r, as: RT.self).items.isEmpty)
            r = try await apiCall(app, .GET, "/api/v1/incidents/response-times?from=2026-13-01", token: f.officer)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "from")
        }
    }

    @Test("escalation sweep: driven directly, idempotent, and one step only when racing a manual escalation")
    func escalationSweep() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            #expect(DisputeEscalationScheduler.interval(from: ["FENGQIAO_DISPUTE_ESCALATION_INTERVAL_S": "60"]) == 60)
            #expect(DisputeEscalationScheduler.interval(from: ["FENGQIAO_DISPUTE_ESCALATION_INTERVAL_S": "-1"]) == 300)
            #expect(DisputeEscalationScheduler.interval(from: [:]) == 300)
            let id = try await Self.register(app, f)
            #expect(try await DisputeEscalationScheduler.sweep(app).isEmpty)
            f.clock.advance(days: 7)
            #expect(try await DisputeEscalationScheduler.sweep(app) == [id])
            #expect(try await DisputeEscalationScheduler.sweep(app).isEmpty)
            var d = try await Self.current(app, f, id)
            #expect(d.dispute.level == "community" && d.dispute.version == 2)
            // Racing a manual escalation of the same case: the level moves exactly one step.
            f.clock.advance(days: 15)
            async let sweep = DisputeEscalationScheduler.sweep(app)
            async let manual = apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/escalate", token: f.officer, json: #"{"version":2,"note":"社区调解不成"}"#)
            let (moved, res) = try await (sweep, manual)
            #expect((moved == [id]) != (res.status == .ok), "sweep \(moved), manual \(res.status)")
            d = try await Self.current(app, f, id)
            #expect(d.dispute.level == "station" && d.dispute.version == 3)
            #expect(try await DisputeEscalationScheduler.sweep(app).isEmpty)
            let escalations = try await Self.count(app, "dispute_timeline", [("dispute_id", id), ("kind", "escalate")])
            #expect(escalations == 2)
        }
    }

    @Test("free-text limits: over-long inputs refused naming the field")
    func textLimits() async throws {
        try await withApp { app in
            let x = try await Self.setup(app)
            let f = x.f
            let long = { (n: Int) in String(repeating: "纠", count: n) }
            var r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer,
                                      json: D.disputeJSON(grid: f.t.gridA.id).replacingOccurrences(of: "邻里噪音纠纷", with: long(1001)))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "summary", "\(r.body.string)")
            r = try await apiCall(app, .POST, "/api/v1/disputes", token: f.officer, json: D.disputeJSON(grid: f.t.gridA.id).replacingOccurrences(of: "李四", with: long(51)))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "parties[1].name")
            let id = try await Self.mediating(app, f)
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/sessions", token: f.mediator1Token,
                                  json: #"{"heldOn":"2026-01-01","place":"1栋","attendees":["张三"],"minutes":"\#(long(10_001))"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "minutes")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement", token: f.mediator1Token,
                                  json: Self.writtenAgreement.replacingOccurrences(of: "张三夜间噪音影响李四休息", with: long(4001)))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "facts")
            r = try await D.event(app, f.officer, id, #"{"event":"terminate","version":3,"reason":"failed","note":"\#(long(2001))"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "note")
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/joint/push", token: f.officer, json: #"{"note":"\#(long(2001))"}"#)
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "note")
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer,
                                  json: D.incidentJSON(address: f.addressA, phone: "13900000001").replacingOccurrences(of: "王女士", with: long(51)))
            #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "callerName")
            #expect(try await Self.current(app, f, id).dispute.version == 3)
        }
    }
}
