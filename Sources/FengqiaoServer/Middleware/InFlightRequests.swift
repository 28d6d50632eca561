import Synchronization
import Vapor

/// Counts the requests being handled, and at shutdown waits for them (at most `grace`) before
/// anything else stops. Closing the listening socket does not wait for handlers whose client has
/// already gone (a load generator that stops, a phone that drops), and the database pool closes
/// after the lifecycle handlers: a handler still running then had no database and the process
/// crashed on SIGTERM. Installed as the outermost middleware and as the last lifecycle handler
/// (handlers shut down in reverse order, so this one runs first).
final class InFlightRequests: AsyncMiddleware, LifecycleHandler {
    private let count = Atomic<Int>(0)
    let grace: Duration

    init(grace: Duration = .seconds(15)) { self.grace = grace }

    var current: Int { count.load(ordering: .acquiring) }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        count.add(1, ordering: .acquiringAndReleasing)
        defer { count.subtract(1, ordering: .acquiringAndReleasing) }
        return try await next.respond(to: request)
    }

    func shutdownAsync(_ application: Application) async {
        let deadline = ContinuousClock.now + grace
        while current > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if current > 0 { application.logger.warning("shutting down with \(current) request(s) still being handled after \(grace)") }
    }
}
