import FengqiaoCore
import FengqiaoServer
import Foundation
import Testing
import VaporTesting

/// Issue 4: the dispute rules (risk triggers, deadlines per grade and level, the repeat rule; §3.4,
/// §3.7.3, §4.1 [P]) configurable by the operator, loaded at start and applied by the running service.
@Suite("dispute rules configuration", .serialized)
struct DisputeRulesConfigTests {
    /// A repeat window of 7 days, raised at the 2nd call; yellow disputes 2 days at grid level,
    /// orange ones 36 hours.
    static let file = #"""
    {"repeats": {"windowDays": 7, "raiseAt": 2},
     "levelDeadlineDays": {"yellow": {"grid": 2}, "orange": {"grid": 1.5}}}
    """#

    @Test("AppConfig reads <data-dir>/dispute-rules.json or FENGQIAO_DISPUTE_RULES; a bad or missing named file stops the start naming the field")
    func config() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-drules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let plain = try AppConfig.load(dataDirectory: dir, environment: [:])
        #expect(plain.disputeRules == .defaults && plain.disputeRulesFile == nil)
        try Data(Self.file.utf8).write(to: URL(fileURLWithPath: dir + "/dispute-rules.json"))
        let fromDir = try AppConfig.load(dataDirectory: dir, environment: [:])
        #expect(fromDir.disputeRules.repeats.windowDays == 7 && fromDir.disputeRules.repeats.raiseAt == 2)
        #expect(fromDir.disputeRules.escalation.hours[.yellow]?[.grid] == 48 && fromDir.disputeRulesFile == dir + "/dispute-rules.json")
        let named = dir + "/other.json"
        try Data(#"{"repeats": {"windowDays": 14}}"#.utf8).write(to: URL(fileURLWithPath: named))
        let fromEnv = try AppConfig.load(dataDirectory: dir, environment: ["FENGQIAO_DISPUTE_RULES": named])
        #expect(fromEnv.disputeRules.repeats.windowDays == 14 && fromEnv.disputeRules.repeats.raiseAt == 3 && fromEnv.disputeRulesFile == named)
        let bad = dir + "/bad.json"
        try Data(#"{"repeats": {"windowDays": 0}}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let badGrade = dir + "/bad-grade.json"
        try Data(#"{"levelDeadlineDays": {"yellow": {"station": 3}}}"#.utf8).write(to: URL(fileURLWithPath: badGrade))
        for (path, needle) in [
            (bad, "dispute rules \(bad): repeats.windowDays: must be 1…365"), (badGrade, "levelDeadlineDays.yellow.station: unknown level"),
            (dir + "/missing.json", "FENGQIAO_DISPUTE_RULES names \(dir)/missing.json, which cannot be read"),
        ] {
            do {
                _ = try AppConfig.load(dataDirectory: dir, environment: ["FENGQIAO_DISPUTE_RULES": path])
                Issue.record("\(path) was accepted")
            } catch let e as ConfigError {
                #expect(e.problems.contains { $0.contains(needle) }, "\(e.problems)")
            }
        }
    }

    @Test("configure puts the configured rules in app.disputeSettings, keeping the clock and handling")
    func configured() async throws {
        let rules = try DisputeRules.parse(Data(Self.file.utf8))
        try await withApp(disputeRules: rules) { app in
            #expect(app.disputeSettings.rules == rules)
            #expect(app.disputeSettings.repeats.windowDays == 7 && app.disputeSettings.risk.repeatIncidentThreshold == 2)
        }
        try await withApp { app in #expect(app.disputeSettings.rules == .defaults) }
    }

    static func gridIncidentJSON(grid: UUID, phone: String) -> String {
        #"{"category":"80","priority":"p3","gridId":"\#(idText(grid))","callerName":"赵先生","callerPhone":"\#(phone)","summary":"邻居吵闹"}"#
    }

    /// Dispatch, arrival, then "turned into a dispute" at grid level; returns the dispute.
    static func convert(_ app: Application, _ f: DisputeTests.Fixture, _ incident: UUID) async throws -> DisputeTests.DetailOut {
        for e in ["dispatch", "arrive"] {
            let r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(incident))/events", token: f.officer, json: #"{"event":"\#(e)"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
        }
        let r = try await apiCall(app, .POST, "/api/v1/incidents/\(idText(incident))/events", token: f.officer, json: #"""
            {"event":"convertToDispute","dispute":{"category":"02","level":"grid","summary":"邻里噪音","parties":[{"name":"张三"},{"name":"李四"}]}}
            """#)
        #expect(r.status == .created, "\(r.body.string)")
        return try #require(try json(r, as: DisputeTests.IncidentEventOut.self).dispute)
    }

    struct DueOut: Decodable { var dispute: Summary; struct Summary: Decodable { var levelDueAt: Date?; var levelSince: Date; var riskGrade: String; var level: String } }

    static func due(_ app: Application, _ f: DisputeTests.Fixture, _ id: UUID) async throws -> DueOut.Summary {
        try json(try await apiCall(app, .GET, "/api/v1/disputes/\(idText(id))", token: f.officer), as: DueOut.self).dispute
    }

    @Test("through HTTP: a 7-day window raised at the 2nd call — a call after 8 days is no repeat, one within 7 days is and raises; the yellow/grid deadline is the configured one")
    func applied() async throws {
        let rules = try DisputeRules.parse(Data(Self.file.utf8))
        try await withApp(disputeRules: rules) { app in
            let f = try await DisputeTests.fixture(app)
            let t0 = f.clock.now
            // 1. A call from address A becomes a dispute: yellow, grid level, due 2 days later (default 7).
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: DisputeTests.incidentJSON(address: f.addressA, phone: "13900000001"))
            #expect(r.status == .created, "\(r.body.string)")
            let first = try json(r, as: DisputeTests.IncidentOut.self)
            let d = try await Self.convert(app, f, first.id).dispute
            var s = try await Self.due(app, f, d.id)
            #expect(s.riskGrade == "Y" && s.level == "grid")
            #expect(abs((s.levelDueAt ?? .distantPast).timeIntervalSince(t0) - 2 * 86_400) < 1, "yellow/grid due after 2 days, got \(String(describing: s.levelDueAt))")
            // The sweep moves it up when the configured deadline passes, not before.
            f.clock.advance(days: 1.9)
            r = try await apiCall(app, .POST, "/api/v1/disputes/escalations", token: f.officer, json: "{}")
            #expect(r.status == .ok && !r.body.string.lowercased().contains(idText(d.id)), "\(r.body.string)")
            f.clock.advance(days: 0.1)
            r = try await apiCall(app, .POST, "/api/v1/disputes/escalations", token: f.officer, json: "{}")
            #expect(r.status == .ok && r.body.string.lowercased().contains(idText(d.id)), "\(r.body.string)")
            #expect(try await Self.due(app, f, d.id).level == "community")
            // 2. The 2nd call from address A 8 days after the first: outside the 7-day window, no repeat.
            f.clock.advance(days: 6)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: DisputeTests.incidentJSON(address: f.addressA, phone: "13900000002"))
            #expect(r.status == .created, "\(r.body.string)")
            let late = try json(r, as: DisputeTests.IncidentOut.self)
            #expect(!late.isRepeat && late.repeatOf == nil && late.disputeId == nil && late.riskRaisedTo == nil, "\(r.body.string)")
            #expect(try await Self.due(app, f, d.id).riskGrade == "Y")
            // 3. A caller (by phone) whose call became a dispute calls again 6 days later: within the
            // window, a repeat, and the 2nd call already raises the dispute to orange.
            f.clock.advance(seconds: 7200)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.gridIncidentJSON(grid: f.t.gridA.id, phone: "13900000009"))
            #expect(r.status == .created, "\(r.body.string)")
            let callerFirst = try json(r, as: DisputeTests.IncidentOut.self)
            #expect(!callerFirst.isRepeat)
            let e = try await Self.convert(app, f, callerFirst.id).dispute
            s = try await Self.due(app, f, e.id)
            #expect(s.riskGrade == "Y")
            f.clock.advance(days: 6)
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: Self.gridIncidentJSON(grid: f.t.gridA.id, phone: "13900000009"))
            #expect(r.status == .created, "\(r.body.string)")
            let again = try json(r, as: DisputeTests.IncidentOut.self)
            #expect(again.isRepeat && again.repeatOf == callerFirst.id && again.disputeId == e.id, "\(r.body.string)")
            #expect(again.repeatCountInWindow == 2 && again.riskRaisedTo == "O", "\(r.body.string)")
            s = try await Self.due(app, f, e.id)
            #expect(s.riskGrade == "O" && s.level == "grid")
            // The deadline follows the new grade: orange/grid is configured to 36 hours from the level's start.
            #expect(abs((s.levelDueAt ?? .distantPast).timeIntervalSince(s.levelSince) - 36 * 3600) < 1, "orange/grid due after 36 h, got \(String(describing: s.levelDueAt))")
        }
    }
}
