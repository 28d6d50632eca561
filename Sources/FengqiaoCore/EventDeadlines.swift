import Foundation

/// The working-day calendar (domain spec §5.5 [V]): public holidays and the weekend days worked in
/// exchange (调休) as announced each year by the State Council, kept as data an administrator edits.
/// A year missing from the table falls back to Monday–Friday; `knows(year:)` lets callers show the
/// warning §5.5 asks for.
public struct WorkingDayCalendar: Codable, Sendable, Hashable {
    /// Days off that fall on weekdays (and any other holiday), per the yearly notice.
    public var holidays: Set<CalendarDate>
    /// Weekend days that are working days (调休).
    public var workingWeekends: Set<CalendarDate>
    /// The years the table covers.
    public var years: Set<Int>
    /// The time zone days are counted in (the office's, `Asia/Shanghai`).
    public var timeZone: TimeZone

    public init(holidays: Set<CalendarDate> = [], workingWeekends: Set<CalendarDate> = [], years: Set<Int> = [], timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!) {
        self.holidays = holidays
        self.workingWeekends = workingWeekends
        self.years = years
        self.timeZone = timeZone
    }

    /// Monday–Friday only, no holiday data.
    public static let weekdaysOnly = WorkingDayCalendar()

    /// Whether the table holds the notice of `year`.
    public func knows(year: Int) -> Bool { years.contains(year) }

    private var calendar: Calendar {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = timeZone
        return c
    }

    /// Whether `day` is a working day: a listed 调休 day is; a listed holiday is not; otherwise Monday–Friday.
    public func isWorkingDay(_ day: CalendarDate) -> Bool {
        if workingWeekends.contains(day) { return true }
        if holidays.contains(day) { return false }
        guard let d = calendar.date(from: day.dateComponents) else { return false }
        let wd = calendar.component(.weekday, from: d)  // 1 = Sunday, 7 = Saturday
        return wd != 1 && wd != 7
    }

    /// The instant `n` working days after `start`, at the same time of day: each following day that
    /// is a working day counts once (a start on a Friday evening with n = 1 ends Monday evening).
    public func adding(workingDays n: Int, to start: Date) -> Date {
        var t = start
        var left = n
        let cal = calendar
        var guardDays = 0
        while left > 0 && guardDays < 3660 {
            t = cal.date(byAdding: .day, value: 1, to: t)!
            guardDays += 1
            if isWorkingDay(CalendarDate(t, timeZone: timeZone)) { left -= 1 }
        }
        return t
    }
}

/// A time limit: clock hours or working days (§4.2 gives both kinds).
public enum TimeLimit: Codable, Sendable, Hashable, CustomStringConvertible {
    case hours(Int)
    case workingDays(Int)

    public func due(from start: Date, calendar: WorkingDayCalendar) -> Date {
        switch self {
        case .hours(let h): start.addingTimeInterval(Double(h) * 3600)
        case .workingDays(let d): calendar.adding(workingDays: d, to: start)
        }
    }

    public var description: String {
        switch self {
        case .hours(let h): "\(h) h"
        case .workingDays(let d): "\(d) working days"
        }
    }
}

/// The stage a time limit measures (§4.2 "verify, acknowledge dispatch, handle, check").
public enum DeadlineStage: String, CaseIterable, Codable, Sendable, Hashable {
    case verify, acknowledge, handle, check

    /// The stage an event in `state` is in, if any clock runs there. `reported` waits for
    /// verification; `dispatched` for 报到; `verified`, `filed` and `inProgress` for handling
    /// (the handle clock starts at filing); `awaitingCheck` for the on-site check.
    public static func current(for state: GridEventState) -> DeadlineStage? {
        switch state {
        case .reported: .verify
        case .dispatched: .acknowledge
        case .verified, .filed, .inProgress: .handle
        case .awaitingCheck: .check
        case .draft, .closed, .evaluated, .void: nil
        }
    }
}

/// Time limits per category and severity (§4.2 default SLAs [P], configurable; no national
/// numbers exist for social-governance grids). Overrides per category win over the defaults per
/// severity.
public struct EventDeadlinePolicy: Codable, Sendable, Hashable {
    public struct Key: Codable, Sendable, Hashable {
        public var category: HazardCategory?
        public var severity: EventSeverity
        public var stage: DeadlineStage
        public init(category: HazardCategory? = nil, severity: EventSeverity, stage: DeadlineStage) {
            self.category = category
            self.severity = severity
            self.stage = stage
        }
    }

    /// Limits per (category or nil for all, severity, stage).
    public var limits: [Key: TimeLimit]

    public init(limits: [Key: TimeLimit]) { self.limits = limits }

    /// §4.2 defaults: verify ≤ 2 h (urgent) / 1 working day; acknowledge ≤ 2 h / 1 working day;
    /// handle ≤ 24 h urgent / 3 working days normal / 15 working days complex; check ≤ 1 working day.
    public static let defaults: EventDeadlinePolicy = {
        var l: [Key: TimeLimit] = [:]
        for s in EventSeverity.allCases {
            l[Key(severity: s, stage: .verify)] = s == .urgent ? .hours(2) : .workingDays(1)
            l[Key(severity: s, stage: .acknowledge)] = s == .urgent ? .hours(2) : .workingDays(1)
            l[Key(severity: s, stage: .check)] = .workingDays(1)
        }
        l[Key(severity: .urgent, stage: .handle)] = .hours(24)
        l[Key(severity: .normal, stage: .handle)] = .workingDays(3)
        l[Key(severity: .complex, stage: .handle)] = .workingDays(15)
        return EventDeadlinePolicy(limits: l)
    }()

    /// The limit for a stage: the category's override, else the severity's default.
    public func limit(_ stage: DeadlineStage, category: HazardCategory, severity: EventSeverity) -> TimeLimit? {
        limits[Key(category: category, severity: severity, stage: stage)] ?? limits[Key(severity: severity, stage: stage)]
    }

    /// When the stage that started at `start` is due.
    public func dueAt(_ stage: DeadlineStage, category: HazardCategory, severity: EventSeverity, from start: Date, calendar: WorkingDayCalendar) -> Date? {
        limit(stage, category: category, severity: severity)?.due(from: start, calendar: calendar)
    }

    /// Whether an event in `state` whose current stage started at `stageStartedAt` is overdue at
    /// `now` (§4.2 `overdue(timer)`: same state, flagged, escalated to the supervisor).
    public func isOverdue(state: GridEventState, category: HazardCategory, severity: EventSeverity, stageStartedAt: Date, now: Date, calendar: WorkingDayCalendar) -> Bool {
        guard let stage = DeadlineStage.current(for: state),
              let due = dueAt(stage, category: category, severity: severity, from: stageStartedAt, calendar: calendar)
        else { return false }
        return now > due
    }
}
