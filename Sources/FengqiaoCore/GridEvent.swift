import Foundation

// Grid events and safety hazards (网格事件/安全隐患) and the whistle (吹哨报到):
// categories (domain spec §3.8), lifecycle (§4.2, §4.3) and its state machine.

/// Project hazard category for 吹哨报到 (domain spec §3.8 [P]). Raw values are stable.
public enum HazardCategory: String, CaseIterable, Codable, Sendable, Hashable {
    case fire, gas, buildingSafety, electrical, traffic, publicOrder, municipalFacility
    case environment, foodDrug, specialEquipment, naturalDisaster, other

    /// The Chinese name (§3.8).
    public var nameZH: String {
        switch self {
        case .fire: "消防"
        case .gas: "燃气"
        case .buildingSafety: "房屋安全"
        case .electrical: "用电"
        case .traffic: "交通"
        case .publicOrder: "治安"
        case .municipalFacility: "市政设施"
        case .environment: "环境卫生"
        case .foodDrug: "食品药品"
        case .specialEquipment: "特种设备"
        case .naturalDisaster: "自然灾害"
        case .other: "其他"
        }
    }
}

/// How urgent an event is. Drives the default time limits of §4.2 ("≤ 2 h (urgent) / 1 working
/// day", "handle ≤ 24 h urgent / 3 working days normal / 15 working days complex") [P].
public enum EventSeverity: String, CaseIterable, Codable, Sendable, Hashable {
    case urgent, normal, complex

    public var nameZH: String {
        switch self {
        case .urgent: "紧急"
        case .normal: "一般"
        case .complex: "复杂"
        }
    }
}

/// Who reported the event (§4.2 `report(gridWorker|resident|patrol|hearing|hotline)`).
public enum EventSource: String, CaseIterable, Codable, Sendable, Hashable {
    case gridWorker, resident, patrol, hearing, hotline
}

/// Why an event was voided (§4.2: duplicate, not in scope, false).
public enum VoidReason: String, CaseIterable, Codable, Sendable, Hashable {
    case duplicate, outOfScope, falseReport = "false"
}

/// The three legitimate whistle triggers (§3.8, beijing.gov.cn 吹哨报到 [V]).
public enum WhistleReason: String, CaseIterable, Codable, Sendable, Hashable {
    /// A problem the public reports strongly that the street cannot solve alone.
    case beyondStreetCapacity
    /// Joint law enforcement where the street lacks power (e.g. illegal structures).
    case jointEnforcement
    /// Emergency disposal (burst pipes, road collapse, power/water cuts).
    case emergency

    public var nameZH: String {
        switch self {
        case .beyondStreetCapacity: "超出街道能力"
        case .jointEnforcement: "联合执法"
        case .emergency: "应急处置"
        }
    }
}

/// One row of the configurable category table (§3.8: "each category maps to a default
/// responsible department (configurable table)").
public struct HazardCategoryInfo: Codable, Sendable, Hashable {
    public var category: HazardCategory
    /// Name of the default responsible department (the contact mapping per territory overrides it).
    public var defaultDepartment: String
    /// Whether reporters may choose it (an administrator can retire a category without renumbering).
    public var active: Bool

    public init(category: HazardCategory, defaultDepartment: String, active: Bool = true) {
        self.category = category
        self.defaultDepartment = defaultDepartment
        self.active = active
    }
}

/// The category table (§3.8 [P]); the defaults are a starting point an administrator edits.
public struct HazardCategoryTable: Codable, Sendable, Hashable {
    public var rows: [HazardCategoryInfo]

    public init(rows: [HazardCategoryInfo]) { self.rows = rows }

    public static let defaults = HazardCategoryTable(rows: [
        .init(category: .fire, defaultDepartment: "消防救援站"),
        .init(category: .gas, defaultDepartment: "燃气公司"),
        .init(category: .buildingSafety, defaultDepartment: "住建部门"),
        .init(category: .electrical, defaultDepartment: "供电公司"),
        .init(category: .traffic, defaultDepartment: "交警队"),
        .init(category: .publicOrder, defaultDepartment: "派出所"),
        .init(category: .municipalFacility, defaultDepartment: "市政管理部门"),
        .init(category: .environment, defaultDepartment: "环卫部门"),
        .init(category: .foodDrug, defaultDepartment: "市场监管所"),
        .init(category: .specialEquipment, defaultDepartment: "市场监管所（特种设备）"),
        .init(category: .naturalDisaster, defaultDepartment: "应急管理部门"),
        .init(category: .other, defaultDepartment: "街道办事处"),
    ])

    /// The row of a category, if the table lists it.
    public func info(_ c: HazardCategory) -> HazardCategoryInfo? { rows.first { $0.category == c } }

    /// Accepts a category a reporter chose.
    /// - Throws: `DomainError.invalidField("category", …)` for a category missing or retired in the table.
    public func requireActive(_ c: HazardCategory) throws(DomainError) -> HazardCategory {
        guard let i = info(c), i.active else { throw .invalidField(field: "category", reason: "category \(c.rawValue) is not in use") }
        return c
    }
}

/// Lifecycle state of a grid event (§4.2: 上报 → 立案 → 派遣 → 处置 → 核查 → 结案 → 综合评价).
public enum GridEventState: String, CaseIterable, Codable, Sendable, Hashable {
    /// A report still missing what it needs to be submitted (a photo was refused, §issue 5 "kept as a draft").
    case draft
    case reported, verified, filed
    /// Dispatched to a responsible contact (派遣; a whistle when it carries a whistle reason).
    case dispatched
    case inProgress
    /// Result submitted with photos, waiting for the on-site check (处理反馈).
    case awaitingCheck
    case closed
    case evaluated
    case void

    /// Terminal states accept no command.
    public var isTerminal: Bool { self == .evaluated || self == .void }
    /// Whether the event still needs work (drafts are not yet events; closed ones only await evaluation).
    public var isOpen: Bool {
        switch self {
        case .reported, .verified, .filed, .dispatched, .inProgress, .awaitingCheck: true
        case .draft, .closed, .evaluated, .void: false
        }
    }

    public var nameZH: String {
        switch self {
        case .draft: "草稿"
        case .reported: "已上报"
        case .verified: "已核实"
        case .filed: "已立案"
        case .dispatched: "已派遣"
        case .inProgress: "处置中"
        case .awaitingCheck: "待核查"
        case .closed: "已结案"
        case .evaluated: "已评价"
        case .void: "已作废"
        }
    }
}

/// A command on a grid event (the arrows of §4.2/§4.3).
public enum GridEventCommand: Sendable, Equatable {
    /// Completes a draft (all photos accepted).
    case submit
    case verify
    case void(VoidReason)
    case fileCase(category: HazardCategory, severity: EventSeverity)
    /// FILED → IN_PROGRESS with the grid worker as handler.
    case resolveInGrid(handler: UUID)
    /// FILED → DISPATCHED to a responsible contact; with a reason it is a whistle (吹哨).
    case dispatch(contact: UUID, whistle: WhistleReason?)
    /// The dispatched contact checks in (报到). Only that contact may.
    case acknowledge(by: UUID)
    /// The dispatched contact returns the event ("not our responsibility") with a reason → FILED.
    case returnToSender(by: UUID, reason: String)
    /// The handler submits the result (photos are attached by the service).
    case submitResult(by: UUID)
    case checkPass(by: UUID)
    case checkFail(by: UUID, reason: String)
    case evaluate(satisfaction: Int)

    /// The stable name used in the API (`POST /events/{id}/transitions {"command": …}`) and errors.
    public var name: String {
        switch self {
        case .submit: "submit"
        case .verify: "verify"
        case .void: "void"
        case .fileCase: "fileCase"
        case .resolveInGrid: "resolveInGrid"
        case .dispatch: "dispatch"
        case .acknowledge: "acknowledge"
        case .returnToSender: "return"
        case .submitResult: "submitResult"
        case .checkPass: "checkPass"
        case .checkFail: "checkFail"
        case .evaluate: "evaluate"
        }
    }
}

/// The part of a grid event the lifecycle decides. The state machine is a pure function over it:
/// `GridEventProgress.applying(_:)`.
public struct GridEventProgress: Codable, Sendable, Hashable {
    public var state: GridEventState
    public var category: HazardCategory
    public var severity: EventSeverity
    /// The contact the event is dispatched to (set by dispatch, cleared by a return).
    public var dispatchedTo: UUID?
    /// The whistle reason of the current or last dispatch.
    public var whistleReason: WhistleReason?
    /// Whether the event was ever whistled (counts for the 吹哨率 KPI, §4.3).
    public var whistled: Bool
    /// Who handles the work (the contact after 报到, or the grid worker for in-grid resolution).
    public var handler: UUID?
    /// Failed on-site checks (§4.2 `reopenCount += 1`).
    public var reopenCount: Int
    /// Returns by contacts ("not our responsibility").
    public var returnCount: Int
    public var voidReason: VoidReason?
    /// Whether the closing check passed (a subsidy needs it, §4.4).
    public var checkPassed: Bool
    /// 1…5 after evaluation.
    public var satisfaction: Int?

    public init(state: GridEventState = .reported, category: HazardCategory, severity: EventSeverity) {
        self.state = state
        self.category = category
        self.severity = severity
        whistled = false
        reopenCount = 0
        returnCount = 0
        checkPassed = false
    }

    /// The progress after `command`, or an error when the command is not allowed.
    ///
    /// Transitions (§4.2, §4.3): draft –submit→ reported; reported –verify→ verified; reported –void→
    /// void; verified –fileCase→ filed; filed –resolveInGrid→ inProgress; filed –dispatch→
    /// dispatched; dispatched –acknowledge→ inProgress; dispatched –return→ filed; inProgress
    /// –submitResult→ awaitingCheck; awaitingCheck –checkPass→ closed; awaitingCheck –checkFail→
    /// inProgress (reopenCount + 1); closed –evaluate→ evaluated.
    /// - Throws: `DomainError.conflict("state", …)` naming the state and the command for any other
    ///   pair; `.notFound("event")` when a contact acts on an event not dispatched to them (a
    ///   contact must not learn it exists); `.invalidField` for a missing return reason or a
    ///   satisfaction outside 1…5.
    public func applying(_ command: GridEventCommand) throws(DomainError) -> GridEventProgress {
        var n = self
        switch (state, command) {
        case (.draft, .submit):
            n.state = .reported
        case (.reported, .verify):
            n.state = .verified
        case (.reported, .void(let r)), (.verified, .void(let r)):
            n.state = .void
            n.voidReason = r
        case (.verified, .fileCase(let c, let s)):
            n.state = .filed
            n.category = c
            n.severity = s
        case (.filed, .resolveInGrid(let h)):
            n.state = .inProgress
            n.handler = h
        case (.filed, .dispatch(let contact, let reason)):
            n.state = .dispatched
            n.dispatchedTo = contact
            n.whistleReason = reason
            if reason != nil { n.whistled = true }
        case (.dispatched, .acknowledge(let by)):
            guard by == dispatchedTo else { throw .notFound(kind: "event") }
            n.state = .inProgress
            n.handler = by
        case (.dispatched, .returnToSender(let by, let reason)):
            guard by == dispatchedTo else { throw .notFound(kind: "event") }
            guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .invalidField(field: "reason", reason: "a return needs a reason")
            }
            n.state = .filed
            n.dispatchedTo = nil
            n.returnCount += 1
        case (.inProgress, .submitResult(let by)):
            guard by == handler else {
                if dispatchedTo != nil { throw .notFound(kind: "event") }
                throw .forbidden(reason: "only the handler submits the result")
            }
            n.state = .awaitingCheck
        case (.awaitingCheck, .checkPass(let by)):
            guard by != handler || dispatchedTo == nil else { throw .forbidden(reason: "the handling contact cannot check its own work") }
            n.state = .closed
            n.checkPassed = true
        case (.awaitingCheck, .checkFail(let by, let reason)):
            guard by != handler || dispatchedTo == nil else { throw .forbidden(reason: "the handling contact cannot check its own work") }
            guard !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .invalidField(field: "reason", reason: "a failed check needs a reason")
            }
            n.state = .inProgress
            n.reopenCount += 1
        case (.closed, .evaluate(let s)):
            guard (1...5).contains(s) else { throw .invalidField(field: "satisfaction", reason: "must be 1 to 5") }
            n.state = .evaluated
            n.satisfaction = s
        default:
            throw .conflict(field: "state", reason: "cannot \(command.name) an event in state \(state.rawValue)")
        }
        return n
    }
}

/// A stored grid event: where, what, who reported it, and its lifecycle progress.
public struct GridEvent: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var gridID: UUID
    public var communityID: UUID
    /// The building chosen as location, if any.
    public var buildingID: UUID?
    /// The device position (WGS-84), if given.
    public var location: GeoPoint?
    public var source: EventSource
    public var description: String
    public var reporterID: UUID
    public var progress: GridEventProgress
    /// When the current deadline stage began (`DeadlineStage.current(for:)`).
    public var stageStartedAt: Date
    public var closedAt: Date?
    public var createdAt: Date

    public init(id: UUID = UUID(), gridID: UUID, communityID: UUID, buildingID: UUID?, location: GeoPoint?, source: EventSource, description: String,
                reporterID: UUID, progress: GridEventProgress, stageStartedAt: Date, closedAt: Date? = nil, createdAt: Date) {
        self.id = id
        self.gridID = gridID
        self.communityID = communityID
        self.buildingID = buildingID
        self.location = location
        self.source = source
        self.description = description
        self.reporterID = reporterID
        self.progress = progress
        self.stageStartedAt = stageStartedAt
        self.closedAt = closedAt
        self.createdAt = createdAt
    }
}

/// Great-circle distance in metres between two WGS-84 points (haversine, mean Earth radius
/// 6,371,008.8 m, IUGG); good to well under a metre at the 50 m scale of duplicate search.
public func distanceMetres(_ a: GeoPoint, _ b: GeoPoint) -> Double {
    let r = 6_371_008.8
    let φ1 = a.lat * .pi / 180, φ2 = b.lat * .pi / 180
    let dφ = (b.lat - a.lat) * .pi / 180, dλ = (b.lon - a.lon) * .pi / 180
    let h = sin(dφ / 2) * sin(dφ / 2) + cos(φ1) * cos(φ2) * sin(dλ / 2) * sin(dλ / 2)
    return 2 * r * asin(min(1, sqrt(h)))
}
