import Foundation

// Police incidents (警情): categories and priority of domain spec §3.7.1, the workflow of §4.6,
// the dispute link of §3.7.2 and the repeat-incident rule of §3.7.3 [P].

/// Incident category (警情类别), domain spec §3.7.1. Raw values are the project codes.
public enum IncidentCategory: String, CaseIterable, Codable, Sendable {
    case criminal = "10", publicOrder = "20", publicSafetyAccident = "30", traffic = "40", fire = "50"
    case assistance = "60", reportOrComplaint = "70", dispute = "80", other = "90", invalid = "00"

    public var nameZH: String {
        switch self {
        case .criminal: "刑事类警情"
        case .publicOrder: "治安类警情"
        case .publicSafetyAccident: "治安灾害事故"
        case .traffic: "交通事故"
        case .fire: "火灾"
        case .assistance: "群众求助"
        case .reportOrComplaint: "举报投诉"
        case .dispute: "纠纷"
        case .other: "其他"
        case .invalid: "无效报警"
        }
    }

    /// Parses a code. - Throws: `.invalidField(field, …)` listing the valid codes.
    public static func parse(_ raw: String, field: String = "category") throws(DomainError) -> IncidentCategory {
        guard let c = IncidentCategory(rawValue: raw) else {
            throw .invalidField(field: field, reason: .text("unknown incident category \"\(raw.prefix(20))\"; one of " + allCases.map(\.rawValue).joined(separator: ", ")))
        }
        return c
    }
}

/// Urgency (一类/二类/三类警情), §3.7.1: p3 = minor cases, disputes and help requests.
public enum IncidentPriority: String, CaseIterable, Codable, Sendable {
    case p1, p2, p3
}

/// Incident states (§4.6 [P] names).
public enum IncidentState: String, CaseIterable, Codable, Sendable {
    case received, dispatched, onScene = "on_scene", resolved, transferred, caseOpened = "case_opened", invalid, closed
}

/// Incident events (§4.6). `convertToDispute` is the disposition "turned into a dispute".
public enum IncidentEvent: String, CaseIterable, Codable, Sendable {
    case dispatch, arrive, resolveOnSite, convertToDispute, openCase, markInvalid, feedbackToCaller
}

/// The pure transition function of §4.6.
public enum IncidentMachine {
    /// - Throws: `.conflict(field: "event", …)` naming the current state and the event.
    public static func next(_ state: IncidentState, _ event: IncidentEvent) throws(DomainError) -> IncidentState {
        switch (state, event) {
        case (.received, .dispatch): return .dispatched
        case (.dispatched, .arrive): return .onScene
        case (.onScene, .resolveOnSite): return .resolved
        case (.onScene, .convertToDispute): return .transferred
        case (.onScene, .openCase): return .caseOpened
        case (.received, .markInvalid): return .invalid
        case (.resolved, .feedbackToCaller), (.transferred, .feedbackToCaller), (.caseOpened, .feedbackToCaller): return .closed
        default:
            throw .conflict(field: "event", reason: "event \"\(event.rawValue)\" is not allowed in state \"\(state.rawValue)\"")
        }
    }
}

/// The repeat-incident rule (重复警情), domain spec §3.7.3 [P], configurable.
public struct RepeatPolicy: Sendable, Codable, Equatable {
    /// Window for repeats, days (default 30).
    public var windowDays: Int
    /// Same-event duplicates: calls within this many seconds (default 3600) …
    public var duplicateSeconds: Int
    /// … and this many metres (default 500).
    public var duplicateMeters: Double
    /// The number of incidents in the window (the first included) that raises the linked
    /// dispute (default 3).
    public var raiseAt: Int
    /// The grade it is raised to at least (default orange).
    public var raiseTo: RiskGrade

    public init(windowDays: Int = 30, duplicateSeconds: Int = 3600, duplicateMeters: Double = 500, raiseAt: Int = 3, raiseTo: RiskGrade = .orange) {
        self.windowDays = windowDays
        self.duplicateSeconds = duplicateSeconds
        self.duplicateMeters = duplicateMeters
        self.raiseAt = raiseAt
        self.raiseTo = raiseTo
    }

    public var window: TimeInterval { TimeInterval(windowDays) * 86_400 }
}

/// The keys an incident is compared by. `partyIndex` and `callerPhoneIndex` are blind indexes
/// (never clear values).
public struct IncidentKeys: Sendable, Equatable {
    public var id: UUID
    public var category: IncidentCategory
    public var addressID: UUID?
    public var partyIndex: String?
    public var callerPhoneIndex: String?
    public var reportedAt: Date
    public var location: GeoPoint?
    /// For stored incidents: the first incident of its chain, if it is a repeat.
    public var repeatOf: UUID?
    /// For stored incidents: the call it duplicates, if it is a duplicate (never counted).
    public var duplicateOf: UUID?

    public init(
        id: UUID, category: IncidentCategory, addressID: UUID? = nil, partyIndex: String? = nil, callerPhoneIndex: String? = nil,
        reportedAt: Date, location: GeoPoint? = nil, repeatOf: UUID? = nil, duplicateOf: UUID? = nil
    ) {
        self.id = id
        self.category = category
        self.addressID = addressID
        self.partyIndex = partyIndex
        self.callerPhoneIndex = callerPhoneIndex
        self.reportedAt = reportedAt
        self.location = location
        self.repeatOf = repeatOf
        self.duplicateOf = duplicateOf
    }

    /// Same category and the same standard address, party or caller phone (§3.7.3 key).
    public func sharesKey(with o: IncidentKeys) -> Bool {
        guard category == o.category else { return false }
        if let a = addressID, a == o.addressID { return true }
        if let p = partyIndex, p == o.partyIndex { return true }
        if let c = callerPhoneIndex, c == o.callerPhoneIndex { return true }
        return false
    }
}

/// What the repeat rule decides for a new incident.
public enum RepeatOutcome: Sendable, Equatable {
    /// No earlier incident in the window shares a key.
    case first
    /// Another caller about the same event (within the hour and the distance): not a repeat.
    case duplicate(of: UUID)
    /// A repeat of the chain's first incident; `inWindow` counts the incidents of the window
    /// sharing a key, this one included.
    case `repeat`(of: UUID, inWindow: Int)
}

public enum RepeatRule {
    /// Great-circle distance in metres (WGS-84 mean radius; callers convert GCJ-02 first, §5.5).
    public static func meters(_ a: GeoPoint, _ b: GeoPoint) -> Double {
        let r = 6_371_008.8
        let la1 = a.lat * .pi / 180, la2 = b.lat * .pi / 180
        let dLat = la2 - la1, dLon = (b.lon - a.lon) * .pi / 180
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(la1) * cos(la2) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * r * asin(min(1, sqrt(h)))
    }

    /// Classifies `new` against earlier incidents (those the store found by its indexes: same
    /// category and a shared key within the window, or same category within the duplicate time).
    ///
    /// A duplicate is an earlier call of the same category within `duplicateSeconds` from a
    /// different (or unknown) caller, within `duplicateMeters` when both have coordinates, or at
    /// the same standard address otherwise. Duplicates are never counted as repeats.
    public static func classify(_ new: IncidentKeys, priors: [IncidentKeys], policy: RepeatPolicy = .init()) -> RepeatOutcome {
        let earlier = priors.filter { $0.id != new.id && $0.reportedAt <= new.reportedAt && $0.category == new.category }
            .sorted { ($0.reportedAt, $0.id.uuidString) < ($1.reportedAt, $1.id.uuidString) }
        func caller(_ k: IncidentKeys) -> String? { k.callerPhoneIndex }
        for p in earlier where new.reportedAt.timeIntervalSince(p.reportedAt) <= TimeInterval(policy.duplicateSeconds) {
            // The same caller again is not "several callers about one event": neither the call
            // itself nor the original call it duplicates may be theirs.
            let root = p.duplicateOf.flatMap { id in earlier.first { $0.id == id } }
            let sameCaller = new.callerPhoneIndex != nil && (new.callerPhoneIndex == p.callerPhoneIndex || new.callerPhoneIndex == root.flatMap(caller))
            guard !sameCaller else { continue }
            let near: Bool
            if let a = new.location, let b = p.location {
                near = meters(a, b) <= policy.duplicateMeters
            } else {
                near = new.addressID != nil && new.addressID == p.addressID
            }
            if near { return .duplicate(of: p.duplicateOf ?? p.id) }
        }
        let from = new.reportedAt.addingTimeInterval(-policy.window)
        let chain = earlier.filter { $0.duplicateOf == nil && $0.reportedAt >= from && $0.sharesKey(with: new) }
        guard let first = chain.first else { return .first }
        return .repeat(of: first.repeatOf ?? first.id, inWindow: chain.count + 1)
    }
}

/// A new police incident as received (接警).
public struct PoliceIncidentInput: Codable, Sendable {
    public var category: String?
    public var priority: IncidentPriority?
    public var reportedAt: Date?
    public var addressId: UUID?
    public var gridId: UUID?
    public var location: GeoPoint?
    public var callerName: String?
    public var callerPhone: String?
    /// A named party's ID number (matched by blind index).
    public var partyIdNumber: String?
    public var summary: String?

    public init(
        category: String? = nil, priority: IncidentPriority? = nil, reportedAt: Date? = nil, addressId: UUID? = nil, gridId: UUID? = nil,
        location: GeoPoint? = nil, callerName: String? = nil, callerPhone: String? = nil, partyIdNumber: String? = nil, summary: String? = nil
    ) {
        self.category = category
        self.priority = priority
        self.reportedAt = reportedAt
        self.addressId = addressId
        self.gridId = gridId
        self.location = location
        self.callerName = callerName
        self.callerPhone = callerPhone
        self.partyIdNumber = partyIdNumber
        self.summary = summary
    }
}
