import Foundation

/// The outcome of a 核采 visit (verification of a collected record on site). Domain spec §3.1
/// (一标三实 records stay true only if they are re-checked), §8 (一标三实 collection accuracy).
///
/// Raw values are stable identifiers stored in the database and used in the API.
public enum VerificationOutcome: String, Codable, Sendable, CaseIterable {
    /// 核实无误: the record matches what the worker found.
    case verified
    /// 信息变更: the record was corrected during the visit (the changed field names are audited).
    case changed
    /// 已迁出: the person no longer lives at the address; the record was deregistered
    /// (`deregisteredAt` + reason, GA/T 2000.25-2014).
    case movedOut

    /// Simplified-Chinese name.
    public var nameZH: String {
        switch self {
        case .verified: "核实无误"
        case .changed: "信息变更"
        case .movedOut: "已迁出"
        }
    }

    /// English name.
    public var nameEN: String {
        switch self {
        case .verified: "Verified"
        case .changed: "Changed"
        case .movedOut: "Moved out"
        }
    }
}

/// The last 核采 of a resident or address record: when, by whom and with what outcome. A record
/// never verified since it was collected has `verifiedAt == nil` and counts from `recordedAt`.
public struct VerificationState: Codable, Sendable, Equatable {
    /// When the record was last verified (UTC), or `nil` if never.
    public var verifiedAt: Date?
    /// The account that verified it.
    public var verifiedByID: UUID?
    /// That account's username at the time (kept so the name survives account changes).
    public var verifiedByName: String?
    public var outcome: VerificationOutcome?
    /// When the record was collected (its creation instant, UTC).
    public var recordedAt: Date

    public init(verifiedAt: Date? = nil, verifiedByID: UUID? = nil, verifiedByName: String? = nil, outcome: VerificationOutcome? = nil, recordedAt: Date) {
        self.verifiedAt = verifiedAt
        self.verifiedByID = verifiedByID
        self.verifiedByName = verifiedByName
        self.outcome = outcome
        self.recordedAt = recordedAt
    }

    /// The instant the period runs from: the last verification, else the collection.
    public var lastChecked: Date { verifiedAt ?? recordedAt }
}

/// How often a collected record must be re-verified (核采周期). No national standard fixes the
/// period: it is local practice, a project default of 90 days, configurable with
/// `FENGQIAO_VERIFICATION_DAYS` (domain spec §0: every time limit is configuration [P]).
///
/// A record is overdue when its last check (last verification, or its collection if never
/// verified) lies before `now − periodDays × 24 h`. Deregistered residents and retired addresses
/// are never overdue: there is nothing left to verify.
public struct VerificationPolicy: Sendable, Equatable {
    /// Days, 1…3650.
    public var periodDays: Int

    public init(periodDays: Int = 90) {
        self.periodDays = periodDays
    }

    /// Records last checked before this instant are overdue.
    public func cutoff(now: Date) -> Date {
        now.addingTimeInterval(-Double(periodDays) * 86_400)
    }

    /// When a record checked last at `lastChecked` falls due.
    public func dueAt(_ lastChecked: Date) -> Date {
        lastChecked.addingTimeInterval(Double(periodDays) * 86_400)
    }

    /// Whether a record with this state is overdue at `now`.
    public func isOverdue(_ state: VerificationState, now: Date) -> Bool {
        state.lastChecked < cutoff(now: now)
    }
}
