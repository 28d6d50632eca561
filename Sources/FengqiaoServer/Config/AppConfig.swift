import FengqiaoCore
import FengqiaoStore
import Foundation

/// Errors reading the configuration; every missing or bad key is named.
public struct ConfigError: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "configuration: " + problems.joined(separator: "; ") }
}

/// The one typed configuration, read once at start from the environment (and `<dataDir>/.env`
/// or `./.env` if present). Every value has a safe default; see `.env.example`.
public struct AppConfig: Sendable {
    /// Where the SQLite file, the key file and backups live (default `./data`).
    public var dataDirectory: String
    public var location: StoreLocation
    /// PostgreSQL connections per event loop.
    public var poolSize: Int
    /// bcrypt cost (2^cost rounds; default 12).
    public var bcryptCost: Int
    public var passwordPolicy: PasswordPolicy
    public var lockoutPolicy: LockoutPolicy
    public var sessionPolicy: SessionPolicy
    /// Roles that must enrol a second factor (default: every staff role).
    public var totpRoles: Set<Role>
    /// Send the session cookie with `Secure` (default on; turn off only for plain-HTTP testing).
    public var cookieSecure: Bool
    /// Key ring for field encryption (AES-256-GCM).
    public var keys: [String: [UInt8]]
    public var currentKeyID: String
    public var indexKey: [UInt8]
    /// Largest request body accepted by the JSON API and forms.
    public var maxBodyBytes: Int
    /// Log level for the server (`notice` by default: info-per-request logging costs throughput).
    public var logLevel: String
    /// Whether the server prints the one-time setup link when no system administrator exists.
    public var printSetupLink: Bool
    /// 核采 period: residents and addresses not verified within this many days are overdue
    /// (project default 90 days [P], domain spec §0; `FENGQIAO_VERIFICATION_DAYS`).
    public var verificationPolicy: VerificationPolicy
    /// Largest file accepted by the bulk import upload (web form and `POST /api/v1/imports`), in
    /// bytes; default 200 MiB (`FENGQIAO_MAX_IMPORT_BYTES`). The upload streams to disk, so this
    /// bounds disk use, not memory.
    public var maxImportBytes: Int = 200 << 20
    /// SQLite page cache of a bulk-import transaction, in MiB; default 256
    /// (`FENGQIAO_IMPORT_CACHE_MIB`, 16–4096). It bounds most of an import's memory: 1,000,000
    /// residents peaked at 810 MB RSS with 256 and 525 MB with 128, and took 56 s against 60 s.
    /// Pages are allocated as they are touched, so a 60,000-row import uses far less.
    public var importCacheMiB: Int = 256
    /// Largest event photo accepted (issue 5), in bytes; default 10 MiB, at most 64 MiB (the upload
    /// route collects at most that much; `FENGQIAO_MAX_PHOTO_BYTES`).
    public var maxPhotoBytes: Int = 10 << 20
    /// Radius of the nearby-duplicate offer for events (issue 5), metres; default 50
    /// (`FENGQIAO_DUPLICATE_RADIUS_M`).
    public var duplicateRadiusMetres: Int = 50
    /// How long a computed statistics report may be reused while nothing it reads has changed,
    /// seconds; default 60 [P], 0 turns the cache off (`FENGQIAO_STATS_CACHE_SECONDS`). Writes
    /// always start a new report at once (change counters, M0029); only figures that move with
    /// the clock alone (overdue) can lag by up to this long.
    public var statisticsCacheSeconds: Int = 60
    /// Hazard categories and time limits (§3.8, §4.2 [P]): the defaults, with the entries of the
    /// JSON file named by `FENGQIAO_HAZARD_RULES`, or of `<data-dir>/hazard-rules.json` when that
    /// exists (shape: `HazardRules`). A bad file stops the start naming the entry.
    public var hazardRules: HazardRules = .defaults
    /// Dispute risk triggers, escalation deadlines per risk grade and level, and the
    /// repeat-incident rule (issue 4; §3.4, §3.7.3, §4.1 [P]): the defaults, with the keys of the
    /// JSON file named by `FENGQIAO_DISPUTE_RULES`, or of `<data-dir>/dispute-rules.json` when
    /// that exists (shape: `DisputeRules`; example `docs/dispute-rules.example.json`). A bad
    /// file stops the start naming the field. `configure` puts them in `app.disputeSettings`.
    public var disputeRules: DisputeRules = .defaults
    /// The file `disputeRules` were read from, if any (printed by `fengqiao serve`).
    public var disputeRulesFile: String?
    /// How long an approved export stays downloadable, hours; default 24 [P], 1…720
    /// (`FENGQIAO_EXPORT_APPROVAL_HOURS`; domain spec §7.3 export approval).
    public var exportApprovalHours: Int = 24
    /// Whether Open311 `GET` answers without an API key (`FENGQIAO_OPEN311_PUBLIC_READ`, default
    /// false: deployments sit on government networks, so reading needs a key like filing does) [P].
    public var open311PublicRead: Bool = false
    /// The notification outbox's background delivery (issue 5 "Notifications", `OutboxRunner`):
    /// milliseconds between wake-ups (it also wakes when a message is enqueued). `0` = no
    /// background runner: the default of a configuration built in code (tests drive the outbox
    /// with `NotificationOutbox.deliverDue`); `load` reads `FENGQIAO_OUTBOX_INTERVAL_MS`
    /// (default 1000, 0 turns the runner off).
    public var outboxIntervalMilliseconds: Int = 0
    /// Deliveries in flight at once (`FENGQIAO_OUTBOX_CONCURRENCY`, default 8, 1…256).
    public var outboxConcurrency: Int = 8
    /// Messages claimed per round (`FENGQIAO_OUTBOX_BATCH`, default 200).
    public var outboxBatch: Int = 200
    /// How long a claimed message stays with its worker before another may take it over, seconds
    /// (`FENGQIAO_OUTBOX_LEASE_S`, default 60; longer than the 10 s request timeout).
    public var outboxLeaseSeconds: Int = 60
    /// Retries: first delay and attempts (`FENGQIAO_OUTBOX_RETRY_BASE_MS`, default 30,000, doubling
    /// up to an hour; `FENGQIAO_OUTBOX_MAX_ATTEMPTS`, default 12).
    public var outboxRetry = OutboxRetryPolicy()
    /// The SMS gateway template (`FENGQIAO_SMS_GATEWAY`: inline JSON or a path to a JSON file; see
    /// `SMSGatewayTemplate`); without it SMS channels fail with "no SMS gateway configured".
    public var smsGateway: SMSGatewayTemplate?

    public init(
        dataDirectory: String, location: StoreLocation, poolSize: Int = 8, bcryptCost: Int = 12,
        passwordPolicy: PasswordPolicy = .init(), lockoutPolicy: LockoutPolicy = .init(),
        sessionPolicy: SessionPolicy = .init(), totpRoles: Set<Role> = Set(Role.allCases.filter(\.isStaff)),
        cookieSecure: Bool = true, keys: [String: [UInt8]], currentKeyID: String, indexKey: [UInt8],
        maxBodyBytes: Int = 1 << 20, logLevel: String = "notice", printSetupLink: Bool = true,
        verificationPolicy: VerificationPolicy = .init()
    ) {
        self.dataDirectory = dataDirectory
        self.location = location
        self.poolSize = poolSize
        self.bcryptCost = bcryptCost
        self.passwordPolicy = passwordPolicy
        self.lockoutPolicy = lockoutPolicy
        self.sessionPolicy = sessionPolicy
        self.totpRoles = totpRoles
        self.cookieSecure = cookieSecure
        self.keys = keys
        self.currentKeyID = currentKeyID
        self.indexKey = indexKey
        self.maxBodyBytes = maxBodyBytes
        self.logLevel = logLevel
        self.printSetupLink = printSetupLink
        self.verificationPolicy = verificationPolicy
    }

    /// Reads the environment. With nothing set: SQLite at `<dataDir>/fengqiao.sqlite`, keys in
    /// `<dataDir>/keys.json` (created with mode 0600 on first start).
    ///
    /// Keys: `DATABASE_URL`, `FENGQIAO_DATA_DIR`, `FENGQIAO_KEY_FILE`, `FENGQIAO_POOL_SIZE`,
    /// `FENGQIAO_BCRYPT_COST`, `FENGQIAO_PASSWORD_MIN_LENGTH`, `FENGQIAO_PASSWORD_MIN_CLASSES`,
    /// `FENGQIAO_PASSWORD_HISTORY`, `FENGQIAO_LOCKOUT_FAILURES`, `FENGQIAO_LOCKOUT_MINUTES`,
    /// `FENGQIAO_IDLE_MINUTES`, `FENGQIAO_IDLE_MINUTES_PRIVILEGED`, `FENGQIAO_SESSION_HOURS`,
    /// `FENGQIAO_TOTP_ROLES` (comma-separated role ids, or `none`), `FENGQIAO_COOKIE_SECURE`,
    /// `FENGQIAO_MAX_BODY_BYTES`, `FENGQIAO_LOG_LEVEL`, `FENGQIAO_VERIFICATION_DAYS` (核采 period, 1…3650),
    /// `FENGQIAO_MAX_IMPORT_BYTES` (bulk import upload limit, default 200 MiB), `FENGQIAO_IMPORT_CACHE_MIB`, `FENGQIAO_EXPORT_APPROVAL_HOURS`,
    /// `FENGQIAO_HAZARD_RULES` and `FENGQIAO_DISPUTE_RULES` (JSON rule files, see `hazardRules`, `disputeRules`).
    /// - Throws: `ConfigError` naming every bad key.
    public static func load(dataDirectory: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> AppConfig {
        var env = environment
        let dir = resolvedDataDirectory(dataDirectory, environment: env)
        for file in [dir + "/.env", "./.env"] {
            for (k, v) in Self.readDotEnv(file) where env[k] == nil { env[k] = v }
        }
        var problems: [String] = []
        func int(_ key: String, _ def: Int, _ range: ClosedRange<Int>) -> Int {
            guard let raw = env[key], !raw.isEmpty else { return def }
            guard let v = Int(raw), range.contains(v) else {
                problems.append("\(key) must be an integer in \(range.lowerBound)…\(range.upperBound) (got \"\(raw)\")")
                return def
            }
            return v
        }
        // The data directory holds the database and the key file: owner only.
        if !FileManager.default.fileExists(atPath: dir) {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let location: StoreLocation
        if let url = env["DATABASE_URL"], !url.isEmpty {
            guard url.hasPrefix("postgres") else {
                throw ConfigError(problems: ["DATABASE_URL must start with postgres://, postgresql:// or postgres+uds://"])
            }
            location = .postgres(url: url)
        } else {
            location = .sqlite(path: (dir as NSString).appendingPathComponent("fengqiao.sqlite"))
        }
        var totpRoles = Set(Role.allCases.filter(\.isStaff))
        if let raw = env["FENGQIAO_TOTP_ROLES"] {
            if raw.trimmingCharacters(in: .whitespaces) == "none" {
                totpRoles = []
            } else {
                totpRoles = []
                for part in raw.split(separator: ",") {
                    let id = part.trimmingCharacters(in: .whitespaces)
                    if let r = Role(rawValue: id) { totpRoles.insert(r) } else { problems.append("FENGQIAO_TOTP_ROLES: unknown role \"\(id)\"") }
                }
            }
        }
        let keyFile = env["FENGQIAO_KEY_FILE"] ?? (dir as NSString).appendingPathComponent("keys.json")
        var ring: (keys: [String: [UInt8]], current: String, indexKey: [UInt8])?
        do { ring = try KeyFile.loadOrCreate(path: keyFile) } catch { problems.append("FENGQIAO_KEY_FILE (\(keyFile)): \(error)") }
        var cfg = AppConfig(
            dataDirectory: dir, location: location,
            poolSize: int("FENGQIAO_POOL_SIZE", 8, 1...256),
            bcryptCost: int("FENGQIAO_BCRYPT_COST", 12, 4...16),
            passwordPolicy: PasswordPolicy(
                minLength: int("FENGQIAO_PASSWORD_MIN_LENGTH", 8, 6...64),
                minClasses: int("FENGQIAO_PASSWORD_MIN_CLASSES", 3, 1...4),
                historyCount: int("FENGQIAO_PASSWORD_HISTORY", 5, 0...24)),
            lockoutPolicy: LockoutPolicy(
                maxFailures: int("FENGQIAO_LOCKOUT_FAILURES", 5, 1...100),
                lockSeconds: Double(int("FENGQIAO_LOCKOUT_MINUTES", 30, 1...1440) * 60)),
            sessionPolicy: SessionPolicy(
                idleSecondsPrivileged: Double(int("FENGQIAO_IDLE_MINUTES_PRIVILEGED", 15, 1...480) * 60),
                idleSeconds: Double(int("FENGQIAO_IDLE_MINUTES", 30, 1...480) * 60),
                absoluteSeconds: Double(int("FENGQIAO_SESSION_HOURS", 8, 1...24) * 3600)),
            totpRoles: totpRoles,
            cookieSecure: (env["FENGQIAO_COOKIE_SECURE"] ?? "true") != "false",
            keys: ring?.keys ?? [:], currentKeyID: ring?.current ?? "",
            indexKey: ring?.indexKey ?? [],
            maxBodyBytes: int("FENGQIAO_MAX_BODY_BYTES", 1 << 20, 1024...(1 << 30)),
            logLevel: env["FENGQIAO_LOG_LEVEL"] ?? "notice",
            verificationPolicy: VerificationPolicy(periodDays: int("FENGQIAO_VERIFICATION_DAYS", 90, 1...3650)))
        cfg.maxImportBytes = int("FENGQIAO_MAX_IMPORT_BYTES", 200 << 20, 1024...(1 << 40))
        cfg.importCacheMiB = int("FENGQIAO_IMPORT_CACHE_MIB", 256, 16...4096)
        cfg.maxPhotoBytes = int("FENGQIAO_MAX_PHOTO_BYTES", 10 << 20, 1024...(64 << 20))
        cfg.duplicateRadiusMetres = int("FENGQIAO_DUPLICATE_RADIUS_M", 50, 1...10_000)
        cfg.statisticsCacheSeconds = int("FENGQIAO_STATS_CACHE_SECONDS", 60, 0...86_400)
        cfg.exportApprovalHours = int("FENGQIAO_EXPORT_APPROVAL_HOURS", 24, 1...720)
        cfg.open311PublicRead = (env["FENGQIAO_OPEN311_PUBLIC_READ"] ?? "false").lowercased() == "true"
        cfg.outboxIntervalMilliseconds = int("FENGQIAO_OUTBOX_INTERVAL_MS", 1000, 0...3_600_000)
        cfg.outboxConcurrency = int("FENGQIAO_OUTBOX_CONCURRENCY", 8, 1...256)
        cfg.outboxBatch = int("FENGQIAO_OUTBOX_BATCH", 200, 1...5000)
        cfg.outboxLeaseSeconds = int("FENGQIAO_OUTBOX_LEASE_S", 60, 15...86_400)
        cfg.outboxRetry = OutboxRetryPolicy(base: Double(int("FENGQIAO_OUTBOX_RETRY_BASE_MS", 30_000, 10...3_600_000)) / 1000,
                                            cap: 3600, maxAttempts: int("FENGQIAO_OUTBOX_MAX_ATTEMPTS", 12, 1...100))
        if let raw = env["FENGQIAO_SMS_GATEWAY"]?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty {
            let text = raw.hasPrefix("{") ? raw : (try? String(contentsOfFile: raw, encoding: .utf8)) ?? ""
            do {
                cfg.smsGateway = try JSONDecoder().decode(SMSGatewayTemplate.self, from: Data(text.utf8)).validated()
            } catch {
                problems.append("FENGQIAO_SMS_GATEWAY must be a JSON SMS gateway template or a path to one (\(error))")
            }
        }
        let rulesPath = env["FENGQIAO_HAZARD_RULES"].flatMap { $0.isEmpty ? nil : $0 } ?? (dir + "/hazard-rules.json")
        if let data = FileManager.default.contents(atPath: rulesPath) {
            do { cfg.hazardRules = try HazardRules.parse(data) } catch {
                if case .invalidField(let f, let r) = error { problems.append("hazard rules \(rulesPath): \(f) \(r)") } else { problems.append("hazard rules \(rulesPath): \(error)") }
            }
        } else if let named = env["FENGQIAO_HAZARD_RULES"], !named.isEmpty {
            problems.append("FENGQIAO_HAZARD_RULES names \(named), which cannot be read")
        }
        let disputePath = env["FENGQIAO_DISPUTE_RULES"].flatMap { $0.isEmpty ? nil : $0 } ?? (dir + "/dispute-rules.json")
        if let data = FileManager.default.contents(atPath: disputePath) {
            do {
                cfg.disputeRules = try DisputeRules.parse(data)
                cfg.disputeRulesFile = disputePath
            } catch {
                if case .invalidField(let f, let r) = error { problems.append("dispute rules \(disputePath): \(f): \(r)") } else { problems.append("dispute rules \(disputePath): \(error)") }
            }
        } else if let named = env["FENGQIAO_DISPUTE_RULES"], !named.isEmpty {
            problems.append("FENGQIAO_DISPUTE_RULES names \(named), which cannot be read")
        }
        if !problems.isEmpty { throw ConfigError(problems: problems) }
        return cfg
    }

    /// The data directory in force: the option, else `FENGQIAO_DATA_DIR`, else `./data`.
    public static func resolvedDataDirectory(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        option ?? environment["FENGQIAO_DATA_DIR"] ?? "./data"
    }

    static func readDotEnv(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let l = line.trimmingCharacters(in: .whitespaces)
            guard !l.hasPrefix("#"), let eq = l.firstIndex(of: "=") else { continue }
            var v = String(l[l.index(after: eq)...]).trimmingCharacters(in: .whitespaces)
            if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            out[String(l[..<eq]).trimmingCharacters(in: .whitespaces)] = v
        }
        return out
    }
}

/// The key file: `{"current": "k1", "keys": {"k1": "<base64 32 bytes>"}, "index": "<base64>"}`.
/// Created with mode 0600 on first start; to rotate, add a key and point `current` at it.
struct KeyFile: Codable {
    var current: String
    var keys: [String: String]
    var index: String

    var keysDecoded: [String: [UInt8]] { keys.compactMapValues { Data(base64Encoded: $0).map(Array.init) } }

    static func loadOrCreate(path: String) throws -> (keys: [String: [UInt8]], current: String, indexKey: [UInt8]) {
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) {
            let kf = KeyFile(
                current: "k1", keys: ["k1": Data(FieldCipher.generateKey()).base64EncodedString()],
                index: Data(FieldCipher.generateKey()).base64EncodedString())
            let data = try JSONEncoder().encode(kf)
            guard fm.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
                throw ConfigError(problems: ["cannot create key file \(path)"])
            }
        }
        let kf = try JSONDecoder().decode(KeyFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        guard let idx = Data(base64Encoded: kf.index) else { throw ConfigError(problems: ["index key is not base64"]) }
        return (kf.keysDecoded, kf.current, Array(idx))
    }
}
