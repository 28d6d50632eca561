import FengqiaoCore
import Foundation
import Vapor

/// Runs the overdue escalation sweep (`EscalationService.sweep`, domain spec §4.2) in the
/// background every `FENGQIAO_ESCALATION_INTERVAL_S` seconds (default 300; `0` turns the timer
/// off). Not started in the `testing` environment: tests call `tick(_:now:)` directly.
/// A failed sweep is logged and retried at the next interval; the sweep itself is idempotent.
public final class EscalationLifecycle: LifecycleHandler, @unchecked Sendable {
    /// Seconds between sweeps.
    public let interval: Int
    private let lock = NSLock()
    private var task: Task<Void, Never>?

    public init(interval: Int) { self.interval = interval }

    /// The interval from the environment (`FENGQIAO_ESCALATION_INTERVAL_S`, 0…86,400, default 300).
    public static func intervalFromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        guard let raw = env["FENGQIAO_ESCALATION_INTERVAL_S"], let v = Int(raw.trimmingCharacters(in: .whitespaces)), (0...86_400).contains(v) else { return 300 }
        return v
    }

    /// One sweep, logged; errors are logged, never thrown (the timer goes on).
    @discardableResult
    public static func tick(_ app: Application, now: Date = Date()) async -> EscalationService.Result? {
        do {
            let r = try await EscalationService(app.fengqiao).sweep(now: now)
            if r.escalated > 0 { app.logger.notice("escalation sweep: \(r.escalated) overdue stage(s) escalated of \(r.checked) open event(s) checked") }
            return r
        } catch {
            app.logger.error("escalation sweep failed: \(String(describing: error))")
            return nil
        }
    }

    public func didBootAsync(_ application: Application) async throws {
        guard interval > 0, application.environment != .testing else { return }
        let seconds = interval
        let t = Task { [application] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(seconds) * 1_000_000_000)
                if Task.isCancelled { break }
                await Self.tick(application)
            }
        }
        lock.withLock { task = t }
    }

    public func shutdownAsync(_ application: Application) async {
        let t = lock.withLock { () -> Task<Void, Never>? in
            let t = task
            task = nil
            return t
        }
        t?.cancel()
        _ = await t?.value
    }
}

extension Application {
    /// Ties the escalation timer to the application's start and stop (called by `configure`).
    func installEscalationSweep() {
        lifecycle.use(EscalationLifecycle(interval: EscalationLifecycle.intervalFromEnvironment()))
    }
}
