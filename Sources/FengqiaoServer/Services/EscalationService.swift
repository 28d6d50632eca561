import FengqiaoCore
import FengqiaoStore
import Foundation

/// Overdue escalation of grid events (domain spec §4.2: `any non-terminal --overdue(timer)--> same
/// state + flag overdue, escalate to supervisor`). A sweep looks at open events whose current
/// deadline stage (`DeadlineStage`: verify, acknowledge, handle, check) is past due under the
/// configured `EventDeadlinePolicy` and working-day calendar (§5.5), and records one escalation per
/// event and stage occurrence (`event_escalations`, unique on the stage key) with its audit record
/// in the same transaction; the event's timeline shows it and the supervisor's work list lists it.
///
/// The sweep is idempotent: a second run over the same data adds nothing. It is started by
/// `POST /api/v1/events/escalations` (`event:supervise`) and by `EscalationLifecycle` every
/// `FENGQIAO_ESCALATION_INTERVAL_S` seconds.
///
/// Supervisors (the work list): the community police officer (社区民警, responsible for the beat)
/// and governance-centre staff (综治中心, "the hub for disputes and risks", §1 glossary) of the
/// community, and the station leader above them — the roles holding `event:supervise`.
public struct EscalationService: Sendable {
    let app: Fengqiao
    let stats = HazardStatsRepository()
    public var hazards: HazardService

    public init(_ app: Fengqiao) {
        self.app = app
        hazards = HazardService(app)
    }

    /// The audit actor of the background sweep.
    public static let systemActor = Actor(id: nil, name: "system:escalation", role: nil, scope: .city)

    public struct Result: Codable, Sendable, Equatable {
        /// Open events looked at.
        public var checked: Int
        /// Escalations recorded by this run.
        public var escalated: Int
        /// Events already escalated for their current stage (left alone).
        public var alreadyEscalated: Int
    }

    /// The shortest limit any stage can have; events whose stage began later cannot be overdue.
    var shortestLimit: TimeInterval {
        var m = TimeInterval.infinity
        for l in hazards.deadlines.limits.values {
            switch l {
            case .hours(let h): m = min(m, Double(h) * 3600)
            case .workingDays(let d): m = min(m, Double(max(d, 1)) * 86_400)
            }
        }
        return m.isFinite ? m : 0
    }

    /// Runs one sweep at `now`.
    /// - Parameter actor: who started it (the system actor for the timer).
    public func sweep(now: Date = Date(), actor: Actor = EscalationService.systemActor) async throws -> Result {
        var result = Result(checked: 0, escalated: 0, alreadyEscalated: 0)
        var after: UUID?
        let db = app.store.db
        while true {
            let page = try await stats.candidates(startedBefore: now.addingTimeInterval(-shortestLimit), after: after, limit: 500, on: db)
            guard let last = page.last else { break }
            after = last.id
            result.checked += page.count
            let done = try await stats.escalatedKeys(eventIDs: page.map(\.id), on: db)
            for c in page {
                guard let stage = DeadlineStage.current(for: c.state),
                      let due = hazards.deadlines.dueAt(stage, category: c.category, severity: c.severity, from: c.stageStartedAt, calendar: hazards.calendar),
                      now > due
                else { continue }
                let key = HazardStatsRepository.stageKey(stage, c.stageStartedAt)
                if done.contains("\(c.id.uuidString.lowercased())|\(key)") { result.alreadyEscalated += 1; continue }
                let added = try await app.store.write { [app, stats] db in
                    guard try await stats.escalate(eventID: c.id, gridID: c.gridID, stage: stage, stageStartedAt: c.stageStartedAt, dueAt: due, at: now, on: db) else { return false }
                    _ = try await app.audit.append(actor.draft(.update, objectType: "event", objectID: c.id.uuidString.lowercased(), fields: ["overdue"],
                                                               detail: "escalated: \(stage.rawValue) stage overdue since \(ISO8601DateFormatter().string(from: due))"), on: db)
                    return true
                }
                if added { result.escalated += 1 } else { result.alreadyEscalated += 1 }
            }
            if page.count < 500 { break }
        }
        return result
    }

    /// The supervisor's work list: open events in the caller's grids whose current stage is overdue
    /// and escalated, oldest stage first.
    public func workList(principal p: Principal, now: Date = Date()) async throws -> [GridEvent] {
        let ids = try await stats.escalatedOpenEventIDs(gridIDs: p.visible.gridIDs.map(Array.init), on: app.store.db)
        var out: [GridEvent] = []
        for id in ids {
            guard let e = try await ifFound({ try await hazards.event(id, principal: p) }) else { continue }
            if hazards.due(e, now: now).1 { out.append(e) }
        }
        return out
    }
}
