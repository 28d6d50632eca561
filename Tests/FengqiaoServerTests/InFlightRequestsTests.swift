@testable import FengqiaoServer
import Foundation
import Synchronization
import Testing
import Vapor
import VaporTesting

/// Shutdown waits for requests still being handled (a SIGTERM under load crashed the server when a
/// handler outlived the database pool).
@Suite("in-flight requests at shutdown")
struct InFlightRequestsTests {
    final class Flag: Sendable { let value = Atomic<Bool>(false) }
    struct Slow: AsyncResponder {
        let finished: Flag
        func respond(to request: Request) async throws -> Response {
            try await Task.sleep(for: .milliseconds(300))
            finished.value.store(true, ordering: .releasing)
            return Response(status: .ok)
        }
    }

    @Test("shutdown returns only after a running handler has finished; with none it returns at once")
    func drains() async throws {
        let app = try await Application.make(.testing)
        let inFlight = InFlightRequests(grace: .seconds(5))
        let finished = Flag()
        let slow = Slow(finished: finished)
        let req = Request(application: app, on: app.eventLoopGroup.next())
        async let answered = inFlight.respond(to: req, chainingTo: slow)
        try await Task.sleep(for: .milliseconds(50))
        let during = inFlight.current
        #expect(during == 1)
        await inFlight.shutdownAsync(app)
        let done = finished.value.load(ordering: .acquiring)
        #expect(done, "shutdown waited for the handler")
        let status = try await answered.status
        #expect(status == .ok)
        let after = inFlight.current
        #expect(after == 0)
        let t0 = ContinuousClock.now
        await inFlight.shutdownAsync(app)
        #expect(ContinuousClock.now - t0 < .seconds(1))
        try await app.asyncShutdown()
    }
}
