import Foundation

// Disputes (矛盾纠纷) under the People's Mediation Law (人民调解法): code tables of domain spec
// §3.2–3.5, the state machine of §4.1, the recusal rule (Art. 19/23), the written agreement
// (Arts. 28–31), the judicial-confirmation window (Art. 33), risk grading and the escalation
// ladder (楼栋 → 网格 → 社区 → 派出所/综治中心).

/// Dispute category (纠纷类型), domain spec §3.2. Raw values are the project-local codes.
public enum DisputeCategory: String, CaseIterable, Codable, Sendable {
    case marriageFamily = "01", neighbour = "02", housingHomestead = "03", contract = "04", businessOperation = "05"
    case damageCompensation = "06", forestLand = "07", landAcquisitionDemolition = "08", environmentalPollution = "09"
    case labour = "10", consumer = "11", medical = "12", trafficAccident = "13", propertyManagement = "14"
    case villageAffairs = "15", other = "99"

    public var nameZH: String {
        switch self {
        case .marriageFamily: "婚姻家庭纠纷"
        case .neighbour: "邻里纠纷"
        case .housingHomestead: "房屋宅基地纠纷"
        case .contract: "合同纠纷"
        case .businessOperation: "生产经营纠纷"
        case .damageCompensation: "损害赔偿纠纷"
        case .forestLand: "山林土地纠纷"
        case .landAcquisitionDemolition: "征地拆迁纠纷"
        case .environmentalPollution: "环境污染纠纷"
        case .labour: "劳动争议纠纷"
        case .consumer: "消费纠纷"
        case .medical: "医疗纠纷"
        case .trafficAccident: "道路交通事故纠纷"
        case .propertyManagement: "物业纠纷"
        case .villageAffairs: "村务管理纠纷"
        case .other: "其他纠纷"
        }
    }
}

/// Where a dispute came from (来源), domain spec §3.3.
public enum DisputeSource: String, CaseIterable, Codable, Sendable {
    case proactiveScreening = "1", partyApplication = "2", referral = "3", policeIncident = "4"
    case gridReport = "5", hotlineOrPetition = "6", courtyardHearing = "7"

    public var nameZH: String {
        switch self {
        case .proactiveScreening: "主动排查"
        case .partyApplication: "当事人申请"
        case .referral: "委托移送"
        case .policeIncident: "警情转入"
        case .gridReport: "网格上报"
        case .hotlineOrPetition: "12345/信访转办"
        case .courtyardHearing: "院坝问政"
        }
    }
}

/// Risk grade (风险等级), domain spec §3.4 [P]: red > orange > yellow > blue.
public enum RiskGrade: String, CaseIterable, Codable, Sendable, Comparable {
    case red = "R", orange = "O", yellow = "Y", blue = "B"

    var rank: Int {
        switch self {
        case .blue: 0
        case .yellow: 1
        case .orange: 2
        case .red: 3
        }
    }

    public static func < (a: RiskGrade, b: RiskGrade) -> Bool { a.rank < b.rank }

    public var nameZH: String {
        switch self {
        case .red: "红"
        case .orange: "橙"
        case .yellow: "黄"
        case .blue: "蓝"
        }
    }
}

/// Resolution method (化解方式), domain spec §3.5 [P].
public enum ResolutionMethod: String, CaseIterable, Codable, Sendable {
    case peopleMediation, policeMediation, administrativeMediation, judicialMediation, jointMediation
    case reconciliation, arbitration, litigation, other
}

/// The level a dispute is handled at (琐事不出楼栋、小事不出网格、大事不出社区、矛盾不上交), from the
/// lowest to the highest. Comparable by that order.
public enum DisputeLevel: String, CaseIterable, Codable, Sendable, Comparable {
    case building, grid, community, station

    var rank: Int {
        switch self {
        case .building: 0
        case .grid: 1
        case .community: 2
        case .station: 3
        }
    }

    public static func < (a: DisputeLevel, b: DisputeLevel) -> Bool { a.rank < b.rank }

    /// The next level up; `nil` at the station / governance centre.
    public var next: DisputeLevel? {
        switch self {
        case .building: .grid
        case .grid: .community
        case .community: .station
        case .station: nil
        }
    }

    public var nameZH: String {
        switch self {
        case .building: "楼栋"
        case .grid: "网格"
        case .community: "社区"
        case .station: "派出所/综治中心"
        }
    }
}

/// The states of a dispute (domain spec §4.1). Raw values are stable snake_case identifiers.
public enum DisputeState: String, CaseIterable, Codable, Sendable {
    case registered = "registered"
    case accepted = "accepted"
    case notAccepted = "not_accepted"
    case mediating = "mediating"
    case transferred = "transferred"
    case terminated = "terminated"
    case agreementEffective = "agreement_effective"
    case confirmationPending = "confirmation_pending"
    case performing = "performing"
    case followUp = "follow_up"
    case closedResolved = "closed_resolved"
    case closedUnresolved = "closed_unresolved"

    /// No event leaves a terminal state.
    public var isTerminal: Bool {
        switch self {
        case .notAccepted, .transferred, .terminated, .closedResolved, .closedUnresolved: true
        default: false
        }
    }

    /// Still being worked on (not terminal): the states in which repeat incidents link to it and
    /// the level ladder applies.
    public var isOpen: Bool { !isTerminal }

    /// States in which the escalation ladder runs (before an agreement exists).
    public var escalates: Bool { self == .registered || self == .accepted || self == .mediating }
}

/// The events of the dispute state machine (domain spec §4.1). Guards that need data (parties
/// willing, mediators free of conflict, agreement complete, confirmation window) are checked by
/// the functions beside this type before the event is applied.
public enum DisputeEvent: String, CaseIterable, Codable, Sendable {
    case accept, reject, assignMediators, escalationRisk, transferToPolice, terminate
    case agreeWritten, agreeOral, applyJudicialConfirmation, courtConfirms
    case courtRejectsRemediate, courtRejectsClose, startPerformance, performed, disputeOverAgreement
    case followUpVisitRecorded
}

/// The pure transition function of domain spec §4.1.
public enum DisputeMachine {
    /// The state after `event` in `state`.
    /// - Throws: `DomainError.conflict(field: "event", …)` naming the current state and the
    ///   attempted event when the machine has no such transition; nothing changes.
    public static func next(_ state: DisputeState, _ event: DisputeEvent) throws(DomainError) -> DisputeState {
        switch (state, event) {
        case (.registered, .accept): return .accepted
        case (.registered, .reject): return .notAccepted  // Art. 17: a party clearly refuses, or not civil
        case (.accepted, .assignMediators): return .mediating  // Art. 19
        case (.mediating, .assignMediators): return .mediating  // further mediators
        case (.mediating, .escalationRisk): return .mediating  // Art. 25: risk flag, report
        case (.mediating, .transferToPolice): return .transferred  // Art. 25
        case (.mediating, .terminate): return .terminated  // Art. 26
        case (.mediating, .agreeWritten), (.mediating, .agreeOral): return .agreementEffective  // Arts. 28–30
        case (.agreementEffective, .applyJudicialConfirmation): return .confirmationPending  // Art. 33
        case (.confirmationPending, .courtConfirms): return .performing
        case (.confirmationPending, .courtRejectsRemediate): return .mediating
        case (.confirmationPending, .courtRejectsClose): return .closedUnresolved
        case (.agreementEffective, .startPerformance): return .performing  // Art. 31
        case (.performing, .performed): return .followUp
        case (.performing, .disputeOverAgreement): return .closedUnresolved  // Art. 32
        case (.followUp, .followUpVisitRecorded): return .closedResolved
        default:
            throw .conflict(field: "event", reason: "event \"\(event.rawValue)\" is not allowed in state \"\(state.rawValue)\"")
        }
    }

    /// The events allowed in `state`, in declaration order.
    public static func allowedEvents(in state: DisputeState) -> [DisputeEvent] {
        DisputeEvent.allCases.filter { (try? next(state, $0)) != nil }
    }
}

/// Why mediation was not accepted or was terminated (Art. 17, Art. 26).
public enum DisputeStopReason: String, CaseIterable, Codable, Sendable {
    /// A party clearly refuses mediation (Art. 17: mediation must not proceed).
    case partyRefuses
    /// Not a civil dispute (not for people's mediation).
    case notCivil
    /// A party withdraws (Art. 23).
    case partyWithdraws
    /// Mediation failed (Art. 26).
    case failed
}

/// The recusal rule for mediators (人民调解法 Art. 19 appoints, Art. 23 lets parties refuse a
/// mediator; a mediator who is a party or related to one is refused).
public enum MediatorConflict {
    /// A proposed mediator and what links them to the case's parties.
    public struct Candidate: Sendable, Equatable {
        public var accountID: UUID
        public var name: String
        /// The resident record of the mediator, when known.
        public var residentID: UUID?
        /// Parties (by resident id) the mediator declares to be related to (近亲属, 利害关系).
        public var relatedResidentIDs: Set<UUID>
        public init(accountID: UUID, name: String, residentID: UUID? = nil, relatedResidentIDs: Set<UUID> = []) {
            self.accountID = accountID
            self.name = name
            self.residentID = residentID
            self.relatedResidentIDs = relatedResidentIDs
        }
    }

    /// Checks every candidate against the parties.
    /// - Parameters:
    ///   - partyResidentIDs: the resident ids of the parties known in the registry.
    ///   - partyNames: the parties' names (a mediator with the same name and no resident link is
    ///     not refused; names are not identities).
    /// - Throws: `.invalidField("mediators", …)` for an empty list, or naming the refused mediator
    ///   and whether they are a party or related to one.
    public static func check(_ candidates: [Candidate], partyResidentIDs: Set<UUID>) throws(DomainError) {
        if candidates.isEmpty { throw .invalidField(field: "mediators", reason: "at least one mediator is required (Art. 19)") }
        for c in candidates {
            if let r = c.residentID, partyResidentIDs.contains(r) {
                throw .invalidField(field: "mediators", reason: "mediator \(c.name) is a party to the dispute and is refused")
            }
            if !c.relatedResidentIDs.isDisjoint(with: partyResidentIDs) {
                throw .invalidField(field: "mediators", reason: "mediator \(c.name) is related to a party and is refused")
            }
        }
    }
}

/// A mediation agreement (调解协议), 人民调解法 Arts. 28–31 and domain spec §4.1.
public struct MediationAgreement: Codable, Sendable, Equatable {
    /// Written (调解协议书) or oral (口头协议, Art. 28).
    public enum Form: String, Codable, Sendable, CaseIterable { case written, oral }
    /// People's mediation, or the police-mediation variant (治安调解).
    public enum Kind: String, Codable, Sendable, CaseIterable { case people, police }
    /// How a party authenticated the written agreement.
    public enum Mark: String, Codable, Sendable, CaseIterable { case signed, sealed, fingerprinted }

    public var form: Form
    public var kind: Kind
    /// Art. 29 (1): the parties' basic information.
    public var partiesInformation: String?
    /// Art. 29 (2): main facts, disputed matters and each party's responsibility.
    public var facts: String?
    public var disputedMatters: String?
    public var responsibilities: String?
    /// Art. 29 (3): agreed content and the manner and time limit of performance.
    public var agreedContent: String?
    public var performanceManner: String?
    public var performanceDeadline: CalendarDate?
    /// Party id (lower-case UUID text) → how that party signed, sealed or fingerprinted.
    public var partyMarks: [String: Mark]
    /// The mediator who signed (name), if signed.
    public var mediatorSignature: String?
    /// The committee seal (调解委员会印章) applied.
    public var committeeSeal: Bool
    /// Oral agreements: the content the mediator recorded, and by whom (Art. 28).
    public var recordedContent: String?
    public var recordedBy: String?
    /// The police-mediation variant (治安调解, `kind == .police`): conduct, exclusions, consent.
    public var policeMediation: PoliceMediationFacts?

    public init(
        form: Form, kind: Kind = .people, partiesInformation: String? = nil, facts: String? = nil, disputedMatters: String? = nil,
        responsibilities: String? = nil, agreedContent: String? = nil, performanceManner: String? = nil,
        performanceDeadline: CalendarDate? = nil, partyMarks: [String: Mark] = [:], mediatorSignature: String? = nil,
        committeeSeal: Bool = false, recordedContent: String? = nil, recordedBy: String? = nil, policeMediation: PoliceMediationFacts? = nil
    ) {
        self.policeMediation = policeMediation
        self.form = form
        self.kind = kind
        self.partiesInformation = partiesInformation
        self.facts = facts
        self.disputedMatters = disputedMatters
        self.responsibilities = responsibilities
        self.agreedContent = agreedContent
        self.performanceManner = performanceManner
        self.performanceDeadline = performanceDeadline
        self.partyMarks = partyMarks
        self.mediatorSignature = mediatorSignature
        self.committeeSeal = committeeSeal
        self.recordedContent = recordedContent
        self.recordedBy = recordedBy
    }

    static func blank(_ s: String?) -> Bool { (s ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }

    /// The Art. 29 contents a written agreement lacks (field names), in the article's order;
    /// empty for oral agreements, which instead need `recordedContent` and `recordedBy`.
    public var missingContents: [String] {
        switch form {
        case .oral:
            return [Self.blank(recordedContent) ? "recordedContent" : nil, Self.blank(recordedBy) ? "recordedBy" : nil].compactMap { $0 }
        case .written:
            var m: [String] = []
            if Self.blank(partiesInformation) { m.append("partiesInformation") }
            if Self.blank(facts) { m.append("facts") }
            if Self.blank(disputedMatters) { m.append("disputedMatters") }
            if Self.blank(responsibilities) { m.append("responsibilities") }
            if Self.blank(agreedContent) { m.append("agreedContent") }
            if Self.blank(performanceManner) { m.append("performanceManner") }
            if performanceDeadline == nil { m.append("performanceDeadline") }
            return m
        }
    }

    /// Refuses a draft that lacks Art. 29 contents.
    /// - Throws: `.invalidField("agreement", "missing Art. 29 contents: …")` listing every field.
    public func validatedContents() throws(DomainError) -> MediationAgreement {
        try checkTextLimits()
        if kind == .police {
            // 治安调解 (公安机关治安调解工作规范): refused with the reason when excluded.
            guard let p = policeMediation else {
                throw .invalidField(field: "policeMediation", reason: "a police mediation (治安调解) records the conduct, the exclusions checked and both parties' consent")
            }
            try p.check()
        }
        let m = missingContents
        if !m.isEmpty {
            throw .invalidField(field: "agreement", reason: .text("missing " + (form == .written ? "Art. 29 contents: " : "oral-agreement record: ") + m.joined(separator: ", ")))
        }
        return self
    }

    /// Refuses free texts over `DisputeTextLimits` (names 50, contents 4,000 characters).
    /// - Throws: `.invalidField(<field>, "must have at most N characters …")`.
    public func checkTextLimits() throws(DomainError) {
        let long: [(String, String?)] = [
            ("partiesInformation", partiesInformation), ("facts", facts), ("disputedMatters", disputedMatters), ("responsibilities", responsibilities),
            ("agreedContent", agreedContent), ("performanceManner", performanceManner), ("recordedContent", recordedContent),
        ]
        for (f, v) in long { try DisputeTextLimits.check(v, field: f, max: DisputeTextLimits.agreementField) }
        try DisputeTextLimits.check(mediatorSignature, field: "mediatorSignature", max: DisputeTextLimits.name)
        try DisputeTextLimits.check(recordedBy, field: "recordedBy", max: DisputeTextLimits.name)
    }

    /// What still prevents the agreement taking effect: missing contents, then for a written
    /// agreement each party's mark (`party:<id>`), `mediatorSignature`, `committeeSeal` (Art. 29
    /// last paragraph). Empty when it can take effect.
    public func missingForEffect(partyIDs: [UUID]) -> [String] {
        var m = missingContents
        guard form == .written else { return m }
        for p in partyIDs where partyMarks[p.uuidString.lowercased()] == nil { m.append("party:" + p.uuidString.lowercased()) }
        if Self.blank(mediatorSignature) { m.append("mediatorSignature") }
        if !committeeSeal { m.append("committeeSeal") }
        return m
    }

    /// Checks that the agreement may take effect now.
    /// - Throws: `.invalidField("agreement", "cannot take effect, missing: …")` listing what is missing.
    public func checkEffective(partyIDs: [UUID]) throws(DomainError) {
        let m = missingForEffect(partyIDs: partyIDs)
        if !m.isEmpty { throw .invalidField(field: "agreement", reason: .text("cannot take effect, missing: " + m.joined(separator: ", "))) }
    }
}

/// Judicial confirmation (司法确认), 人民调解法 Art. 33: the parties apply jointly within 30 days
/// from the day the agreement takes effect. A fixed legal limit, not configuration.
public enum JudicialConfirmation {
    public static let windowDays = 30

    /// The last day on which the application may be made: effective date + 30 days.
    public static func deadline(effectiveOn: CalendarDate) -> CalendarDate {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let d = cal.date(from: effectiveOn.dateComponents)!
        return CalendarDate(cal.date(byAdding: .day, value: windowDays, to: d)!, timeZone: cal.timeZone)
    }

    /// - Throws: `.invalidField("appliedOn", …)` naming the deadline for a date after it, or
    ///   for a date before the agreement took effect.
    public static func check(appliedOn: CalendarDate, effectiveOn: CalendarDate) throws(DomainError) {
        let last = deadline(effectiveOn: effectiveOn)
        if appliedOn > last {
            throw .invalidField(field: "appliedOn", reason: "\(appliedOn) is after the judicial-confirmation deadline \(last) (30 days from \(effectiveOn), Art. 33)")
        }
        if appliedOn < effectiveOn {
            throw .invalidField(field: "appliedOn", reason: "\(appliedOn) is before the agreement took effect on \(effectiveOn)")
        }
    }
}

/// The facts that raise a dispute's risk grade (domain spec §3.4 [P]).
public enum RiskTrigger: String, CaseIterable, Codable, Sendable {
    /// Threats of violence ("同归于尽").
    case threatOfViolence
    /// Weapons involved.
    case weapons
    /// A party under special management (special population with danger level ≥ 3).
    case partyUnderSpecialManagement
    /// At least `repeatIncidentThreshold` related police incidents within the window.
    case repeatIncidents
    /// A group of at least `groupSizeThreshold` people.
    case group
    /// Prior physical conflict.
    case priorPhysicalConflict
    /// Large amounts at stake.
    case largeAmount
}

/// Configurable risk grading (domain spec §3.4, §3.7.3 [P]). The defaults follow the spec's
/// table, except repeat incidents: §3.4 lists them under red, §3.7.3 and issue 4 say "at least
/// orange"; the default takes orange and the table is configuration.
public struct RiskPolicy: Sendable, Codable, Equatable {
    public var gradeFor: [RiskTrigger: RiskGrade]
    /// Related incidents within the window that count as `repeatIncidents` (default 3).
    public var repeatIncidentThreshold: Int
    /// The window for repeat incidents, in days (default 30).
    public var repeatWindowDays: Int
    /// People that make a group (default 5).
    public var groupSizeThreshold: Int
    /// The grade of an active dispute with no trigger (yellow; blue is a latent conflict).
    public var baseline: RiskGrade

    public init(
        gradeFor: [RiskTrigger: RiskGrade] = RiskPolicy.defaultGrades, repeatIncidentThreshold: Int = 3, repeatWindowDays: Int = 30,
        groupSizeThreshold: Int = 5, baseline: RiskGrade = .yellow
    ) {
        self.gradeFor = gradeFor
        self.repeatIncidentThreshold = repeatIncidentThreshold
        self.repeatWindowDays = repeatWindowDays
        self.groupSizeThreshold = groupSizeThreshold
        self.baseline = baseline
    }

    public static let defaultGrades: [RiskTrigger: RiskGrade] = [
        .threatOfViolence: .red, .weapons: .red, .partyUnderSpecialManagement: .red, .group: .red,
        .repeatIncidents: .orange, .priorPhysicalConflict: .orange, .largeAmount: .orange,
    ]

    /// The triggers that hold for a case, from its flags and counts.
    public func triggers(flags: Set<RiskTrigger>, relatedIncidentsInWindow: Int, groupSize: Int) -> Set<RiskTrigger> {
        var t = flags.subtracting([.repeatIncidents, .group])
        if relatedIncidentsInWindow >= repeatIncidentThreshold { t.insert(.repeatIncidents) }
        if groupSize >= groupSizeThreshold { t.insert(.group) }
        return t
    }

    /// The highest grade any trigger gives, never below `floor` (a grade only rises by triggers).
    public func grade(triggers: Set<RiskTrigger>, latent: Bool = false, floor: RiskGrade? = nil) -> RiskGrade {
        var g = latent ? RiskGrade.blue : baseline
        for t in triggers { if let v = gradeFor[t], v > g { g = v } }
        if let f = floor, f > g { g = f }
        return g
    }
}

/// How long a dispute may stay at a level before it moves up, per risk grade (the ladder of
/// issue 4; [P], configurable). A level absent from a grade's table never escalates by time.
public struct EscalationPolicy: Sendable, Codable, Equatable {
    /// grade → level → hours.
    public var hours: [RiskGrade: [DisputeLevel: Int]]

    public init(hours: [RiskGrade: [DisputeLevel: Int]] = EscalationPolicy.defaultHours) { self.hours = hours }

    /// Defaults [P]: blue 7/15/30 days, yellow 3/7/15 days, orange 1/3/7 days, red 12 h/1/3 days
    /// at building/grid/community.
    public static let defaultHours: [RiskGrade: [DisputeLevel: Int]] = [
        .blue: [.building: 7 * 24, .grid: 15 * 24, .community: 30 * 24],
        .yellow: [.building: 3 * 24, .grid: 7 * 24, .community: 15 * 24],
        .orange: [.building: 24, .grid: 3 * 24, .community: 7 * 24],
        .red: [.building: 12, .grid: 24, .community: 3 * 24],
    ]

    /// When a dispute that reached `level` at `since` with `grade` is due to move up; `nil` if
    /// it never escalates by time from there.
    public func dueAt(level: DisputeLevel, since: Date, grade: RiskGrade) -> Date? {
        guard level.next != nil, let h = hours[grade]?[level] else { return nil }
        return since.addingTimeInterval(TimeInterval(h) * 3600)
    }

    /// The level after the deadline passed (one step), or `nil` if not yet due.
    public func escalation(level: DisputeLevel, since: Date, grade: RiskGrade, now: Date) -> DisputeLevel? {
        guard let due = dueAt(level: level, since: since, grade: grade), now >= due else { return nil }
        return level.next
    }

    /// - Throws: `.invalidField("escalationHours", …)` for a non-positive deadline.
    public func validated() throws(DomainError) -> EscalationPolicy {
        for (g, t) in hours { for (l, h) in t where h <= 0 { throw .invalidField(field: "escalationHours", reason: "\(g.rawValue)/\(l.rawValue) must be positive") } }
        return self
    }
}
