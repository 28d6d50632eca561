import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import PostgresKit
import Testing
import Vapor
import VaporTesting

/// Where the suites run: a fresh SQLite file per test, or, when `TEST_DATABASE_URL` is set, a
/// fresh PostgreSQL database per test created on that server (`scripts/test` starts one).
enum TestDatabase {
    static var postgresURL: String? {
        let v = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"]
        return (v?.isEmpty ?? true) ? nil : v
    }

    static var dialect: StoreDialect { postgresURL == nil ? .sqlite : .postgres }

    /// Creates an empty database and returns its location plus a cleanup closure.
    static func make() async throws -> (StoreLocation, @Sendable () async -> Void) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        guard let url = postgresURL else {
            return (.sqlite(path: dir.appendingPathComponent("test.sqlite").path), { try? FileManager.default.removeItem(at: dir) })
        }
        let name = "fq_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await admin(url) { conn in _ = try await conn.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "test-admin")) }
        let dbURL = replacingDatabase(in: url, with: name)
        return (.postgres(url: dbURL), {
            try? await admin(url) { conn in _ = try await conn.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Logger(label: "test-admin")) }
            try? FileManager.default.removeItem(at: dir)
        })
    }

    /// `postgres+uds://user@localhost/sock#db` keeps the database in the fragment; the TCP form
    /// in the path.
    static func replacingDatabase(in url: String, with name: String) -> String {
        var c = URLComponents(string: url)!
        if c.scheme?.hasSuffix("+uds") == true { c.fragment = name } else { c.path = "/" + name }
        return c.string!
    }

    static func admin(_ url: String, _ body: @Sendable (PostgresConnection) async throws -> Void) async throws {
        let config = try SQLPostgresConfiguration(url: url)
        let conn = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: config.coreConfiguration, id: 1, logger: Logger(label: "test-admin"))
        do { try await body(conn) } catch { try? await conn.close(); throw error }
        try await conn.close()
    }
}

/// Builds the real application per test (house style: `Application.make(.testing)` +
/// `configure`), migrated on a fresh database, and tears it down.
func withApp(
    totpRoles: Set<Role> = [], lockout: LockoutPolicy = .init(), sessionPolicy: SessionPolicy = .init(), hazardRules: HazardRules = .defaults,
    disputeRules: DisputeRules = .defaults, _ body: (Application) async throws -> Void
) async throws {
    let (location, cleanup) = try await TestDatabase.make()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-data-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let config = AppConfig(
        dataDirectory: dir, location: location, poolSize: 4, bcryptCost: 4, lockoutPolicy: lockout, sessionPolicy: sessionPolicy,
        totpRoles: totpRoles, cookieSecure: true, keys: ["k1": FieldCipher.generateKey()], currentKeyID: "k1",
        indexKey: FieldCipher.generateKey(), logLevel: "error")
    var configured = config
    configured.hazardRules = hazardRules
    configured.disputeRules = disputeRules
    let app = try await Application.make(.testing)
    do {
        try await configure(app, config: configured)
        try await body(app)
    } catch {
        try? await app.asyncShutdown()
        await cleanup()
        try? FileManager.default.removeItem(atPath: dir)
        throw error
    }
    try await app.asyncShutdown()
    await cleanup()
    try? FileManager.default.removeItem(atPath: dir)
}
