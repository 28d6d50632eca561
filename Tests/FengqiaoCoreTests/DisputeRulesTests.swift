import Foundation
import Testing
@testable import FengqiaoCore

/// Issue 4: the dispute rules file (risk triggers, deadlines per grade and level, the repeat rule;
/// domain spec §3.4, §3.7.3, §4.1 [P]).
@Suite("dispute rules file")
struct DisputeRulesTests {
    static func parse(_ s: String) throws(DomainError) -> DisputeRules { try DisputeRules.parse(Data(s.utf8)) }

    /// The repository's docs/dispute-rules.example.json.
    static var exampleFile: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/dispute-rules.example.json")
    }

    @Test("the defaults are the spec's: triggers of §3.4, repeat rule of §3.7.3, deadlines of EscalationPolicy")
    func defaults() {
        let d = DisputeRules.defaults
        #expect(d.risk.gradeFor[.threatOfViolence] == .red && d.risk.gradeFor[.weapons] == .red && d.risk.gradeFor[.partyUnderSpecialManagement] == .red)
        #expect(d.risk.gradeFor[.group] == .red && d.risk.groupSizeThreshold == 5)
        #expect(d.risk.gradeFor[.repeatIncidents] == .orange && d.risk.repeatIncidentThreshold == 3 && d.risk.repeatWindowDays == 30)
        #expect(d.repeats.windowDays == 30 && d.repeats.raiseAt == 3 && d.repeats.raiseTo == .orange)
        #expect(d.repeats.duplicateSeconds == 3600 && d.repeats.duplicateMeters == 500)
        #expect(d.escalation.hours == EscalationPolicy.defaultHours)
        #expect(d.escalation.hours[.red]?[.building] == 12 && d.escalation.hours[.yellow]?[.grid] == 7 * 24)
    }

    @Test("the defaults written in the file shape parse back to the defaults; so do an empty object and the documented example")
    func roundTrip() throws {
        let text = DisputeRules.defaults.fileJSON
        #expect(try Self.parse(text) == .defaults)
        #expect(text.contains(#""red": {"building": 0.5, "grid": 1, "community": 3}"#), "\(text)")
        #expect(try Self.parse("{}") == .defaults)
        // The documented example: the defaults, every key written out (besides its `_` comments).
        let example = try Data(contentsOf: Self.exampleFile)
        #expect(try DisputeRules.parse(example) == .defaults)
        let exampleKeys = try JSONDecoder().decode(RulesJSON.self, from: example).withoutComments
        #expect(exampleKeys == (try JSONDecoder().decode(RulesJSON.self, from: Data(text.utf8))), "docs/dispute-rules.example.json holds every key of DisputeRules.defaults.fileJSON")
        // Any rules the parser gives round-trip too.
        let custom = try Self.parse(#"{"levelDeadlineDays":{"red":{"building":0.25},"blue":{"community":60}},"risk":{"groupSize":8,"triggers":{"largeAmount":"yellow"}},"repeats":{"windowDays":14,"raiseAt":4,"raiseTo":"red","duplicateMinutes":30,"duplicateMeters":250.5}}"#)
        #expect(try Self.parse(custom.fileJSON) == custom)
    }

    @Test("a partial file changes the keys it names and keeps every other default")
    func partial() throws {
        let r = try Self.parse(#"{"repeats": {"windowDays": 7, "raiseAt": 2}, "levelDeadlineDays": {"yellow": {"grid": 2}, "R": {"building": 0.25}}, "_comment": "ignored"}"#)
        #expect(r.repeats.windowDays == 7 && r.repeats.raiseAt == 2)
        #expect(r.risk.repeatWindowDays == 7 && r.risk.repeatIncidentThreshold == 2, "the risk trigger follows the repeat rule")
        #expect(r.repeats.raiseTo == .orange && r.repeats.duplicateSeconds == 3600 && r.repeats.duplicateMeters == 500)
        #expect(r.escalation.hours[.yellow]?[.grid] == 48 && r.escalation.hours[.red]?[.building] == 6)
        var expected = EscalationPolicy.defaultHours
        expected[.yellow]![.grid] = 48
        expected[.red]![.building] = 6
        #expect(r.escalation.hours == expected)
        #expect(r.risk.gradeFor == RiskPolicy.defaultGrades && r.risk.groupSizeThreshold == 5 && r.risk.baseline == .yellow)
        #expect(try Self.parse(#"{"repeats":{"windowDays":1}}"#).repeats.windowDays == 1)
    }

    @Test("risk triggers, group size and baseline are configurable")
    func risk() throws {
        let r = try Self.parse(#"{"risk": {"baseline": "blue", "groupSize": 10, "triggers": {"weapons": "orange", "largeAmount": "blue"}}}"#)
        #expect(r.risk.baseline == .blue && r.risk.groupSizeThreshold == 10)
        #expect(r.risk.gradeFor[.weapons] == .orange && r.risk.gradeFor[.largeAmount] == .blue && r.risk.gradeFor[.threatOfViolence] == .red)
        #expect(r.risk.grade(triggers: r.risk.triggers(flags: [.weapons], relatedIncidentsInWindow: 0, groupSize: 9)) == .orange)
        #expect(r.risk.grade(triggers: r.risk.triggers(flags: [], relatedIncidentsInWindow: 0, groupSize: 10)) == .red)
    }

    @Test("the repeat trigger's grade is one rule: raiseTo and risk.triggers.repeatIncidents set each other; different values are refused")
    func repeatGradeIsOneRule() throws {
        let a = try Self.parse(#"{"repeats": {"raiseTo": "red"}}"#)
        #expect(a.repeats.raiseTo == .red && a.risk.gradeFor[.repeatIncidents] == .red)
        let b = try Self.parse(#"{"risk": {"triggers": {"repeatIncidents": "red"}}}"#)
        #expect(b.repeats.raiseTo == .red && b.risk.gradeFor[.repeatIncidents] == .red)
        #expect(try Self.parse(#"{"risk": {"triggers": {"repeatIncidents": "R"}}, "repeats": {"raiseTo": "red"}}"#) == a)
        do {
            _ = try Self.parse(#"{"risk": {"triggers": {"repeatIncidents": "red"}}, "repeats": {"raiseTo": "orange"}}"#)
            Issue.record("accepted two grades for one rule")
        } catch {
            guard case .invalidField(let f, let reason) = error else { Issue.record("\(error)"); return }
            #expect(f == "repeats.raiseTo" && reason.english.contains("risk.triggers.repeatIncidents"), "\(reason)")
        }
    }

    @Test("each bad entry is refused naming its field", arguments: [
        (#"{"repeats":{"windowDays":0}}"#, "repeats.windowDays"),
        (#"{"repeats":{"windowDays":366}}"#, "repeats.windowDays"),
        (#"{"repeats":{"windowDays":7.5}}"#, "repeats.windowDays"),
        (#"{"repeats":{"windowDays":"7"}}"#, "repeats.windowDays"),
        (#"{"repeats":{"windowDays":true}}"#, "repeats.windowDays"),
        (#"{"repeats":{"raiseAt":1}}"#, "repeats.raiseAt"),
        (#"{"repeats":{"raiseAt":-3}}"#, "repeats.raiseAt"),
        (#"{"repeats":{"raiseTo":"purple"}}"#, "repeats.raiseTo"),
        (#"{"repeats":{"raiseTo":3}}"#, "repeats.raiseTo"),
        (#"{"repeats":{"duplicateMinutes":0}}"#, "repeats.duplicateMinutes"),
        (#"{"repeats":{"duplicateMinutes":1441}}"#, "repeats.duplicateMinutes"),
        (#"{"repeats":{"duplicateMeters":0}}"#, "repeats.duplicateMeters"),
        (#"{"repeats":{"duplicateMeters":20000}}"#, "repeats.duplicateMeters"),
        (#"{"repeats":{"window":7}}"#, "repeats.window"),
        (#"{"repeats":[7]}"#, "repeats"),
        (#"{"levelDeadlineDays":{"purple":{"grid":1}}}"#, "levelDeadlineDays.purple"),
        (#"{"levelDeadlineDays":{"yellow":{"station":1}}}"#, "levelDeadlineDays.yellow.station"),
        (#"{"levelDeadlineDays":{"yellow":{"street":1}}}"#, "levelDeadlineDays.yellow.street"),
        (#"{"levelDeadlineDays":{"yellow":{"grid":0}}}"#, "levelDeadlineDays.yellow.grid"),
        (#"{"levelDeadlineDays":{"yellow":{"grid":-1}}}"#, "levelDeadlineDays.yellow.grid"),
        (#"{"levelDeadlineDays":{"yellow":{"grid":0.01}}}"#, "levelDeadlineDays.yellow.grid"),
        (#"{"levelDeadlineDays":{"yellow":{"grid":0.3}}}"#, "levelDeadlineDays.yellow.grid"),
        (#"{"levelDeadlineDays":{"yellow":{"grid":366}}}"#, "levelDeadlineDays.yellow.grid"),
        (#"{"levelDeadlineDays":{"yellow":{"grid":"7"}}}"#, "levelDeadlineDays.yellow.grid"),
        (#"{"levelDeadlineDays":{"yellow":7}}"#, "levelDeadlineDays.yellow"),
        (#"{"levelDeadlineDays":[]}"#, "levelDeadlineDays"),
        (#"{"risk":{"triggers":{"earthquake":"red"}}}"#, "risk.triggers.earthquake"),
        (#"{"risk":{"triggers":{"weapons":"crimson"}}}"#, "risk.triggers.weapons"),
        (#"{"risk":{"triggers":["weapons"]}}"#, "risk.triggers"),
        (#"{"risk":{"groupSize":1}}"#, "risk.groupSize"),
        (#"{"risk":{"groupSize":5.5}}"#, "risk.groupSize"),
        (#"{"risk":{"baseline":"none"}}"#, "risk.baseline"),
        (#"{"risk":{"relatedCalls":3}}"#, "risk.relatedCalls"),
        (#"{"repeat":{"windowDays":7}}"#, "repeat"),
        (#"[1,2]"#, "file"),
        (#"not json"#, "file"),
    ])
    func badEntries(_ text: String, _ field: String) {
        do {
            let r = try Self.parse(text)
            Issue.record("accepted \(text): \(r)")
        } catch {
            if case .invalidField(let f, let reason) = error { #expect(f == field, "\(text): \(reason)") } else { Issue.record("\(error)") }
        }
    }

    @Test("the reasons name the allowed values")
    func reasons() {
        func reason(_ text: String) -> String? {
            do { _ = try Self.parse(text); return nil } catch {
                if case .invalidField(_, let r) = error { return r.english }
                return nil
            }
        }
        #expect(reason(#"{"repeats":{"windowDays":0}}"#) == "must be 1…365")
        #expect(reason(#"{"repeats":{"raiseTo":"purple"}}"#) == "must be one of red, orange, yellow, blue")
        #expect(reason(#"{"levelDeadlineDays":{"yellow":{"grid":0.3}}}"#)?.contains("whole number of hours") == true)
        #expect(reason(#"{"levelDeadlineDays":{"yellow":{"station":1}}}"#)?.contains("building, grid, community") == true)
        #expect(reason(#"{"risk":{"triggers":{"earthquake":"red"}}}"#)?.contains("threatOfViolence, weapons") == true)
    }
}
