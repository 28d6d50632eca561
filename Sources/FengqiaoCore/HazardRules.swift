import Foundation

/// The operator's hazard rules (issue 5: "categories and severities from the spec, configurable";
/// "deadlines per category and severity, defaults from the spec, configurable"; domain spec §3.8,
/// §4.2 [P]): the category table and the time limits, read from a JSON file over the defaults.
///
/// File shape (every part optional):
/// ```json
/// {"deadlines": [{"severity": "urgent", "stage": "handle", "hours": 12},
///                {"category": "gas", "severity": "normal", "stage": "handle", "workingDays": 2}],
///  "categories": [{"category": "foodDrug", "active": false},
///                 {"category": "municipalFacility", "defaultDepartment": "城管局"}]}
/// ```
/// A deadline entry without `category` sets the default for its severity and stage; with one, it
/// overrides that category only (`EventDeadlinePolicy.limit`). Exactly one of `hours` (1…8,760)
/// and `workingDays` (1…365). A category entry changes the listed fields of that row.
public struct HazardRules: Sendable, Equatable {
    public var deadlines: EventDeadlinePolicy
    public var categories: HazardCategoryTable

    public init(deadlines: EventDeadlinePolicy = .defaults, categories: HazardCategoryTable = .defaults) {
        self.deadlines = deadlines
        self.categories = categories
    }

    public static let defaults = HazardRules()

    struct File: Decodable {
        struct Deadline: Decodable { var category: String?; var severity: String?; var stage: String?; var hours: Int?; var workingDays: Int? }
        struct Category: Decodable { var category: String?; var active: Bool?; var defaultDepartment: String? }
        var deadlines: [Deadline]?
        var categories: [Category]?
    }

    /// The defaults with the file's entries applied.
    /// - Throws: `DomainError.invalidField` naming the entry (`deadlines[1].stage`, `categories[0]`…)
    ///   and the reason; `invalidField("file", …)` when the file is not JSON of this shape.
    public static func parse(_ data: Data) throws(DomainError) -> HazardRules {
        let f: File
        do { f = try JSONDecoder().decode(File.self, from: data) } catch {
            throw .invalidField(field: "file", reason: "is not a JSON object with \"deadlines\" and \"categories\" lists")
        }
        var rules = HazardRules.defaults
        for (i, d) in (f.deadlines ?? []).enumerated() {
            let at = "deadlines[\(i)]"
            var category: HazardCategory?
            if let c = d.category {
                guard let v = HazardCategory(rawValue: c) else { throw .invalidField(field: "\(at).category", reason: "\"\(c)\" is not a hazard category") }
                category = v
            }
            guard let s = d.severity, let severity = EventSeverity(rawValue: s) else {
                throw .invalidField(field: "\(at).severity", reason: .text("must be one of " + EventSeverity.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            guard let st = d.stage, let stage = DeadlineStage(rawValue: st) else {
                throw .invalidField(field: "\(at).stage", reason: .text("must be one of " + DeadlineStage.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            let limit: TimeLimit
            switch (d.hours, d.workingDays) {
            case (let h?, nil):
                guard (1...8_760).contains(h) else { throw .invalidField(field: "\(at).hours", reason: "must be 1 to 8760") }
                limit = .hours(h)
            case (nil, let w?):
                guard (1...365).contains(w) else { throw .invalidField(field: "\(at).workingDays", reason: "must be 1 to 365") }
                limit = .workingDays(w)
            default:
                throw .invalidField(field: at, reason: "give exactly one of hours and workingDays")
            }
            rules.deadlines.limits[EventDeadlinePolicy.Key(category: category, severity: severity, stage: stage)] = limit
        }
        for (i, c) in (f.categories ?? []).enumerated() {
            let at = "categories[\(i)]"
            guard let raw = c.category, let category = HazardCategory(rawValue: raw) else {
                throw .invalidField(field: "\(at).category", reason: .text("must be one of " + HazardCategory.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            guard let idx = rules.categories.rows.firstIndex(where: { $0.category == category }) else {
                throw .invalidField(field: "\(at).category", reason: "\"\(raw)\" is not in the category table")
            }
            if let a = c.active { rules.categories.rows[idx].active = a }
            if let dep = c.defaultDepartment {
                let t = dep.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !t.isEmpty, t.count <= 100 else { throw .invalidField(field: "\(at).defaultDepartment", reason: "must be 1 to 100 characters") }
                rules.categories.rows[idx].defaultDepartment = t
            }
        }
        guard rules.categories.rows.contains(where: \.active) else { throw .invalidField(field: "categories", reason: "at least one category must stay active") }
        return rules
    }
}
