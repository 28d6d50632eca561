import FengqiaoCore
import FengqiaoServer
import Foundation
import Testing
import VaporTesting

/// Issue 5: hazard categories and time limits configurable by the operator (§3.8, §4.2 [P]).
@Suite("hazard rules file")
struct HazardRulesTests {
    static let file = #"""
    {"deadlines": [{"severity": "normal", "stage": "verify", "hours": 3},
                   {"category": "gas", "severity": "normal", "stage": "handle", "workingDays": 1}],
     "categories": [{"category": "foodDrug", "active": false}, {"category": "municipalFacility", "defaultDepartment": "城管局"}]}
    """#

    @Test("a rules file overrides limits per severity or per category and retires or renames categories; the rest stay the defaults")
    func parse() throws {
        let r = try HazardRules.parse(Data(Self.file.utf8))
        #expect(r.deadlines.limit(.verify, category: .fire, severity: .normal) == .hours(3))
        #expect(r.deadlines.limit(.handle, category: .gas, severity: .normal) == .workingDays(1))
        #expect(r.deadlines.limit(.handle, category: .fire, severity: .normal) == .workingDays(3), "default kept")
        #expect(r.categories.info(.foodDrug)?.active == false && r.categories.info(.municipalFacility)?.defaultDepartment == "城管局")
        #expect(r.categories.info(.fire) == HazardCategoryTable.defaults.info(.fire))
    }

    @Test("bad entries are named", arguments: [
        (#"{"deadlines":[{"severity":"huge","stage":"verify","hours":1}]}"#, "deadlines[0].severity"),
        (#"{"deadlines":[{"severity":"normal","stage":"verify"}]}"#, "deadlines[0]"),
        (#"{"deadlines":[{"severity":"normal","stage":"verify","hours":2,"workingDays":1}]}"#, "deadlines[0]"),
        (#"{"deadlines":[{"severity":"normal","stage":"verify","hours":0}]}"#, "deadlines[0].hours"),
        (#"{"deadlines":[{"category":"volcano","severity":"normal","stage":"verify","hours":2}]}"#, "deadlines[0].category"),
        (#"{"categories":[{"category":"fire","defaultDepartment":"  "}]}"#, "categories[0].defaultDepartment"),
        (#"{"categories":[{"active":false}]}"#, "categories[0].category"),
        (#"[1,2]"#, "file"),
    ])
    func badEntries(_ json: String, _ field: String) {
        do {
            _ = try HazardRules.parse(Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            if case .invalidField(let f, _) = error { #expect(f == field, "\(json)") } else { Issue.record("\(error)") }
        }
    }

    @Test("retiring every category is refused")
    func allRetired() {
        let all = HazardCategory.allCases.map { #"{"category":"\#($0.rawValue)","active":false}"# }.joined(separator: ",")
        #expect(throws: DomainError.self) { try HazardRules.parse(Data(#"{"categories":[\#(all)]}"#.utf8)) }
    }

    @Test("AppConfig reads <data-dir>/hazard-rules.json or FENGQIAO_HAZARD_RULES; a bad or missing named file stops the start naming it")
    func config() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-rules-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(try AppConfig.load(dataDirectory: dir, environment: [:]).hazardRules == .defaults)
        try Data(Self.file.utf8).write(to: URL(fileURLWithPath: dir + "/hazard-rules.json"))
        #expect(try AppConfig.load(dataDirectory: dir, environment: [:]).hazardRules.deadlines.limit(.verify, category: .fire, severity: .normal) == .hours(3))
        let bad = dir + "/bad.json"
        try Data(#"{"deadlines":[{"severity":"normal","stage":"later","hours":1}]}"#.utf8).write(to: URL(fileURLWithPath: bad))
        for (path, needle) in [(bad, "deadlines[0].stage"), (dir + "/missing.json", "cannot be read")] {
            do {
                _ = try AppConfig.load(dataDirectory: dir, environment: ["FENGQIAO_HAZARD_RULES": path])
                Issue.record("\(path) was accepted")
            } catch let e as ConfigError {
                #expect(e.problems.contains { $0.contains(needle) }, "\(e.problems)")
            }
        }
    }

    @Test("the running service applies them: a retired category is refused to reporters, the verify limit is the configured one")
    func applied() async throws {
        let rules = try HazardRules.parse(Data(Self.file.utf8))
        try await withApp(hazardRules: rules) { app in
            let h = HazardTests()
            let w = try await h.world(app)
            let retired = try await h.report(app, w, category: "foodDrug")
            #expect(retired.status == .unprocessableEntity && problem(retired)?.errors?.first?.field == "category", "\(retired.body.string)")
            let before = Date()
            let id = try await h.submitted(app, w)
            let e = try json(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.workerToken), as: HazardTests.EventOut.self)
            let due = try #require(e.dueAt)
            #expect(abs(due.timeIntervalSince(before) - 3 * 3600) < 120, "verify due 3 h after submission, got \(due)")
        }
    }
}
