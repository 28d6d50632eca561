import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// Runs the escalation sweep of the dispute ladder (`DisputeService.escalateDue`: a case whose
/// level deadline passed moves one level up, issue 4 "Risk and the ladder") every
/// `FENGQIAO_DISPUTE_ESCALATION_INTERVAL_S` seconds (default 300; `0` turns it off) while the
/// server runs. The first sweep runs one interval after boot.
///
/// The sweep is idempotent (a case moved has a new, later deadline) and race-safe with manual
/// transitions: each case is re-read and saved with a version check inside its own transaction,
/// and a case changed meanwhile is skipped until the next sweep. Several server instances may
/// run it at once. Tests call `sweep()` directly.
public struct DisputeEscalationScheduler: LifecycleHandler {
    public let interval: TimeInterval
    let task = TaskBox()

    final class TaskBox: @unchecked Sendable {
        private let lock = NSLock()
        private var task: Task<Void, Never>?
        func set(_ t: Task<Void, Never>?) { lock.withLock { task?.cancel(); task = t } }
        func take() -> Task<Void, Never>? { lock.withLock { defer { task = nil }; return task } }
    }

    public init(interval: TimeInterval) { self.interval = interval }

    /// The interval from the environment: `FENGQIAO_DISPUTE_ESCALATION_INTERVAL_S`, whole seconds
    /// 0…86400 (default 300; anything else keeps the default).
    public static func interval(from env: [String: String] = ProcessInfo.processInfo.environment) -> TimeInterval {
        guard let raw = env["FENGQIAO_DISPUTE_ESCALATION_INTERVAL_S"], let v = Int(raw.trimmingCharacters(in: .whitespaces)), (0...86_400).contains(v) else { return 300 }
        return TimeInterval(v)
    }

    /// The actor the sweep's timeline lines and audit records name.
    public static let actor = Actor(id: nil, name: "system:dispute-escalation", role: nil, scope: .city)

    /// One sweep over every territory with the application's dispute settings.
    /// - Returns: the ids of the cases moved up.
    @discardableResult
    public static func sweep(_ app: Application) async throws -> [UUID] {
        try await DisputeService(app.fengqiao, settings: app.disputeSettings).escalateDue(actor: actor, access: DisputeAccess(visible: .everything))
    }

    public func didBootAsync(_ application: Application) async throws {
        // As the hazard sweep (`EscalationLifecycle`): not under tests, which sweep through the API.
        guard interval > 0, application.environment != .testing else { return }
        let every = interval
        let app = application
        task.set(Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(every * 1_000_000_000))
                if Task.isCancelled { break }
                do {
                    let moved = try await Self.sweep(app)
                    if !moved.isEmpty { app.logger.notice("dispute escalation sweep moved \(moved.count) case(s)") }
                } catch {
                    app.logger.error("dispute escalation sweep failed: \(String(describing: error))")
                }
            }
        })
    }

    /// Stops the timer and waits for a sweep in progress, so none runs against a closing pool.
    public func shutdownAsync(_ application: Application) async {
        let running = task.take()
        running?.cancel()
        _ = await running?.value
    }
}

extension Application {
    /// Ties the escalation sweep to the application's start and stop (called by `configure`).
    func installDisputeEscalation() {
        lifecycle.use(DisputeEscalationScheduler(interval: DisputeEscalationScheduler.interval()))
        disputeSettings.handling = DisputeHandlingSettings.fromEnvironment()
    }
}
