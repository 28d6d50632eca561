import Foundation

// Dispute statistics (issue 4 "Statistics"; domain spec §8 "Disputes: counts per category and
// source, success rate, overdue rate, average days to resolution, 防止民转刑"). The counting
// rules live here, in one place: the store turns each rule into a SQL condition from the same
// state lists, so a figure on the page and a figure computed from records always agree.

/// How a dispute ended up, for the "outcome" breakdown (from its state, domain spec §4.1).
public enum DisputeOutcome: String, CaseIterable, Codable, Sendable {
    /// Still being worked on before any agreement (registered, accepted, mediating).
    case inProgress
    /// Mediation succeeded: an agreement took effect and was not undone (agreement in effect,
    /// judicial confirmation pending, performing, follow-up, closed resolved).
    case settled
    /// Mediation terminated (Art. 26: a party withdrew or mediation failed).
    case terminated
    /// Transferred to the police (Art. 25).
    case transferred
    /// Not accepted (Art. 17: a party clearly refused, or not a civil dispute).
    case notAccepted
    /// Closed unresolved (the court refused confirmation, or a dispute over the agreement, Art. 32).
    case unresolved

    /// The outcome of a case in `state`.
    public static func of(_ state: DisputeState) -> DisputeOutcome {
        switch state {
        case .registered, .accepted, .mediating: .inProgress
        case .agreementEffective, .confirmationPending, .performing, .followUp, .closedResolved: .settled
        case .terminated: .terminated
        case .transferred: .transferred
        case .notAccepted: .notAccepted
        case .closedUnresolved: .unresolved
        }
    }

    /// The states with this outcome, in declaration order.
    public var states: [DisputeState] { DisputeState.allCases.filter { Self.of($0) == self } }

    public var nameZH: String {
        switch self {
        case .inProgress: "办理中"
        case .settled: "调解成功"
        case .terminated: "终止调解"
        case .transferred: "移交公安"
        case .notAccepted: "不予受理"
        case .unresolved: "未化解结案"
        }
    }

    public var nameEN: String {
        switch self {
        case .inProgress: "In progress"
        case .settled: "Settled"
        case .terminated: "Terminated"
        case .transferred: "Transferred to the police"
        case .notAccepted: "Not accepted"
        case .unresolved: "Closed unresolved"
        }
    }
}

/// The counting rules of the dispute statistics [P] (issue 4; domain spec §8). Every figure is a
/// count of disputes registered in the period (the registration cohort), except where noted.
public enum DisputeStatisticsRules {
    /// 受理: every case past registration that was not refused (Art. 17).
    public static let acceptedStates: [DisputeState] = DisputeState.allCases.filter { $0 != .registered && $0 != .notAccepted }
    /// 调解成功: an agreement took effect and was not undone (`DisputeOutcome.settled`).
    public static let settledStates: [DisputeState] = DisputeOutcome.settled.states
    /// 调结: mediation came to an end — settled, terminated (Art. 26), transferred (Art. 25) or
    /// closed unresolved (Art. 32). The denominator of the success rate (settled ÷ closed). Cases
    /// not accepted never entered mediation and count in neither.
    public static let closedStates: [DisputeState] = settledStates + [.terminated, .transferred, .closedUnresolved]
    /// The states in which a case can be overdue (no agreement yet; the escalation ladder runs).
    public static let openStates: [DisputeState] = DisputeState.allCases.filter(\.escalates)
    /// The mediation target: "一般在一个月内调结" (《人民调解工作若干规定》, 司法部 2002, Art. 33).
    public static let mediationTargetDays = 30
    /// Grades that make a settled case a prevented escalation, with the civil-to-criminal flag
    /// (防止民间纠纷转化为刑事案件, domain spec §3.2 outcome counters; §3.4 red and orange).
    public static let escalationGrades: [RiskGrade] = [.red, .orange]
}

/// The figures of one group of disputes (a category, a grid, a month …) — see
/// `DisputeStatisticsRules` for what each counts.
public struct DisputeFigures: Codable, Sendable, Equatable {
    /// 排查/受理登记: disputes registered.
    public var received: Int
    /// 受理: accepted for mediation (`acceptedStates`).
    public var accepted: Int
    /// 调解成功: settled (`settledStates`).
    public var settled: Int
    /// 调结: mediation ended (`closedStates`).
    public var closed: Int
    /// Sum over settled cases of the calendar days (Asia/Shanghai) from registration to the day
    /// the agreement took effect; `averageDaysToSettle` divides it by `settled`.
    public var settledDays: Int
    /// 超期: open cases (`openStates`) past their level deadline or past the 30-day mediation
    /// target, at the time of the query.
    public var overdue: Int
    /// 防止激化/民转刑: settled cases that carried the civil-to-criminal flag or a red/orange grade.
    public var preventedEscalations: Int
    /// 矛盾不上交: cases that never went past the community (level below station, not transferred).
    public var keptInCommunity: Int
    /// 重复警情: repeat police incidents reported in the period (§3.7.3). Filled on the totals and
    /// the grid and community rows only (incidents have no dispute category or source).
    public var repeatIncidents: Int?

    public init(received: Int = 0, accepted: Int = 0, settled: Int = 0, closed: Int = 0, settledDays: Int = 0, overdue: Int = 0,
                preventedEscalations: Int = 0, keptInCommunity: Int = 0, repeatIncidents: Int? = nil) {
        self.received = received
        self.accepted = accepted
        self.settled = settled
        self.closed = closed
        self.settledDays = settledDays
        self.overdue = overdue
        self.preventedEscalations = preventedEscalations
        self.keptInCommunity = keptInCommunity
        self.repeatIncidents = repeatIncidents
    }

    /// 调处成功率: settled ÷ closed, 0…1; `nil` when nothing closed.
    public var successRate: Double? { closed == 0 ? nil : Double(settled) / Double(closed) }
    /// Average calendar days from registration to settlement; `nil` when nothing settled.
    public var averageDaysToSettle: Double? { settled == 0 ? nil : Double(settledDays) / Double(settled) }
    /// 矛盾不上交率: kept in the community ÷ received, 0…1; `nil` when nothing received.
    public var keptInCommunityShare: Double? { received == 0 ? nil : Double(keptInCommunity) / Double(received) }

    /// Adds another group's counts (repeat incidents add when either side has them).
    public static func + (a: DisputeFigures, b: DisputeFigures) -> DisputeFigures {
        DisputeFigures(
            received: a.received + b.received, accepted: a.accepted + b.accepted, settled: a.settled + b.settled, closed: a.closed + b.closed,
            settledDays: a.settledDays + b.settledDays, overdue: a.overdue + b.overdue,
            preventedEscalations: a.preventedEscalations + b.preventedEscalations, keptInCommunity: a.keptInCommunity + b.keptInCommunity,
            repeatIncidents: (a.repeatIncidents == nil && b.repeatIncidents == nil) ? nil : (a.repeatIncidents ?? 0) + (b.repeatIncidents ?? 0))
    }

    /// The figures of one case as it stands at `now` (the rules in Swift; the store computes
    /// the same in SQL — tests compare the two).
    public static func of(state: DisputeState, level: DisputeLevel, risk: RiskGrade, civilToCriminalRisk: Bool, levelDueAt: Date?,
                          registeredAt: Date, settledDays: Int?, now: Date) -> DisputeFigures {
        let settled = DisputeStatisticsRules.settledStates.contains(state)
        let target = registeredAt.addingTimeInterval(TimeInterval(DisputeStatisticsRules.mediationTargetDays) * 86_400)
        let overdue = DisputeStatisticsRules.openStates.contains(state) && ((levelDueAt.map { $0 <= now } ?? false) || target <= now)
        return DisputeFigures(
            received: 1, accepted: DisputeStatisticsRules.acceptedStates.contains(state) ? 1 : 0, settled: settled ? 1 : 0,
            closed: DisputeStatisticsRules.closedStates.contains(state) ? 1 : 0, settledDays: settled ? (settledDays ?? 0) : 0,
            overdue: overdue ? 1 : 0,
            preventedEscalations: settled && (civilToCriminalRisk || DisputeStatisticsRules.escalationGrades.contains(risk)) ? 1 : 0,
            keptInCommunity: level != .station && state != .transferred ? 1 : 0)
    }
}

/// Settled cases by the level they were settled at: 琐事不出楼栋、小事不出网格、大事不出社区, and
/// what went above (派出所/综治中心).
public struct SettlementLadder: Codable, Sendable, Equatable {
    public var building: Int
    public var grid: Int
    public var community: Int
    public var above: Int

    public init(building: Int = 0, grid: Int = 0, community: Int = 0, above: Int = 0) {
        self.building = building
        self.grid = grid
        self.community = community
        self.above = above
    }

    public var total: Int { building + grid + community + above }

    /// The count at a level (`station` = above the community).
    public subscript(_ level: DisputeLevel) -> Int {
        get {
            switch level {
            case .building: building
            case .grid: grid
            case .community: community
            case .station: above
            }
        }
        set {
            switch level {
            case .building: building = newValue
            case .grid: grid = newValue
            case .community: community = newValue
            case .station: above = newValue
            }
        }
    }

    /// The share of settled cases settled at `level`, 0…1; `nil` when none settled.
    public func share(_ level: DisputeLevel) -> Double? { total == 0 ? nil : Double(self[level]) / Double(total) }
}

extension DisputeFigures {
    /// A share as the office writes it: `100%`, `66.7%` (one decimal, rounded), `—` when undefined.
    public static func percent(_ share: Double?) -> String {
        guard let s = share else { return "—" }
        let p = (s * 1000).rounded() / 10
        return p == p.rounded() ? "\(Int(p))%" : p.oneDecimal + "%"
    }
}
