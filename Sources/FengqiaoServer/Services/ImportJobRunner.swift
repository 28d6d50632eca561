import FengqiaoCore
import FengqiaoStore
import Foundation
import Logging
import Vapor

/// Runs import jobs in the background, one at a time per server (a 2-core server gains nothing from
/// two imports competing for SQLite's single writer; later uploads wait as `queued`).
///
/// While a job runs, its counters are written at most once a second (after each batch the import
/// engine reports), and at least every `heartbeatEvery` seconds, so a job whose server died can be
/// told from a live one. At start (`recover`), unfinished jobs are marked failed: all of them on
/// SQLite (one server per database file), those with a stale heartbeat on PostgreSQL (other
/// servers may be running theirs); the same stale check repeats every `sweepEvery` seconds.
actor ImportJobRunner {
    /// A stored job and what it needs to run.
    struct Pending: Sendable {
        var job: ImportJob
        var kind: ImportKind
        var app: Fengqiao
        var actor: Actor
        var visible: VisibleTerritory
    }

    static let heartbeatEvery: TimeInterval = 10
    /// A job not refreshed for this long belongs to a server that stopped.
    static let staleAfter: TimeInterval = 60
    static let sweepEvery: TimeInterval = 30
    /// Counters are written at most this often.
    static let progressEvery: TimeInterval = 1

    private let logger: Logger
    private var queue: [Pending] = []
    private var running: (id: UUID, task: Task<Void, Never>)?
    private var sweeper: Task<Void, Never>?
    private var stopped = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(logger: Logger) {
        self.logger = logger
    }

    /// Queues a stored job; it starts when the runner is free.
    func submit(_ p: Pending) async {
        guard !stopped else {
            await Self.fail(p, message: ImportJobMessage.interrupted(afterRows: nil), logger: logger)
            return
        }
        queue.append(p)
        startNextIfIdle()
    }

    /// Ids of the jobs this server holds (queued or running).
    var held: [UUID] { queue.map(\.job.id) + (running.map { [$0.id] } ?? []) }

    /// Returns once no job is queued or running.
    func idle() async {
        if running == nil && queue.isEmpty { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func startNextIfIdle() {
        guard running == nil, !stopped else { return }
        guard !queue.isEmpty else {
            let w = waiters
            waiters = []
            for c in w { c.resume() }
            return
        }
        let p = queue.removeFirst()
        let logger = self.logger
        // Detached: the job must not inherit the request's task-locals (its Idempotency-Key claim).
        let task = Task.detached {
            await Self.execute(p, logger: logger)
            await self.finished(p.job.id)
        }
        running = (p.job.id, task)
    }

    private func finished(_ id: UUID) {
        if running?.id == id { running = nil }
        startNextIfIdle()
    }

    // MARK: Start and stop

    /// At server start: fails the jobs a previous run of this server left unfinished, removes their
    /// uploads, and starts the periodic sweep.
    func recover(_ app: Fengqiao) async {
        let repo = ImportJobRepository()
        do {
            let cutoff: Date? = app.store.dialect == .sqlite ? nil : Date().addingTimeInterval(-Self.staleAfter)
            let failed = try await app.store.write { db in
                try await repo.failUnfinished(heartbeatBefore: cutoff, message: ImportJobMessage.interrupted(afterRows: nil), at: Date(), on: db)
            }
            if !failed.isEmpty { logger.notice("import jobs left unfinished by an earlier run marked failed: \(failed.count)") }
        } catch {
            logger.error("import jobs: recovery at start failed: \(String(describing: error))")
        }
        ImportUploads(dataDirectory: app.config.dataDirectory).removeAll(except: Set(held))
        guard sweeper == nil, !stopped else { return }
        let logger = self.logger
        sweeper = Task.detached { [weak self] in
            var lastSweep = Date()
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(Self.heartbeatEvery * 1_000_000_000))
                guard let self, !Task.isCancelled else { return }
                let held = await self.held
                do {
                    try await app.store.write { db in try await repo.heartbeat(held, at: Date(), on: db) }
                    if Date().timeIntervalSince(lastSweep) >= Self.sweepEvery {
                        lastSweep = Date()
                        let failed = try await app.store.write { db in
                            try await repo.failUnfinished(heartbeatBefore: Date().addingTimeInterval(-Self.staleAfter), message: ImportJobMessage.interrupted(afterRows: nil), at: Date(), on: db)
                        }
                        if !failed.isEmpty { logger.notice("import jobs of a stopped server marked failed: \(failed.count)") }
                    }
                } catch {
                    logger.warning("import jobs: heartbeat failed: \(String(describing: error))")
                }
            }
        }
    }

    /// At shutdown: queued jobs fail at once, the running one is cancelled (it stops after its
    /// current batch and is marked failed), and the runner waits up to `grace` seconds for it.
    func shutdown(grace: TimeInterval = 20) async {
        stopped = true
        sweeper?.cancel()
        sweeper = nil
        let waiting = queue
        queue = []
        for p in waiting {
            await Self.fail(p, message: ImportJobMessage.interrupted(afterRows: nil), logger: logger)
        }
        if let task = running?.task {
            task.cancel()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await task.value }
                group.addTask { try? await Task.sleep(nanoseconds: UInt64(grace * 1_000_000_000)) }
                await group.next()
                group.cancelAll()
            }
        }
        let w = waiters
        waiters = []
        for c in w { c.resume() }
    }

    // MARK: One job

    /// Counters reported by the engine, shared between its callbacks and the ticker.
    final class ProgressBox: @unchecked Sendable {
        private let lock = NSLock()
        private var counters = ImportJob.Counters()
        private var version = 0

        func update(_ body: (inout ImportJob.Counters) -> Void) {
            lock.withLock {
                body(&counters)
                version += 1
            }
        }

        var snapshot: (ImportJob.Counters, Int) { lock.withLock { (counters, version) } }
    }

    static func counters(_ r: PopulationImportService.Report) -> ImportJob.Counters {
        .init(read: r.read, imported: r.imported, unchanged: r.unchanged, flagged: r.flagged.count, rejected: r.rejectedRows, addressesCreated: r.addressesCreated)
    }

    static func issues(_ r: PopulationImportService.Report) -> [ImportJobIssue] {
        let all = r.rejected.map { ImportJobIssue(line: $0.line, column: $0.column, reason: $0.reason, reasonEnglish: $0.reasonEnglish, kind: .rejected) }
            + r.flagged.map { ImportJobIssue(line: $0.line, column: $0.column, reason: $0.reason, reasonEnglish: $0.reasonEnglish, kind: .flagged) }
        return all.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }

    static func execute(_ p: Pending, logger: Logger) async {
        let app = p.app
        let repo = ImportJobRepository()
        let id = p.job.id
        let uploads = ImportUploads(dataDirectory: app.config.dataDirectory)
        let url = uploads.url(for: id)
        defer { uploads.remove(id) }

        let estimate = await blocking { ImportJobService.estimateRows(url) }
        do {
            try await app.store.write { db in try await repo.markRunning(id, estimatedRows: estimate, at: Date(), on: db) }
        } catch {
            logger.error("import job \(id): cannot start: \(String(describing: error))")
            await fail(p, message: ImportJobMessage.unexpected(afterRows: 0), logger: logger)
            return
        }

        let box = ProgressBox()
        let options = PopulationImportService.Options(
            gridCode: p.job.gridCode, dryRun: p.job.dryRun, progressEvery: 1000,
            progress: { n in box.update { $0.read = max($0.read, n) } },
            onBatch: { r in box.update { $0 = ImportJobRunner.counters(r) } })
        let ticker = Task.detached {
            var written = -1
            var lastWrite = Date()
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(progressEvery * 1_000_000_000))
                if Task.isCancelled { return }
                let (c, v) = box.snapshot
                guard v != written || Date().timeIntervalSince(lastWrite) >= heartbeatEvery else { continue }
                do {
                    try await app.store.write { db in try await repo.progress(id, c, at: Date(), on: db) }
                    written = v
                    lastWrite = Date()
                } catch {
                    logger.debug("import job \(id): progress not saved: \(String(describing: error))")
                }
            }
        }

        var status = ImportJob.Status.failed
        var counters = ImportJob.Counters()
        var message: String?
        var warnings: [String] = []
        var issues: [ImportJobIssue] = []
        do {
            let report = try await p.kind.run(app, url, options, p.actor, p.visible)
            counters = Self.counters(report)
            issues = Self.issues(report)
            warnings = report.warnings
            if Task.isCancelled {
                message = ImportJobMessage.interrupted(afterRows: report.read)
            } else {
                status = .succeeded
            }
        } catch let e as ImportFileError {
            message = ImportJobMessage.fileError(e)
        } catch let e as DomainError {
            message = ImportJobMessage.invalid(e)
        } catch is CancellationError {
            counters = box.snapshot.0
            message = ImportJobMessage.interrupted(afterRows: counters.read)
        } catch {
            counters = box.snapshot.0
            logger.error("import job \(id) stopped after \(counters.read) rows: \(String(describing: error))")
            message = ImportJobMessage.unexpected(afterRows: counters.read)
        }
        ticker.cancel()
        await ticker.value

        let audit = app.audit
        let summary = "\(status.rawValue): \(counters.read) read, \(counters.imported) \(p.job.dryRun ? "would be imported" : "imported"), \(counters.unchanged) unchanged, \(counters.flagged) flagged, \(counters.rejected) rejected"
        do {
            try await app.store.write { [status, counters, message, warnings, issues] db in
                try await repo.finish(id, status: status, counters: counters, error: message, warnings: warnings, at: Date(), on: db)
                try await repo.appendIssues(id, issues, on: db)
                _ = try await audit.append(p.actor.draft(.update, objectType: "import-job", objectID: id.uuidString.lowercased(),
                                                         result: status == .succeeded ? .success : .error, detail: summary), on: db)
            }
        } catch {
            logger.error("import job \(id): cannot save its outcome: \(String(describing: error))")
        }
    }

    /// Marks a job that never ran failed.
    static func fail(_ p: Pending, message: String, logger: Logger) async {
        let repo = ImportJobRepository()
        do {
            try await p.app.store.write { db in
                try await repo.finish(p.job.id, status: .failed, counters: .init(), error: message, warnings: [], at: Date(), on: db)
            }
        } catch {
            logger.error("import job \(p.job.id): cannot mark it failed: \(String(describing: error))")
        }
        ImportUploads(dataDirectory: p.app.config.dataDirectory).remove(p.job.id)
    }

    /// Runs blocking file work off the cooperative thread pool.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in DispatchQueue.global().async { c.resume(returning: body()) } }
    }
}

/// Starts the job runner's recovery when the server boots and stops it when the server shuts down.
struct ImportJobLifecycle: LifecycleHandler {
    func didBootAsync(_ application: Application) async throws {
        await application.importJobs.recover(application.fengqiao)
    }

    func shutdownAsync(_ application: Application) async {
        await application.importJobs.shutdown()
    }
}

struct ImportJobRunnerKey: StorageKey { typealias Value = ImportJobRunner }

extension Application {
    /// The import job runner (set by `installImportJobs()` in `configure`).
    var importJobs: ImportJobRunner {
        guard let r = storage[ImportJobRunnerKey.self] else { fatalError("configure(_:config:) has not run") }
        return r
    }

    /// Creates the import job runner and ties it to the application's start and stop.
    func installImportJobs() {
        storage[ImportJobRunnerKey.self] = ImportJobRunner(logger: logger)
        lifecycle.use(ImportJobLifecycle())
    }
}
