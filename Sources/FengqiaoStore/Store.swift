import FengqiaoCore
import FluentKit
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import Logging
import NIOCore
import SQLKit

/// The `Idempotency-Key` claim a request is running under. Every `Store.write` in that request
/// marks the claim as applied inside its own transaction, and the first audited `create`
/// records the new record's type and id, so the effect and its idempotency record commit or
/// roll back together.
public enum IdempotencyScope {
    @TaskLocal public static var claimID: UUID?
}

/// The database engine behind a `Store`.
public enum StoreDialect: String, Sendable {
    case sqlite, postgres
}

/// Where the data lives and how many connections to use.
public enum StoreLocation: Sendable, Equatable {
    /// An embedded SQLite file.
    case sqlite(path: String)
    /// A PostgreSQL server, by `postgres://`, `postgresql://` or `postgres+uds://` URL.
    case postgres(url: String)

    public var dialect: StoreDialect {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }
}

/// Persistence entry point: configures the database and runs writes as transactions.
///
/// SQLite runs with `journal_mode=WAL`, `synchronous=FULL` (an acknowledged write survives a
/// power cut), `busy_timeout` and `foreign_keys=ON`. Each write takes SQLite's write lock up
/// front (`BEGIN IMMEDIATE`), which serialises writers across processes (a CLI command beside
/// the server) without deadlocking lock upgrades.
public struct Store: Sendable {
    public let dialect: StoreDialect
    private let databases: Databases
    /// The logger the store was opened with (operational messages; never record values).
    public let logger: Logger
    /// Milliseconds a SQLite writer waits for the lock before failing.
    public let busyTimeoutMillis: Int

    /// Turns of this process's SQLite writers.
    private let writeGate = WriteGate()

    /// The page cache of a bulk transaction (`write(bulk: true)`), in KiB: an import's transaction
    /// spans several batches, and with its random index pages in memory it spills and reads
    /// less. 1,000,000 residents: 56.1 s at 256 MiB (peak RSS 810 MB), about 60 s at 128 MiB
    /// (525 MB), 88 s at 64 MiB (420 MB). The next ordinary transaction on the connection
    /// shrinks the cache back.
    public let bulkCacheKiB: Int

    public init(databases: Databases, dialect: StoreDialect, logger: Logger, busyTimeoutMillis: Int = 5000, bulkCacheKiB: Int = 262_144) {
        self.bulkCacheKiB = bulkCacheKiB
        self.databases = databases
        self.dialect = dialect
        self.logger = logger
        self.busyTimeoutMillis = busyTimeoutMillis
    }

    /// Registers the database with Fluent's `Databases` as the default.
    ///
    /// - Parameters:
    ///   - poolSize: PostgreSQL connections per event loop (SQLite always uses one per loop,
    ///     fluent-sqlite-driver ignores more). Defaults are sized for a 2-core server.
    ///   - poolTimeout: seconds a request waits for a connection before failing.
    public static func register(
        _ location: StoreLocation, on databases: Databases, poolSize: Int = 8, poolTimeout: Int64 = 30,
        sqlLogLevel: Logger.Level = .debug
    ) throws {
        switch location {
        case .sqlite(let path):
            databases.use(
                .sqlite(.file(path), connectionPoolTimeout: .seconds(poolTimeout), sqlLogLevel: sqlLogLevel),
                as: .sqlite, isDefault: true)
        case .postgres(let url):
            var config = try SQLPostgresConfiguration(url: url)
            config.searchPath = nil
            databases.use(
                .postgres(
                    configuration: config, maxConnectionsPerEventLoop: poolSize,
                    connectionPoolTimeout: .seconds(poolTimeout), sqlLogLevel: sqlLogLevel),
                as: .psql, isDefault: true)
        }
    }

    /// The default database (pooled connections) for reads.
    public var db: any Database { databases.database(logger: logger, on: databases.eventLoopGroup.any())! }

    /// The same database through SQLKit.
    public var sql: any SQLDatabase { db as! any SQLDatabase }

    /// Runs `body` in one transaction and returns its result; any thrown error rolls back.
    ///
    /// - Parameter bulk: the transaction writes many rows with multi-row statements (a batch of a
    ///   bulk import). On SQLite its statement journals are then kept in memory instead of a temp
    ///   file: a multi-row INSERT into a table with a UNIQUE or foreign-key constraint opens one, and
    ///   writing every page it touches to that file cost 15 % of a 1,000,000-row import (perf,
    ///   `subjournalPageIfRequired`). The memory is bounded by the pages one statement touches
    ///   (`BulkInsert` chunks) and freed when the statement ends. Foreign keys are not checked in
    ///   it (the caller resolves every reference it writes, as the importer does from the grid and
    ///   address tables) and its multi-row inserts are `INSERT OR ROLLBACK`: a failed constraint
    ///   rolls the whole transaction back, so no statement needs a journal at all. No effect on
    ///   PostgreSQL.
    public func write<T: Sendable>(bulk: Bool = false, _ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        // Fluent runs the closure in a task of its own, which does not inherit task-local
        // values: carry the idempotency claim across explicitly.
        let claim = IdempotencyScope.claimID
        switch dialect {
        case .postgres:
            return try await db.transaction { tx in
                let result = try await IdempotencyScope.$claimID.withValue(claim) { try await body(tx) }
                try await Self.markClaimApplied(claim, on: tx)
                return result
            }
        case .sqlite:
            // Writers of this process take turns in arrival order (`WriteGate`). A write started
            // inside a write's body does not queue behind its own caller (it meets SQLite's lock
            // instead, and fails after busy_timeout, as it always has).
            let nested = WriteGate.held
            if !nested { await writeGate.acquire() }
            do {
                let result = try await sqliteWrite(bulk: bulk, claim: claim, body)
                if !nested { await writeGate.release() }
                return result
            } catch {
                if !nested { await writeGate.release() }
                throw error
            }
        }
    }

    /// Whether another writer of this process waits for SQLite's write lock (always false on
    /// PostgreSQL): a long bulk transaction commits early to let it through.
    public func writersWaiting() async -> Bool {
        dialect == .sqlite ? await writeGate.isContended : false
    }

    private func sqliteWrite<T: Sendable>(bulk: Bool, claim: UUID?, _ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        let timeout = busyTimeoutMillis
        return try await db.withConnection { conn in
            let sql = conn as! any SQLDatabase
            try await sql.raw("PRAGMA busy_timeout = \(unsafeRaw: String(timeout))").run()
            try await sql.raw("PRAGMA synchronous = FULL").run()
            try await sql.raw("PRAGMA cache_size = -\(unsafeRaw: String(bulk ? bulkCacheKiB : Self.sqliteCacheKiB))").run()
            do {
                // temp_store decides where the statement journal goes when the transaction begins.
                if bulk {
                    try await sql.raw("PRAGMA temp_store = MEMORY").run()
                    try await sql.raw("PRAGMA foreign_keys = OFF").run()
                }
                try await sql.raw("BEGIN IMMEDIATE").run()
                let result: T
                do {
                    result = try await IdempotencyScope.$claimID.withValue(claim) {
                        try await WriteGate.$held.withValue(true) {
                            try await BulkInsert.$inBulkTransaction.withValue(bulk) { try await body(conn) }
                        }
                    }
                    try await Self.markClaimApplied(claim, on: conn)
                    try await sql.raw("COMMIT").run()
                } catch {
                    try? await sql.raw("ROLLBACK").run()
                    throw error
                }
                if bulk { try await Self.endBulk(sql) }
                return result
            } catch {
                if bulk { try? await Self.endBulk(sql) }
                throw error
            }
        }
    }

    /// SQLite page cache per connection for ordinary writes, in KiB (SQLite's default is 2 MiB);
    /// bulk transactions use `bulkCacheKiB`.
    static let sqliteCacheKiB = 65_536

    /// Restores what `write(bulk: true)` changed on the connection.
    private static func endBulk(_ sql: any SQLDatabase) async throws {
        try await sql.raw("PRAGMA temp_store = DEFAULT").run()
        try await sql.raw("PRAGMA foreign_keys = ON").run()
    }

    static func markClaimApplied(_ claim: UUID?, on db: any Database) async throws {
        guard let claim else { return }
        try await (db as! any SQLDatabase).update("idempotency_keys")
            .set("applied_at", to: SQLBind(Date()))
            .where("id", .equal, claim)
            .run()
    }

    /// Applies the pragmas that live in the database file and checks them.
    /// - Returns: the journal mode now in force (expected `wal`).
    @discardableResult
    public func prepare() async throws -> String {
        guard dialect == .sqlite else { return "postgres" }
        let rows = try await sql.raw("PRAGMA journal_mode = WAL").all()
        try await sql.raw("PRAGMA busy_timeout = \(unsafeRaw: String(busyTimeoutMillis))").run()
        return (try? rows.first?.decode(column: "journal_mode", as: String.self)) ?? "unknown"
    }

    /// `PRAGMA integrity_check` on SQLite (`ok` when clean); `ok` on PostgreSQL.
    public func integrityCheck() async throws -> String {
        guard dialect == .sqlite else { return "ok" }
        let rows = try await sql.raw("PRAGMA integrity_check").all()
        return rows.compactMap { try? $0.decode(column: "integrity_check", as: String.self) }.joined(separator: "\n")
    }

    /// Writes a consistent copy of a SQLite database while it is in use (`VACUUM INTO`).
    public func backup(to path: String) async throws {
        guard dialect == .sqlite else { throw DomainError.invalidField(field: "dialect", reason: "use pg_dump for PostgreSQL") }
        try await sql.raw("VACUUM INTO \(bind: path)").run()
    }

    /// A libpq-style URL for `pg_dump` from our URL forms (`postgres+uds://user@host/socketdir#db`
    /// becomes `postgresql://user@/db?host=socketdir`).
    public static func libpqURL(_ url: String) -> String {
        guard url.hasPrefix("postgres+uds://") || url.hasPrefix("postgresql+uds://"), let c = URLComponents(string: url) else { return url }
        let user = c.user.map { $0 + (c.password.map { ":" + $0 } ?? "") + "@" } ?? ""
        let dir = (c.path as NSString).deletingLastPathComponent
        return "postgresql://\(user)/\(c.fragment ?? "postgres")?host=\(dir)"
    }

    /// The ordered list of migrations; shipped entries are never edited, new ones are appended.
    public static let migrations: [any Migration] = [
        M0001_CreateDivisions(),
        M0002_CreateTerritories(),
        M0003_CreateAccounts(),
        M0004_CreateAuditLog(),
        M0005_CreateIdempotencyKeys(),
        M0006_AddIdempotencyOutcome(),
        M0007_AddDivisionHistory(),
        M0008_CreateStandardAddresses(),
        M0009_CreateActualResidents(),
        M0010_CreateActualHouses(),
        M0011_CreateActualOrganizations(),
        M0012_AddVerificationState(),
        M0013_CreateImportJobs(),
        M0014_AddAddressNaturalKey(),
        M0015_CreateDisputes(),
        M0016_CreatePoliceIncidents(),
        M0018_CreateGridEvents(),
        M0019_CreateResponsibleContacts(),
        M0020_CreateCaseSubsidies(),
        M0021_CreateNotifications(),
        M0022_CreateOpen311(),
        M0023_CreateEventEscalations(),
        M0024_CreateDisputeJointHandling(),
        M0025_AddDisputeStatisticsIndexes(),
        M0026_AddCreatedAuditSeq(),
        M0027_CreateExportApprovals(),
        M0028_WidenNearbyIndex(),
        M0029_CreateChangeCounters(),
        M0031_CoverNameSearch(),
        M0032_AddAccountResident(),
        M0033_CreateAuditSubjects(),
        M0035_AddImportIssueEnglishReason(),
    ]
}

/// First come, first served among one process's SQLite writers. SQLite's own lock is not fair: a
/// writer that finds it taken polls (`busy_timeout`) and can miss every short gap between the
/// transactions of a bulk import, then fail after the timeout. Queued here, a web request
/// waiting behind an import transaction writes before the import's next one. Writers of other
/// processes (a CLI command beside the server) still meet at SQLite's lock. A waiter holds no
/// connection.
actor WriteGate {
    /// Set inside a write's body: a write started there is part of the same turn.
    @TaskLocal static var held = false
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        guard busy else { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Whether another writer is waiting for a turn.
    var isContended: Bool { !waiters.isEmpty }

    /// Hands the turn to the oldest waiter, if any.
    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }
}
