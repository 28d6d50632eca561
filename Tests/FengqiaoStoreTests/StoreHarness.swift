import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit

/// A migrated store on a fresh SQLite file, or a fresh PostgreSQL database when
/// `TEST_DATABASE_URL` is set; torn down afterwards.
func withStore(_ body: (Store) async throws -> Void) async throws {
    let logger = Logger(label: "store-test")
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-store-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    var dropDatabase: String?
    let location: StoreLocation
    if let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty {
        let name = "fq_s_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        try await adminQuery(url, "CREATE DATABASE \(name)")
        var c = URLComponents(string: url)!
        if c.scheme?.hasSuffix("+uds") == true { c.fragment = name } else { c.path = "/" + name }
        location = .postgres(url: c.string!)
        dropDatabase = name
    } else {
        location = .sqlite(path: dir.appendingPathComponent("store.sqlite").path)
    }
    let databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
    try Store.register(location, on: databases, poolSize: 4)
    let store = Store(databases: databases, dialect: location.dialect, logger: logger)
    let migrations = Migrations()
    migrations.add(Store.migrations)
    let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: MultiThreadedEventLoopGroup.singleton.any())
    do {
        try await store.prepare()
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
        try await body(store)
    } catch {
        await databases.shutdownAsync()
        if let n = dropDatabase, let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] { try? await adminQuery(url, "DROP DATABASE IF EXISTS \(n) WITH (FORCE)") }
        try? FileManager.default.removeItem(at: dir)
        throw error
    }
    await databases.shutdownAsync()
    if let n = dropDatabase, let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"] { try? await adminQuery(url, "DROP DATABASE IF EXISTS \(n) WITH (FORCE)") }
    try? FileManager.default.removeItem(at: dir)
}

func adminQuery(_ url: String, _ sql: String) async throws {
    let config = try SQLPostgresConfiguration(url: url)
    let logger = Logger(label: "store-test-admin")
    let conn = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(), configuration: config.coreConfiguration, id: 1, logger: logger)
    do { _ = try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger) } catch { try? await conn.close(); throw error }
    try await conn.close()
}
