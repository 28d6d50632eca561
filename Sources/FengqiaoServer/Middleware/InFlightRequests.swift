import Synchronization
import Vapor

/// Counts the requests being handled and makes shutdown orderly: first the HTTP server stops
/// (listener closed, keep-alive connections quiesced after their current response), then the
/// requests still running are waited for (at most `grace`), and only then do the other lifecycle
/// handlers and the database pool stop. Vapor shuts its HTTP server down with the application's
/// storage, after the lifecycle handlers and in no fixed order with the database pool, so under
/// load a SIGTERM left requests running against a closed pool and the process crashed. Installed
/// as the outermost middleware and as the last lifecycle handler (handlers shut down in reverse
/// order, so this one runs first).
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
        // Idempotent: Vapor's own shutdown of the server later finds it already stopped.
        await application.server.shutdown()
        let deadline = ContinuousClock.now + grace
        while current > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if current > 0 { application.logger.warning("shutting down with \(current) request(s) still being handled after \(grace)") }
    }
}
