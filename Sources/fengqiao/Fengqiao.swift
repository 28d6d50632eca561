import ArgumentParser
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import class Vapor.Application
import struct Vapor.Environment

/// Options every command shares: where the data lives.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory for the SQLite file, the key file and backups (default ./data or FENGQIAO_DATA_DIR). DATABASE_URL=postgres://… selects PostgreSQL instead.")
    var dataDir: String?

    func config() throws -> AppConfig { try AppConfig.load(dataDirectory: dataDir) }
}

/// Builds the application for a one-off command, runs `body`, shuts down.
/// - Parameter requireExisting: refuse to start when the SQLite database does not exist yet
///   (a command run from the wrong folder must not create an empty one).
func withApp<T>(_ options: DataOptions, migrate: Bool = true, requireExisting: Bool = false, _ body: (Application) async throws -> T) async throws -> T {
    if requireExisting {
        let dir = AppConfig.resolvedDataDirectory(options.dataDir)
        let env = ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
        if env.isEmpty, !FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent("fengqiao.sqlite")) {
            throw ValidationError("no database in \(dir) (run from the folder that holds ./data, or pass --data-dir, or set DATABASE_URL)")
        }
    }
    let config = try options.config()
    var env = Environment(name: "production", arguments: ["fengqiao"])
    env.commandInput.arguments = []
    let app = try await Application.make(env)
    do {
        try await configure(app, config: config, migrate: migrate)
        let r = try await body(app)
        try await app.asyncShutdown()
        return r
    } catch {
        try? await app.asyncShutdown()
        throw error
    }
}

@main
struct FengqiaoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fengqiao",
        abstract: "Fengqiao (枫桥): community police office and grid governance server.",
        subcommands: [Serve.self, Migrate.self, UserCommand.self, TokenCommand.self, DivisionsCommand.self, ImportCommand.self, Demo.self, Backup.self, AuditCommand.self, BenchOutboxCommand.self, BenchCommand.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the web UI and the JSON API (applies pending migrations first).")
    @OptionGroup var data: DataOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080

    func run() async throws {
        let config = try data.config()
        var env = Environment(name: ProcessInfo.processInfo.environment["FENGQIAO_ENV"] ?? "production", arguments: ["fengqiao", "serve", "--hostname", host, "--port", String(port)])
        env.arguments = ["fengqiao", "serve", "--hostname", host, "--port", String(port)]
        let app = try await Application.make(env)
        do {
            try await configure(app, config: config)
            let where_ = { () -> String in
                if case .sqlite(let path) = config.location { return "SQLite \(path)" }
                return "PostgreSQL"
            }()
            if ProcessInfo.processInfo.environment["FENGQIAO_DEBUG_PATHS"] != nil { print("resources: \(resourcesDirectory())") }
            print("Fengqiao starting on http://\(host):\(port)/  (\(where_))")
            // Which rules file is in force (a path, nothing secret); the rules themselves are in the file.
            if let rules = config.disputeRulesFile { print("dispute rules: \(rules)") }
            if !config.cookieSecure { print("warning: FENGQIAO_COOKIE_SECURE=false — session cookies travel without the Secure flag") }
            if let token = try await AuthService(app.fengqiao).setupTokenIfNeeded() {
                print("No system administrator yet. Open this one-time setup link (valid 24 h) to create one:")
                print("  http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)/setup/\(token)")
                print("or run: fengqiao user create --username NAME --display-name NAME --role sysadmin")
            }
            fflush(nil)
            try await app.execute()
            try await app.asyncShutdown()
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")
    @OptionGroup var data: DataOptions
    func run() async throws {
        try await withApp(data) { app in
            let mode = try await app.fengqiao.store.prepare()
            print("migrations applied (\(app.fengqiao.store.dialect.rawValue), journal: \(mode))")
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load a demo community shaped like 仪凤社区 (13 groups, 20 grids, ~300 volunteers).")
    @OptionGroup var data: DataOptions
    @Option(help: "Generic webhook (http/https) announcing whistles to the demo property contacts (default FENGQIAO_DEMO_WEBHOOK_URL; none when unset).")
    var webhookURL: String?
    @Option(help: "Its HMAC shared secret, at least 16 characters (default FENGQIAO_DEMO_WEBHOOK_SECRET; generated and printed once when unset).")
    var webhookSecret: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        let url = (webhookURL ?? env["FENGQIAO_DEMO_WEBHOOK_URL"]).flatMap { $0.isEmpty ? nil : $0 }
        var generated = false
        let hook = url.map { u -> DemoCommunity.Webhook in
            if let s = webhookSecret ?? env["FENGQIAO_DEMO_WEBHOOK_SECRET"], !s.isEmpty { return .init(url: u, secret: s) }
            generated = true
            return .init(url: u, secret: AccountService.temporaryPassword() + AccountService.temporaryPassword())
        }
        try await withApp(data) { app in
            let r = try await DemoCommunity(app.fengqiao).load(actor: .commandLine(), webhook: hook)
            print("Demo community loaded: 20 grids, \(r.buildings) buildings, \(r.accounts) accounts.")
            print("Property contacts demo-property1…4 answer for 市政设施, 房屋安全, 消防, 特种设备 and 环境卫生 in grids 1–5, 6–10, 11–15, 16–20 (demo-property1 signs in); subsidy tariff 50.00 yuan per event, 100.00 per dispute.")
            if let hook {
                print("Whistles to them are posted to \(hook.url) (HMAC-SHA256 in X-Fengqiao-Signature)\(generated ? "; shared secret, shown only this once: \(hook.secret)" : ".")")
            }
            print("Accounts that can sign in now (passwords and TOTP keys are shown only this once):")
            for c in r.credentials {
                let totp = c.totpSecret.map { "  TOTP key \($0)  (codes: oathtool --totp -b \($0))" } ?? ""
                print("  \(c.username.padding(toLength: 18, withPad: " ", startingAt: 0)) \(c.role.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0)) password \(c.password)\(totp)")
            }
            print("Other demo accounts have no password; reset one in 账号管理 to sign in with it.")
        }
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Write an online, consistent copy of the database to DEST (SQLite VACUUM INTO; pg_dump for PostgreSQL).")
    @OptionGroup var data: DataOptions
    @Argument(help: "Destination file; must not exist.") var dest: String

    func run() async throws {
        guard !FileManager.default.fileExists(atPath: dest) else { throw ValidationError("\(dest) already exists; choose a new file") }
        let config = try data.config()
        switch config.location {
        case .sqlite:
            try await withApp(data, migrate: false, requireExisting: true) { app in
                try await app.fengqiao.store.backup(to: dest)
            }
        case .postgres(let url):
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["pg_dump", "--format=custom", "--file", dest, "--dbname", Store.libpqURL(url)]
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw ValidationError("pg_dump failed with status \(p.terminationStatus)") }
        }
        // The copy holds personal data: readable by its owner only.
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: dest)
        try await withApp(data, migrate: false) { app in
            try await app.fengqiao.record(Actor.commandLine().draft(.export, objectType: "database", detail: "backup written"))
        }
        print("backup written to \(dest)")
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Audit trail tools.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain and name the first broken row (exit status 1 when broken).",
            discussion: """
                Each intact run records the chain's head (sequence and hash) in <data-dir>/audit-anchor.json. \
                A later run compares with it, so rows removed from the end, or a chain rewritten up to that \
                point, are found too. Run it daily (cron) and keep the anchor file off the database server's \
                write path if you can.
                """)
        @OptionGroup var data: DataOptions
        @Option(help: "Anchor file (default <data-dir>/audit-anchor.json).") var anchor: String?

        struct Anchor: Codable { var seq: Int64; var hash: String; var at: Date }

        func run() async throws {
            let dir = AppConfig.resolvedDataDirectory(data.dataDir)
            let anchorPath = anchor ?? (dir as NSString).appendingPathComponent("audit-anchor.json")
            let dec = JSONDecoder()
            dec.dateDecodingStrategy = .iso8601
            var previous: Anchor?
            if let bytes = FileManager.default.contents(atPath: anchorPath) {
                guard let a = try? dec.decode(Anchor.self, from: bytes) else {
                    print("audit anchor \(anchorPath) is unreadable: restore it from a backup or remove it knowingly")
                    throw ExitCode(1)
                }
                previous = a
            }
            let (verdict, anchorRow, head) = try await withApp(data, migrate: false, requireExisting: true) { app -> (AuditChainVerdict, AuditEntry?, AuditEntry?) in
                let v = try await app.fengqiao.audit.verify(on: app.fengqiao.store.db)
                var atAnchor: AuditEntry?
                if let p = previous { atAnchor = try await app.fengqiao.audit.entry(seq: p.seq, on: app.fengqiao.store.db) }
                var last: AuditEntry?
                if case .intact(let n) = v, n > 0 { last = try await app.fengqiao.audit.entry(seq: n, on: app.fengqiao.store.db) }
                return (v, atAnchor, last)
            }
            switch verdict {
            case .broken(let seq, let reason):
                print("audit chain BROKEN at row \(seq): \(reason)")
                throw ExitCode(1)
            case .intact(let n):
                if let p = previous {
                    guard n >= p.seq, let row = anchorRow else {
                        print("audit chain BROKEN: it ends at row \(n), but row \(p.seq) was verified on \(p.at) (\(anchorPath)): rows were removed")
                        throw ExitCode(1)
                    }
                    guard row.hash == p.hash else {
                        print("audit chain BROKEN at row \(p.seq): its hash differs from the one verified on \(p.at) (\(anchorPath)): the chain was rewritten")
                        throw ExitCode(1)
                    }
                }
                if let head {
                    let enc = JSONEncoder()
                    enc.dateEncodingStrategy = .iso8601
                    let data = try enc.encode(Anchor(seq: head.seq, hash: head.hash, at: Date()))
                    FileManager.default.createFile(atPath: anchorPath, contents: data, attributes: [.posixPermissions: 0o600])
                }
                print("audit chain intact: \(n) rows" + (previous.map { " (anchor row \($0.seq) matches)" } ?? ""))
            }
        }
    }
}
