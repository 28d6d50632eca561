import Foundation

/// The operator's dispute rules (issue 4: "configurable triggers", "deadlines configurable per
/// risk grade", repeat incidents "within a configurable window (default 30 days)"; domain spec
/// §3.4, §3.7.3 and the ladder of §4.1, all [P]): the risk triggers, the escalation deadlines per
/// grade and level, and the repeat-incident rule, read from a JSON file over the defaults.
///
/// File shape (every key optional; a key left out keeps its default; keys starting with `_` are
/// comments and ignored; any other unknown key is refused):
/// ```json
/// {"levelDeadlineDays": {"red":    {"building": 0.5, "grid": 1, "community": 3},
///                        "orange": {"building": 1,   "grid": 3, "community": 7},
///                        "yellow": {"building": 3,   "grid": 7, "community": 15},
///                        "blue":   {"building": 7,   "grid": 15, "community": 30}},
///  "risk": {"baseline": "yellow", "groupSize": 5,
///           "triggers": {"threatOfViolence": "red", "weapons": "red", "partyUnderSpecialManagement": "red",
///                        "group": "red", "repeatIncidents": "orange", "priorPhysicalConflict": "orange",
///                        "largeAmount": "orange"}},
///  "repeats": {"windowDays": 30, "raiseAt": 3, "raiseTo": "orange", "duplicateMinutes": 60, "duplicateMeters": 500}}
/// ```
/// - `levelDeadlineDays.<grade>.<level>`: how long a dispute of that risk grade may stay at that
///   level before the sweep moves it up (`EscalationPolicy`), in days, fractions allowed as long
///   as they are whole hours (0.5 = 12 h); 1 hour … 365 days. Grades `red`, `orange`, `yellow`,
///   `blue` (or the codes `R`, `O`, `Y`, `B`); levels `building`, `grid`, `community` (the station
///   is the top and has no deadline).
/// - `risk.triggers.<trigger>`: the grade a trigger raises a dispute to at least (`RiskPolicy`);
///   a trigger set to `blue` raises nothing. `risk.baseline`: the grade of an active dispute with
///   no trigger. `risk.groupSize`: people that make a group (2…1000).
/// - `repeats` (`RepeatPolicy`, §3.7.3): `windowDays` (1…365) for a repeat; `raiseAt` (2…1000):
///   the number of incidents in the window, the first included, that raises the dispute behind
///   them; `raiseTo`: the grade it is raised to at least; a same-event duplicate is another
///   caller within `duplicateMinutes` (1…1440) and `duplicateMeters` (1…10,000).
///
/// The "related police calls" trigger is one rule with the repeat rule: its count and window are
/// `repeats.raiseAt` and `repeats.windowDays` (copied into `RiskPolicy.repeatIncidentThreshold`
/// and `repeatWindowDays`), and its grade is both `repeats.raiseTo` and
/// `risk.triggers.repeatIncidents`: giving one sets the other; giving both with different
/// grades is refused.
public struct DisputeRules: Sendable, Equatable {
    public var risk: RiskPolicy
    public var escalation: EscalationPolicy
    public var repeats: RepeatPolicy

    public init(risk: RiskPolicy = .init(), escalation: EscalationPolicy = .init(), repeats: RepeatPolicy = .init()) {
        self.risk = risk
        self.escalation = escalation
        self.repeats = repeats
    }

    /// The spec defaults (§3.4, §3.7.3 and `EscalationPolicy.defaultHours`).
    public static let defaults = DisputeRules()

    /// The levels that carry a deadline (every level but the top one).
    public static let deadlineLevels: [DisputeLevel] = DisputeLevel.allCases.filter { $0.next != nil }

    /// The grade names of the file, highest first.
    public static func gradeName(_ g: RiskGrade) -> String {
        switch g {
        case .red: "red"
        case .orange: "orange"
        case .yellow: "yellow"
        case .blue: "blue"
        }
    }

    static func grade(named s: String) -> RiskGrade? {
        RiskGrade.allCases.first { gradeName($0) == s || $0.rawValue == s }
    }

    static let gradeList = RiskGrade.allCases.map(gradeName).joined(separator: ", ")

    // MARK: Parsing

    /// The defaults with the file's entries applied.
    /// - Throws: `DomainError.invalidField` naming the field by its path in the file
    ///   (`repeats.windowDays`, `levelDeadlineDays.yellow.grid`, `risk.triggers.weapons`…) and the
    ///   reason; `invalidField("file", …)` when the file is not a JSON object.
    public static func parse(_ data: Data) throws(DomainError) -> DisputeRules {
        let root: RulesJSON
        do { root = try JSONDecoder().decode(RulesJSON.self, from: data) } catch {
            throw .invalidField(field: "file", reason: "is not JSON")
        }
        guard case .object(let top) = root else {
            throw .invalidField(field: "file", reason: "is not a JSON object with \"levelDeadlineDays\", \"risk\" and \"repeats\"")
        }
        var rules = DisputeRules.defaults
        try known(top, at: nil, ["levelDeadlineDays", "risk", "repeats"])

        if let v = top["levelDeadlineDays"] {
            let grades = try object(v, at: "levelDeadlineDays")
            for (gKey, gValue) in sorted(grades) {
                let at = "levelDeadlineDays.\(gKey)"
                guard let g = grade(named: gKey) else { throw .invalidField(field: at, reason: "unknown risk grade; one of \(gradeList)") }
                let levels = try object(gValue, at: at)
                for (lKey, lValue) in sorted(levels) {
                    let lat = "\(at).\(lKey)"
                    guard let l = DisputeLevel(rawValue: lKey), l.next != nil else {
                        throw .invalidField(field: lat, reason: .text("unknown level; one of " + deadlineLevels.map(\.rawValue).joined(separator: ", ") + " (the station is the top level and has no deadline)"))
                    }
                    guard case .number(let days) = lValue, days.isFinite else { throw .invalidField(field: lat, reason: "must be a number of days") }
                    guard days * 24 > 0.999_999, days <= 365 else { throw .invalidField(field: lat, reason: "must be 1 hour (1/24) to 365 days") }
                    let hours = (days * 24).rounded()
                    guard abs(days * 24 - hours) < 1e-6 else { throw .invalidField(field: lat, reason: "must be a whole number of hours (days × 24), e.g. 0.5 for 12 h") }
                    rules.escalation.hours[g, default: [:]][l] = Int(hours)
                }
            }
        }

        var triggerGradeGiven = false
        if let v = top["risk"] {
            let risk = try object(v, at: "risk")
            try known(risk, at: "risk", ["baseline", "groupSize", "triggers"])
            if let b = risk["baseline"] { rules.risk.baseline = try gradeValue(b, at: "risk.baseline") }
            if let s = risk["groupSize"] { rules.risk.groupSizeThreshold = try int(s, at: "risk.groupSize", 2...1000) }
            if let t = risk["triggers"] {
                for (key, value) in sorted(try object(t, at: "risk.triggers")) {
                    let at = "risk.triggers.\(key)"
                    guard let trigger = RiskTrigger(rawValue: key) else {
                        throw .invalidField(field: at, reason: .text("unknown trigger; one of " + RiskTrigger.allCases.map(\.rawValue).joined(separator: ", ")))
                    }
                    rules.risk.gradeFor[trigger] = try gradeValue(value, at: at)
                    if trigger == .repeatIncidents { triggerGradeGiven = true }
                }
            }
        }

        if let v = top["repeats"] {
            let r = try object(v, at: "repeats")
            try known(r, at: "repeats", ["windowDays", "raiseAt", "raiseTo", "duplicateMinutes", "duplicateMeters"])
            if let w = r["windowDays"] { rules.repeats.windowDays = try int(w, at: "repeats.windowDays", 1...365) }
            if let n = r["raiseAt"] { rules.repeats.raiseAt = try int(n, at: "repeats.raiseAt", 2...1000) }
            if let m = r["duplicateMinutes"] { rules.repeats.duplicateSeconds = try int(m, at: "repeats.duplicateMinutes", 1...1440) * 60 }
            if let d = r["duplicateMeters"] {
                guard case .number(let m) = d, m.isFinite, m >= 1, m <= 10_000 else { throw .invalidField(field: "repeats.duplicateMeters", reason: "must be 1…10000") }
                rules.repeats.duplicateMeters = m
            }
            if let g = r["raiseTo"] {
                let grade = try gradeValue(g, at: "repeats.raiseTo")
                if triggerGradeGiven, rules.risk.gradeFor[.repeatIncidents] != grade {
                    throw .invalidField(
                        field: "repeats.raiseTo",
                        reason: "must equal risk.triggers.repeatIncidents (\(rules.risk.gradeFor[.repeatIncidents].map(gradeName) ?? "none")): both are the grade of the repeat-incident trigger; give one")
                }
                rules.repeats.raiseTo = grade
            }
        }
        // One rule, two holders: keep them equal (see the type's documentation).
        if triggerGradeGiven, let g = rules.risk.gradeFor[.repeatIncidents] { rules.repeats.raiseTo = g } else { rules.risk.gradeFor[.repeatIncidents] = rules.repeats.raiseTo }
        rules.risk.repeatIncidentThreshold = rules.repeats.raiseAt
        rules.risk.repeatWindowDays = rules.repeats.windowDays
        return rules
    }

    private static func sorted(_ o: [String: RulesJSON]) -> [(String, RulesJSON)] {
        o.filter { !$0.key.hasPrefix("_") }.sorted { $0.key < $1.key }
    }

    private static func known(_ o: [String: RulesJSON], at: String?, _ keys: [String]) throws(DomainError) {
        for k in o.keys.sorted() where !k.hasPrefix("_") && !keys.contains(k) {
            throw .invalidField(field: at.map { "\($0).\(k)" } ?? k, reason: .text("unknown key; one of " + keys.joined(separator: ", ")))
        }
    }

    private static func object(_ v: RulesJSON, at: String) throws(DomainError) -> [String: RulesJSON] {
        guard case .object(let o) = v else { throw .invalidField(field: at, reason: "must be a JSON object") }
        return o
    }

    private static func int(_ v: RulesJSON, at: String, _ range: ClosedRange<Int>) throws(DomainError) -> Int {
        guard case .number(let d) = v, d.isFinite, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw .invalidField(field: at, reason: "must be \(range.lowerBound)…\(range.upperBound)")
        }
        return Int(d)
    }

    private static func gradeValue(_ v: RulesJSON, at: String) throws(DomainError) -> RiskGrade {
        guard case .string(let s) = v, let g = grade(named: s) else { throw .invalidField(field: at, reason: "must be one of \(gradeList)") }
        return g
    }

    // MARK: Writing

    /// The rules in the file shape, every key present (grades and levels in ladder order): the
    /// documented example is `DisputeRules.defaults.fileJSON`, and `parse(fileJSON)` gives the
    /// rules back.
    public var fileJSON: String {
        func num(_ d: Double) -> String { d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d) }
        var grades: [String] = []
        for g in RiskGrade.allCases {
            let levels = Self.deadlineLevels.compactMap { l in escalation.hours[g]?[l].map { "\"\(l.rawValue)\": \(num(Double($0) / 24))" } }
            if !levels.isEmpty { grades.append("    \"\(Self.gradeName(g))\": {" + levels.joined(separator: ", ") + "}") }
        }
        let triggers = RiskTrigger.allCases.compactMap { t in risk.gradeFor[t].map { "      \"\(t.rawValue)\": \"\(Self.gradeName($0))\"" } }
        let dupMinutes = Double(repeats.duplicateSeconds) / 60
        return """
            {
              "levelDeadlineDays": {
            \(grades.joined(separator: ",\n"))
              },
              "risk": {
                "baseline": "\(Self.gradeName(risk.baseline))",
                "groupSize": \(risk.groupSizeThreshold),
                "triggers": {
            \(triggers.joined(separator: ",\n"))
                }
              },
              "repeats": {
                "windowDays": \(repeats.windowDays),
                "raiseAt": \(repeats.raiseAt),
                "raiseTo": "\(Self.gradeName(repeats.raiseTo))",
                "duplicateMinutes": \(num(dupMinutes)),
                "duplicateMeters": \(num(repeats.duplicateMeters))
              }
            }

            """
    }
}

/// A parsed JSON value, so the rules file is checked key by key (unknown keys, wrong types and
/// ranges named by their path) instead of failing as a whole.
indirect enum RulesJSON: Decodable, Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([RulesJSON]), object([String: RulesJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([RulesJSON].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: RulesJSON].self))
        }
    }

    /// The value without comment keys (`_…`), at every depth.
    var withoutComments: RulesJSON {
        switch self {
        case .object(let o): .object(o.filter { !$0.key.hasPrefix("_") }.mapValues(\.withoutComments))
        case .array(let a): .array(a.map(\.withoutComments))
        default: self
        }
    }
}
