import FengqiaoCore
import FengqiaoStore
import Foundation
import Logging
import Synchronization
import Vapor

/// Wakes the outbox runners of this process when a message was enqueued (rung after the commit
/// of the enqueueing transaction). Every runner subscribed wakes; one that finds nothing due
/// goes back to sleep, so a ring is only a hint and the periodic wake-up stays the guarantee.
public enum OutboxDoorbell {
    static let subscribers = Mutex<[UUID: AsyncStream<Void>.Continuation]>([:])

    public static func ring() {
        let subs = subscribers.withLock { Array($0.values) }
        for c in subs { c.yield() }
    }

    static func subscribe(_ c: AsyncStream<Void>.Continuation) -> UUID {
        let id = UUID()
        subscribers.withLock { $0[id] = c }
        return id
    }

    static func unsubscribe(_ id: UUID) {
        _ = subscribers.withLock { $0.removeValue(forKey: id) }
    }
}

/// Delivers the notification outbox in the background (issue 5 "Notifications"): wakes every
/// `FENGQIAO_OUTBOX_INTERVAL_MS` and whenever the `OutboxDoorbell` rings, and runs delivery rounds
/// (`NotificationOutbox.deliverRound`: claim with a lease, at most `FENGQIAO_OUTBOX_CONCURRENCY`
/// requests in flight, outcomes recorded in one transaction) until nothing is due.
///
/// Restarts lose nothing: a message claimed by a run that stopped before recording its outcome
/// falls due again when its lease ends; on SQLite (one server per database file) every lease is
/// released at start, on PostgreSQL (several servers) leases simply expire. Delivery is
/// at-least-once with a stable message id (`X-Fengqiao-Delivery`).
///
/// Shutdown: no new round starts, the round in flight may finish for `grace` seconds, then it is
/// cancelled (its messages stay claimed and are retried after the lease).
actor OutboxRunner {
    /// Set by `stop`: the loop starts no new round.
    final class StopFlag: Sendable {
        let value = Mutex(false)
        var isSet: Bool { value.withLock { $0 } }
    }
    private var stopFlag = StopFlag()
    private let logger: Logger
    private var loop: Task<Void, Never>?
    private var ticker: Task<Void, Never>?
    private var continuation: AsyncStream<Void>.Continuation?
    private var subscription: UUID?
    /// Rounds completed and their totals, for tests and the log.
    private(set) var totals = NotificationOutbox.RunResult()
    private(set) var rounds = 0

    init(logger: Logger) { self.logger = logger }

    var running: Bool { loop != nil }

    /// Starts the runner (no-op when the interval is 0 or it already runs).
    func start(_ app: Fengqiao, client: any Client) async {
        let interval = app.config.outboxIntervalMilliseconds
        guard interval > 0, loop == nil else { return }
        if app.store.dialect == .sqlite {
            do {
                let released = try await app.store.write { db in try await OutboxRepository().releaseLeases(now: Date(), on: db) }
                if released > 0 { logger.notice("notification outbox: \(released) message(s) claimed by an earlier run are due again") }
            } catch {
                logger.error("notification outbox: releasing leases at start failed: \(String(describing: error))")
            }
        }
        let (stream, cont) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        continuation = cont
        subscription = OutboxDoorbell.subscribe(cont)
        ticker = Task.detached {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval) * 1_000_000)
                if Task.isCancelled { break }
                cont.yield()
            }
        }
        cont.yield()
        let outbox = NotificationOutbox(app)
        let logger = self.logger
        let flag = StopFlag()
        stopFlag = flag
        loop = Task.detached { [weak self] in
            for await _ in stream {
                if flag.isSet { break }
                while !Task.isCancelled && !flag.isSet {
                    do {
                        let (r, claimed) = try await outbox.deliverRound(client: client, now: Date())
                        if claimed > 0 { await self?.count(r) }
                        if r.failed > 0 { logger.warning("notification outbox: \(r.failed) message(s) failed for good after the last attempt") }
                        if claimed < outbox.batch { break }
                    } catch {
                        if Task.isCancelled { break }
                        logger.error("notification outbox: delivery round failed: \(String(describing: error))")
                        break
                    }
                }
                if Task.isCancelled { break }
            }
        }
    }

    private func count(_ r: NotificationOutbox.RunResult) {
        rounds += 1
        totals = totals + r
    }

    /// Stops the runner: no new round; the round in flight gets `grace` seconds, then is cancelled.
    func stop(grace: TimeInterval = 15) async {
        stopFlag.value.withLock { $0 = true }
        if let s = subscription { OutboxDoorbell.unsubscribe(s) }
        subscription = nil
        ticker?.cancel()
        ticker = nil
        continuation?.finish()
        continuation = nil
        guard let task = loop else { return }
        loop = nil
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await task.value; return true }
            group.addTask { try? await Task.sleep(nanoseconds: UInt64(grace * 1_000_000_000)); return false }
            if await group.next() == false { task.cancel() }
            group.cancelAll()
        }
    }
}

/// Starts the outbox runner when the server boots and stops it when the server shuts down.
struct OutboxLifecycle: LifecycleHandler {
    func didBootAsync(_ application: Application) async throws {
        await application.outboxRunner.start(application.fengqiao, client: application.client)
    }

    func shutdownAsync(_ application: Application) async {
        await application.outboxRunner.stop()
    }
}

struct OutboxRunnerKey: StorageKey { typealias Value = OutboxRunner }

extension Application {
    /// The outbox runner (set by `installOutbox()` in `configure`).
    var outboxRunner: OutboxRunner {
        guard let r = storage[OutboxRunnerKey.self] else { fatalError("configure(_:config:) has not run") }
        return r
    }

    /// Whether this application's background outbox runner is running (tests).
    public var outboxRunnerRunning: Bool { get async { await outboxRunner.running } }

    /// Delivered / retried / failed counted by this application's background runner (tests).
    public var outboxRunnerTotals: NotificationOutbox.RunResult { get async { await outboxRunner.totals } }

    /// Creates the outbox runner and ties it to the application's start and stop.
    func installOutbox() {
        storage[OutboxRunnerKey.self] = OutboxRunner(logger: logger)
        lifecycle.use(OutboxLifecycle())
    }
}
