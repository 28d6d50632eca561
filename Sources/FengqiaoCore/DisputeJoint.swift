import Foundation

// Joint handling of a dispute by the community police and the governance centre
// (双推送、双盯办、双化解, issue 4 "Joint handling"); the police-mediation variant (治安调解) and its
// exclusions (公安机关治安调解工作规范, domain spec §4.1); the free-text limits of dispute and
// incident inputs; response-time figures of police incidents (§4.6). Pure rules, no storage.

/// The two sides of joint handling (双推送): the community police (社区民警) and the governance
/// centre (综治中心). Raw values are stable identifiers used in the API and the database.
public enum JointSide: String, CaseIterable, Codable, Sendable {
    case police
    case governanceCentre = "governance-centre"

    /// The other side.
    public var other: JointSide { self == .police ? .governanceCentre : .police }

    /// The side a role acts for: a community police officer for the police, governance-centre
    /// staff for the centre; `nil` for every other role (glossary 社区民警, 综治中心).
    public static func of(_ role: Role) -> JointSide? {
        switch role {
        case .communityPoliceOfficer: .police
        case .governanceCenterStaff: .governanceCentre
        default: nil
        }
    }

    public var nameZH: String { self == .police ? "社区民警" : "综治中心" }
}

/// One side's part of a joint case: its owner, its own deadline and its sign-off.
public struct JointSideState: Codable, Sendable, Equatable {
    /// The owning account of this side (`nil` until someone of the side acts or is named).
    public var ownerID: UUID?
    public var ownerName: String?
    /// The side's own deadline (双盯办): when it must have settled its part.
    public var dueAt: Date?
    /// The sign-off (双化解): who signed and when.
    public var signedOffAt: Date?
    public var signedOffBy: String?

    public init(ownerID: UUID? = nil, ownerName: String? = nil, dueAt: Date? = nil, signedOffAt: Date? = nil, signedOffBy: String? = nil) {
        self.ownerID = ownerID
        self.ownerName = ownerName
        self.dueAt = dueAt
        self.signedOffAt = signedOffAt
        self.signedOffBy = signedOffBy
    }

    public var signedOff: Bool { signedOffAt != nil }
}

/// A case under joint handling: pushed by one side to the other, both sides owners.
public struct JointCase: Codable, Sendable, Equatable {
    public var pushedBy: JointSide
    public var pushedAt: Date
    public var police: JointSideState
    public var governanceCentre: JointSideState

    public init(pushedBy: JointSide, pushedAt: Date, police: JointSideState, governanceCentre: JointSideState) {
        self.pushedBy = pushedBy
        self.pushedAt = pushedAt
        self.police = police
        self.governanceCentre = governanceCentre
    }

    public subscript(side: JointSide) -> JointSideState {
        get { side == .police ? police : governanceCentre }
        set { if side == .police { police = newValue } else { governanceCentre = newValue } }
    }

    /// The sides that have not signed off, police first.
    public var missingSignOffs: [JointSide] { JointSide.allCases.filter { !self[$0].signedOff } }
}

/// Deadlines and reminders of joint handling [P], configurable.
public struct JointPolicy: Sendable, Codable, Equatable {
    /// The receiving side's deadline when the push names none, in days (default 7).
    public var defaultDueDays: Int
    /// A side is reminded this many hours before its deadline (default 24), and again once overdue.
    public var remindBeforeHours: Int

    public init(defaultDueDays: Int = 7, remindBeforeHours: Int = 24) {
        self.defaultDueDays = defaultDueDays
        self.remindBeforeHours = remindBeforeHours
    }
}

/// The rules of joint handling (issue 4): who may push, note and sign off, and when a joint case
/// may close. Closing — the transitions into `closedResolved`, `closedUnresolved` or
/// `terminated` — needs both sides' sign-off; a transfer to the police (Art. 25) and a refusal
/// to accept (Art. 17) do not wait for it, since the law requires them at once.
public enum JointRules {
    /// States a joint case closes into only with both sign-offs.
    public static let closingStates: Set<DisputeState> = [.closedResolved, .closedUnresolved, .terminated]

    /// The side the acting role speaks for.
    /// - Throws: `.forbidden` for a role that is neither a community police officer nor
    ///   governance-centre staff.
    public static func side(of role: Role?) throws(DomainError) -> JointSide {
        guard let r = role, let s = JointSide.of(r) else {
            throw .forbidden(reason: "joint handling is done by a community police officer (社区民警) or governance-centre staff (综治中心)")
        }
        return s
    }

    /// Starts joint handling: `side` pushes an open case to the other side.
    /// - Parameters:
    ///   - existing: the case's joint record, if any.
    ///   - otherDueAt: the receiving side's deadline; the policy default when `nil`.
    /// - Throws: `.conflict("joint", …)` when the case is already joint or closed;
    ///   `.invalidField("dueAt", …)` for a deadline not after `now`.
    public static func push(
        by side: JointSide, actorID: UUID?, actorName: String, state: DisputeState, existing: JointCase?, otherDueAt: Date?, ownDueAt: Date?,
        otherOwner: (UUID, String)?, now: Date, policy: JointPolicy = .init()
    ) throws(DomainError) -> JointCase {
        if let e = existing {
            throw .conflict(field: "joint", reason: "the case is already under joint handling (pushed by \(e.pushedBy.rawValue))")
        }
        if state.isTerminal { throw .conflict(field: "joint", reason: "a case in state \"\(state.rawValue)\" cannot be pushed") }
        for (f, d) in [("dueAt", otherDueAt), ("ownDueAt", ownDueAt)] {
            if let d, d <= now { throw .invalidField(field: f, reason: "must lie in the future") }
        }
        let due = otherDueAt ?? now.addingTimeInterval(TimeInterval(policy.defaultDueDays) * 86_400)
        var j = JointCase(pushedBy: side, pushedAt: now, police: .init(), governanceCentre: .init())
        j[side] = JointSideState(ownerID: actorID, ownerName: actorName, dueAt: ownDueAt ?? due)
        j[side.other] = JointSideState(ownerID: otherOwner?.0, ownerName: otherOwner?.1, dueAt: due)
        return j
    }

    /// A supervision note (盯办) by `side`, optionally moving that side's own deadline. The
    /// side's owner is claimed by the first member of the side who acts.
    /// - Throws: `.conflict("joint", …)` when the case is not joint; `.conflict("signOff", …)`
    ///   when the side already signed off; `.invalidField("dueAt", …)` for a past deadline.
    public static func supervise(_ j: JointCase?, by side: JointSide, actorID: UUID?, actorName: String, dueAt: Date?, now: Date) throws(DomainError) -> JointCase {
        guard var j else { throw .conflict(field: "joint", reason: "the case is not under joint handling; push it first") }
        if j[side].signedOff { throw .conflict(field: "signOff", reason: "the \(side.rawValue) side has signed off; no further supervision notes") }
        if let d = dueAt, d <= now { throw .invalidField(field: "dueAt", reason: "must lie in the future") }
        if j[side].ownerID == nil { j[side].ownerID = actorID; j[side].ownerName = actorName }
        if let d = dueAt { j[side].dueAt = d }
        return j
    }

    /// The sign-off (双化解) of `side`.
    /// - Throws: `.conflict("joint", …)` when not joint; `.conflict("signOff", …)` when the side
    ///   already signed off (one sign-off per side).
    public static func signOff(_ j: JointCase?, by side: JointSide, actorID: UUID?, actorName: String, now: Date) throws(DomainError) -> JointCase {
        guard var j else { throw .conflict(field: "joint", reason: "the case is not under joint handling") }
        if let at = j[side].signedOffAt {
            throw .conflict(field: "signOff", reason: "the \(side.rawValue) side already signed off (\(j[side].signedOffBy ?? "") at \(ISO8601DateFormatter().string(from: at)))")
        }
        if j[side].ownerID == nil { j[side].ownerID = actorID; j[side].ownerName = actorName }
        j[side].signedOffAt = now
        j[side].signedOffBy = actorName
        return j
    }

    /// Checks that a transition into `next` may happen on a joint case.
    /// - Throws: `.conflict("signOff", …)` naming the side(s) still missing when `next` closes
    ///   the case and not both sides have signed off.
    public static func checkClose(_ j: JointCase?, next: DisputeState) throws(DomainError) {
        guard let j, closingStates.contains(next) else { return }
        let missing = j.missingSignOffs
        if !missing.isEmpty {
            throw .conflict(field: "signOff", reason: "closing a joint case needs both sides' sign-off; missing: " + missing.map { "\($0.rawValue) (\($0.nameZH))" }.joined(separator: ", "))
        }
    }

    /// What a side is reminded of.
    public enum Reminder: String, Codable, Sendable { case dueSoon, overdue }

    /// The reminder for one side at `now`: `overdue` past its deadline, `dueSoon` within
    /// `remindBeforeHours`, none once it signed off or without a deadline.
    public static func reminder(_ s: JointSideState, now: Date, policy: JointPolicy = .init()) -> Reminder? {
        guard !s.signedOff, let due = s.dueAt else { return nil }
        if now >= due { return .overdue }
        if due.timeIntervalSince(now) <= TimeInterval(policy.remindBeforeHours) * 3600 { return .dueSoon }
        return nil
    }
}

/// The judicial-confirmation reminder (人民调解法 Art. 33): a case whose agreement took effect
/// is reminded when `remindDays` or fewer days are left of the 30-day window [P: the reminder
/// lead time is configurable, the window is the law's].
public enum JudicialConfirmationReminder {
    /// Days left until the deadline (0 on the deadline itself; negative once it passed).
    public static func daysLeft(effectiveOn: CalendarDate, today: CalendarDate) -> Int {
        let deadline = JudicialConfirmation.deadline(effectiveOn: effectiveOn)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let a = cal.date(from: today.dateComponents)!, b = cal.date(from: deadline.dateComponents)!
        return cal.dateComponents([.day], from: a, to: b).day ?? 0
    }

    /// Whether to remind: the window is still open and at most `remindDays` days are left.
    public static func due(effectiveOn: CalendarDate, today: CalendarDate, remindDays: Int) -> Bool {
        let left = daysLeft(effectiveOn: effectiveOn, today: today)
        return left >= 0 && left <= remindDays
    }
}

// MARK: Police mediation (治安调解)

/// The conduct a police mediation settles: minor public-order violations caused by civil
/// disputes (公安机关治安调解工作规范; 治安管理处罚法 Art. 9).
public enum PoliceMediationConduct: String, CaseIterable, Codable, Sendable {
    case assault, intentionalInjury, insult, defamation, falseAccusation, propertyDamage, disturbance, privacyInvasion, other

    public var nameZH: String {
        switch self {
        case .assault: "殴打他人"
        case .intentionalInjury: "故意伤害"
        case .insult: "侮辱"
        case .defamation: "诽谤"
        case .falseAccusation: "诬告陷害"
        case .propertyDamage: "故意损毁财物"
        case .disturbance: "干扰他人正常生活"
        case .privacyInvasion: "侵犯隐私"
        case .other: "其他因民间纠纷引起的轻微违反治安管理行为"
        }
    }
}

/// Cases that must not be police-mediated (公安机关治安调解工作规范, domain spec §4.1).
public enum PoliceMediationExclusion: String, CaseIterable, Codable, Sendable {
    /// 雇凶伤害他人的.
    case hiredAssault
    /// 结伙斗殴的.
    case gangFight
    /// 寻衅滋事的.
    case provocation
    /// 多次违反治安管理的.
    case repeatedViolations
    /// 在调解过程中又挑起事端的.
    case provokedDuringMediation

    public var nameZH: String {
        switch self {
        case .hiredAssault: "雇凶伤害他人"
        case .gangFight: "结伙斗殴"
        case .provocation: "寻衅滋事"
        case .repeatedViolations: "多次违反治安管理"
        case .provokedDuringMediation: "调解过程中又挑起事端"
        }
    }
}

/// What a police mediation (治安调解) records beside the agreement: the conduct, the exclusions
/// found, and both parties' consent.
public struct PoliceMediationFacts: Codable, Sendable, Equatable {
    public var conduct: PoliceMediationConduct?
    public var exclusions: [PoliceMediationExclusion]
    public var bothPartiesConsent: Bool

    public init(conduct: PoliceMediationConduct? = nil, exclusions: [PoliceMediationExclusion] = [], bothPartiesConsent: Bool = false) {
        self.conduct = conduct
        self.exclusions = exclusions
        self.bothPartiesConsent = bothPartiesConsent
    }

    /// Checks that the case may be police-mediated.
    /// - Throws: `.invalidField("policeMediation.exclusions", …)` naming every exclusion found
    ///   (雇凶伤害, 结伙斗殴, 寻衅滋事, 多次违反治安管理, 调解中又挑起事端 — not applicable);
    ///   `.invalidField("policeMediation.conduct", …)` without the conduct;
    ///   `.invalidField("policeMediation.bothPartiesConsent", …)` without both parties' consent.
    public func check() throws(DomainError) {
        if !exclusions.isEmpty {
            let names = exclusions.map { "\($0.rawValue) (\($0.nameZH))" }.joined(separator: ", ")
            throw .invalidField(field: "policeMediation.exclusions", reason: "police mediation (治安调解) does not apply to: \(names) — 公安机关治安调解工作规范")
        }
        if conduct == nil {
            throw .invalidField(field: "policeMediation.conduct", reason: .text("is required: one of " + PoliceMediationConduct.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        if !bothPartiesConsent {
            throw .invalidField(field: "policeMediation.bothPartiesConsent", reason: "police mediation needs both parties' consent")
        }
    }
}

// MARK: Free-text limits

/// The longest free texts of dispute and incident inputs, in characters [P]: enough for a
/// page of minutes, short enough to keep a row and a printed agreement bounded.
public enum DisputeTextLimits {
    public static let name = 50
    public static let place = 200
    public static let summary = 1000
    public static let note = 2000
    public static let agreementField = 4000
    public static let minutes = 10_000
    public static let attendees = 50

    /// Refuses a text longer than `max` characters.
    /// - Throws: `.invalidField(field, "must have at most N characters (has M)")`.
    public static func check(_ s: String?, field: String, max: Int) throws(DomainError) {
        guard let s else { return }
        let n = s.trimmed.count
        if n > max { throw .invalidField(field: field, reason: "must have at most \(max) characters (has \(n))") }
    }
}

// MARK: Response times

/// Response-time figures of police incidents (§4.6): minutes from receipt (接警) to arrival
/// (到达现场) [P].
public struct ResponseTimeFigures: Codable, Sendable, Equatable {
    /// Incidents received in the period.
    public var received: Int
    /// Of those, with an arrival recorded.
    public var arrived: Int
    public var medianMinutes: Double?
    public var averageMinutes: Double?
    public var maxMinutes: Double?

    public init(received: Int, arrivalMinutes: [Double]) {
        self.received = received
        arrived = arrivalMinutes.count
        let s = arrivalMinutes.sorted()
        if s.isEmpty {
            medianMinutes = nil
            averageMinutes = nil
            maxMinutes = nil
        } else {
            medianMinutes = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
            averageMinutes = s.reduce(0, +) / Double(s.count)
            maxMinutes = s.last
        }
    }
}
