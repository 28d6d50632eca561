import FengqiaoCore
import FengqiaoStore
import Fluent
import Leaf
import LeafKit
import Vapor

/// The folder holding `Views/` and `Public/` (shipped beside the executable as the
/// `Fengqiao_FengqiaoServer.resources` bundle).
public func resourcesDirectory() -> String {
    // Foundation on Linux may already point `resourceURL` at the bundle's `Resources/` folder.
    let base = Bundle.module.resourceURL ?? Bundle.module.bundleURL
    for candidate in [base, base.appendingPathComponent("Resources")] where FileManager.default.fileExists(atPath: candidate.appendingPathComponent("Views").path) {
        return candidate.path + "/"
    }
    return base.appendingPathComponent("Resources").path + "/"
}

/// The single entry point that builds the application; the executable and every test call it.
///
/// Registers the database (SQLite file or PostgreSQL), migrations, Leaf, middleware and routes,
/// and stores the services in `app.fengqiao`. With `migrate: true` it also applies pending
/// migrations.
public func configure(_ app: Application, config: AppConfig, migrate: Bool = true) async throws {
    app.logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .notice
    try Store.register(config.location, on: app.databases, poolSize: config.poolSize)
    app.migrations.add(Store.migrations)
    let store = Store(databases: app.databases, dialect: config.location.dialect, logger: app.logger, bulkCacheKiB: config.importCacheMiB * 1024)
    let cipher = try FieldCipher(keys: config.keys, currentKeyID: config.currentKeyID, indexKey: config.indexKey)
    app.fengqiao = Fengqiao(config: config, store: store, cipher: cipher, passwords: PasswordHasher(cost: config.bcryptCost, threadPool: app.threadPool))

    let resources = resourcesDirectory()
    app.directory.viewsDirectory = resources + "Views/"
    app.directory.publicDirectory = resources + "Public/"
    app.leaf.sources = LeafSources.singleSource(ViewFiles(directory: app.directory.viewsDirectory))
    app.views.use(.leaf)

    app.routes.defaultMaxBodySize = ByteCount(value: config.maxBodyBytes)
    app.middleware = Middlewares()
    let inFlight = InFlightRequests()
    app.middleware.use(inFlight)
    app.middleware.use(RequestLogMiddleware())
    app.middleware.use(SecurityHeadersMiddleware())
    app.middleware.use(ProblemMiddleware())
    app.middleware.use(FileMiddleware(publicDirectory: app.directory.publicDirectory, defaultFile: nil))

    app.installImportJobs()
    app.disputeSettings.rules = config.disputeRules
    app.installDisputeEscalation()
    app.installOutbox()
    app.installEscalationSweep()
    // Last, so it shuts down first: running requests finish before the runners and the pool stop.
    app.lifecycle.use(inFlight)
    // Open311 GeoReport v2 authenticates by its own api_key, outside the session/bearer middleware.
    try app.register(collection: Open311Controller())
    let root = app.grouped(PrincipalMiddleware())
    try root.register(collection: APIController())
    try root.register(collection: AuthWebController())
    try root.register(collection: TerritoryWebController())
    try root.register(collection: AdminWebController())
    try root.register(collection: PopulationWebController())
    try root.register(collection: ExportApprovalWebController())
    try root.register(collection: ImportWebController())
    try root.register(collection: DisputeWebController())
    try root.register(collection: HazardWebController(maxPhotoBytes: config.maxPhotoBytes))
    try root.register(collection: HazardStatsWebController())
    try root.register(collection: DisputeStatisticsWebController())
    try root.register(collection: NotificationWebController())

    if migrate {
        try await store.prepare()
        try await app.autoMigrate()
    }
}
