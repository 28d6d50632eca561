import Crypto
import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Open311 GeoReport v2 (issue 5; wiki.open311.org/GeoReport_v2) over the grid events: services
/// are the hazard categories (domain spec §3.8), a service request is a grid event, and a POST
/// files a report through `HazardService` (same validation, grid placement and audit) under the
/// API key's reporting account, straight into `reported` (§4.2 `report(resident)`; a photo is
/// optional in Open311 and `media_url` is kept as a link, never fetched).
///
/// API keys are issued by an administrator (`event:configure`), each bound to one grid or
/// community and one reporting account whose own scope covers that territory. A key reads and
/// files only inside its territory; only the key's SHA-256 is stored. Reporters' personal data
/// (`first_name`, `last_name`, `email`, `phone`, `device_id`, `account_id`) is sealed with the
/// `FieldCipher` (PIPL Art. 51 encryption) and never appears in any answer.
public struct Open311Service: Sendable {
    let app: Fengqiao
    let repo = Open311Repository()

    public init(_ app: Fengqiao) { self.app = app }

    /// Longest window of `GET requests` and its default (GeoReport v2: "may not span more than 90 days").
    public static let maxWindow: TimeInterval = 90 * 86_400
    /// Most requests one `GET requests` returns (GeoReport v2: 1,000).
    public static let maxRequests = 1000

    // MARK: keys

    public struct KeyInput: Codable, Sendable {
        public var label: String?
        /// A grid or community id.
        public var territoryId: UUID?
        /// The account reports are filed under (must hold `event:report` and cover the territory).
        public var accountId: UUID?
    }

    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return Hex.lowercase((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    /// Issues a key. The key itself is returned once and never stored.
    /// - Throws: `.invalidField` naming `label`, `territoryId` (no grid or community in the caller's
    ///   territory) or `accountId` (unknown, disabled, a contact, without `event:report`, or whose
    ///   scope does not cover the territory).
    public func issueKey(_ i: KeyInput, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> (Open311Key, String) {
        let label = try FieldRules.name(i.label, field: "label", max: 100)
        guard let t = i.territoryId else { throw DomainError.invalidField(field: "territoryId", reason: "is required") }
        guard let aid = i.accountId else { throw DomainError.invalidField(field: "accountId", reason: "is required") }
        let db = app.store.db
        let level: ScopeLevel
        if (try await ifFound { try await app.territories.grid(t, visible: p.visible, on: db) }) != nil {
            level = .grid
        } else if (try await ifFound { try await app.territories.community(t, visible: p.visible, on: db) }) != nil {
            level = .community
        } else {
            throw DomainError.invalidField(field: "territoryId", reason: "no such grid or community in your territory")
        }
        guard let u = try await app.accounts.find(aid, on: db) else { throw DomainError.invalidField(field: "accountId", reason: "no such account") }
        let account = Account(u)
        guard !account.disabled else { throw DomainError.invalidField(field: "accountId", reason: "the account is disabled") }
        guard account.role != .departmentContact, account.role.permissions.contains(.eventReport) else {
            throw DomainError.invalidField(field: "accountId", reason: "the account's role (\(account.role.rawValue)) cannot report events")
        }
        let own = try await app.territories.visible(for: account.scope, on: db)
        guard own.owns(territoryID: t) else {
            throw DomainError.invalidField(field: "accountId", reason: "the account's own territory does not cover this \(level.rawValue)")
        }
        let secret = "fq311_" + Self.randomHex(32)
        let key = Open311Key(keyPrefix: String(secret.prefix(12)), label: label, territoryID: t, territoryLevel: level, accountID: aid,
                             createdBy: p.id, createdAt: now)
        try await app.store.write { [app, repo] db in
            try await repo.insertKey(key, hash: AuthService.sha256(secret), on: db)
            _ = try await app.audit.append(actor.draft(.create, objectType: "open311-key", objectID: key.id.uuidString.lowercased(),
                                                       fields: ["label", "territoryId", "accountId"], detail: "\(key.keyPrefix)… for \(level.rawValue) \(t.uuidString.lowercased())"), on: db)
        }
        return (key, secret)
    }

    /// Keys in the caller's territory.
    public func keys(principal p: Principal) async throws -> [Open311Key] {
        try await repo.keys(territoryIDs: p.visible.ownedTerritoryIDs, on: app.store.db)
    }

    /// Revokes a key of the caller's territory.
    /// - Throws: `.notFound("Open311 key")`; `.conflict("state", …)` when already revoked.
    public func revokeKey(_ id: UUID, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> Open311Key {
        guard var k = try await repo.key(id, on: app.store.db), p.visible.owns(territoryID: k.territoryID) else { throw DomainError.notFound(kind: "Open311 key") }
        let prefix = k.keyPrefix
        try await app.store.write { [app, repo] db in
            guard try await repo.revokeKey(id, at: now, on: db) else { throw DomainError.conflict(field: "state", reason: "the key is already revoked") }
            _ = try await app.audit.append(actor.draft(.delete, objectType: "open311-key", objectID: id.uuidString.lowercased(), detail: "revoked \(prefix)…"), on: db)
        }
        k.revokedAt = now
        return k
    }

    /// The live key of `secret` and the principal it acts as: the reporting account, with only
    /// `event:report` and `event:read`, seeing only the key's territory.
    /// - Returns: nil for an unknown or revoked key, a disabled account, or an account whose scope
    ///   no longer covers the key's territory.
    public func authenticate(_ secret: String) async throws -> (Open311Key, Principal)? {
        guard secret.count <= 200 else { return nil }
        let db = app.store.db
        guard let k = try await repo.key(hash: AuthService.sha256(secret), on: db), let u = try await app.accounts.find(k.accountID, on: db) else { return nil }
        let account = Account(u)
        guard !account.disabled else { return nil }
        let own = try await app.territories.visible(for: account.scope, on: db)
        guard own.owns(territoryID: k.territoryID) else { return nil }
        let visible = try await app.territories.visible(for: TerritoryScope(level: k.territoryLevel, territoryID: k.territoryID), on: db)
        let perms = account.role.permissions.intersection([.eventReport, .eventRead])
        return (k, Principal(account: account, permissions: perms, visible: visible, sessionID: nil, tokenID: k.id, fullySignedIn: true, csrfToken: nil))
    }

    // MARK: services

    /// Open311 `group` and `keywords` of each category (§3.8 names; the keywords are the common
    /// words residents use for it) [P].
    static func groupAndKeywords(_ c: HazardCategory) -> (String, String) {
        switch c {
        case .fire: ("安全隐患", "火灾隐患,消防通道,灭火器")
        case .gas: ("安全隐患", "燃气泄漏,燃气管道,煤气")
        case .buildingSafety: ("安全隐患", "危房,违建,房屋裂缝")
        case .electrical: ("安全隐患", "私拉电线,电动车充电,漏电")
        case .specialEquipment: ("安全隐患", "电梯,锅炉,起重机械")
        case .traffic: ("交通治安", "交通设施,占道,信号灯")
        case .publicOrder: ("交通治安", "治安,噪音,聚集")
        case .municipalFacility: ("市政环境", "井盖,路灯,管道")
        case .environment: ("市政环境", "垃圾,卫生,污水")
        case .foodDrug: ("市场监管", "食品安全,药品")
        case .naturalDisaster: ("应急", "滑坡,内涝,地质灾害")
        case .other: ("其他", "其他")
        }
    }

    /// The categories in use, as Open311 services.
    public var services: [HazardCategoryInfo] { HazardService(app).categories.rows.filter(\.active) }

    /// The category a `service_code` names, if in use.
    public func category(_ code: String) -> HazardCategory? {
        guard let c = HazardCategory(rawValue: code), services.contains(where: { $0.category == c }) else { return nil }
        return c
    }

    static func limitZH(_ t: TimeLimit?) -> String? {
        switch t {
        case .hours(let h): "\(h) 小时"
        case .workingDays(let d): "\(d) 个工作日"
        case nil: nil
        }
    }

    /// The time limits a new request of `c` meets (§4.2 defaults or the configured policy).
    func notice(_ c: HazardCategory, _ s: EventSeverity) -> String {
        let d = HazardService(app).deadlines
        let parts = [("核实", DeadlineStage.verify), ("处置", .handle), ("核查", .check)].compactMap { name, stage in
            Self.limitZH(d.limit(stage, category: c, severity: s)).map { "\(name) \($0)" }
        }
        return "已受理。时限：" + parts.joined(separator: "，")
    }

    // MARK: requests

    /// The fields of `POST requests` (form-encoded, GeoReport v2).
    public struct Submission: Sendable {
        public var serviceCode: String?
        public var lat: String?
        public var long: String?
        public var addressString: String?
        public var addressID: String?
        public var description: String?
        public var mediaURL: String?
        public var severity: String?
        /// Personal data of the reporter: sealed, never answered.
        public var personal: [String: String]
    }

    /// Files a request: an event in `reported` (source `resident`) with its Open311 row, audited,
    /// in one transaction.
    /// - Returns: the event and the request's token.
    /// - Throws: `.invalidField` naming the Open311 field (`service_code`, `lat/long`, `address_id`,
    ///   `description`, `media_url`, `attribute[severity]`).
    public func create(_ s: Submission, key: Open311Key, principal p: Principal, actor: Actor, now: Date = Date()) async throws -> (GridEvent, String) {
        guard p.has(.eventReport) else { throw DomainError.forbidden(reason: "the key's account cannot report events") }
        guard let code = s.serviceCode?.trimmingCharacters(in: .whitespaces), !code.isEmpty else {
            throw DomainError.invalidField(field: "service_code", reason: "is required")
        }
        guard let category = category(code) else { throw DomainError.invalidField(field: "service_code", reason: "unknown service code \(code)") }
        var severity: EventSeverity?
        if let raw = s.severity, !raw.isEmpty {
            guard let v = EventSeverity(rawValue: raw) else { throw DomainError.invalidField(field: "attribute[severity]", reason: "must be urgent, normal or complex") }
            severity = v
        }
        var location: HazardService.PointInput?
        let lat = s.lat?.trimmingCharacters(in: .whitespaces) ?? "", lon = s.long?.trimmingCharacters(in: .whitespaces) ?? ""
        if !lat.isEmpty || !lon.isEmpty {
            guard let la = Double(lat), let lo = Double(lon) else { throw DomainError.invalidField(field: "lat/long", reason: "give both lat and long as decimal degrees (WGS-84)") }
            location = .init(lon: lo, lat: la, datum: GeoDatum.wgs84.rawValue)
        }
        var building: UUID?
        if let a = s.addressID?.trimmingCharacters(in: .whitespaces), !a.isEmpty {
            guard let b = UUID(uuidString: a) else { throw DomainError.invalidField(field: "address_id", reason: "is not a building id of this service") }
            building = b
        }
        guard location != nil || building != nil else {
            throw DomainError.invalidField(field: "lat/long", reason: "give the position (lat and long, WGS-84) or an address_id (a building id); an address_string alone cannot be placed in a grid")
        }
        var text = s.description?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if text.isEmpty { text = category.nameZH }
        var media: String?
        if let m = s.mediaURL?.trimmingCharacters(in: .whitespaces), !m.isEmpty {
            guard m.count <= 500, let u = URL(string: m), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), u.host?.isEmpty == false else {
                throw DomainError.invalidField(field: "media_url", reason: "must be an http or https URL of at most 500 characters")
            }
            media = m
        }
        var address: String?
        if let a = s.addressString?.trimmingCharacters(in: .whitespacesAndNewlines), !a.isEmpty {
            guard a.count <= 300 else { throw DomainError.invalidField(field: "address_string", reason: "is longer than 300 characters") }
            address = a
        }
        let hazard = HazardService(app)
        var e: GridEvent
        do {
            e = try await hazard.newEvent(.init(category: category, severity: severity, source: .resident, description: text, buildingId: building, location: location),
                                          principal: p, now: now)
        } catch DomainError.invalidField(let f, let r) {
            let name = ["buildingId": "address_id", "location": "lat/long", "location.datum": "lat/long"][f] ?? f
            throw DomainError.invalidField(field: name, reason: .text(r.english.replacingOccurrences(of: "your territory", with: "the API key's territory")))
        }
        e.progress = try e.progress.applying(.submit)
        e.stageStartedAt = now
        let token = Self.randomHex(16)
        let personal = s.personal.filter { !$0.value.trimmingCharacters(in: .whitespaces).isEmpty }
        var sealed: String?
        if !personal.isEmpty {
            let json = try JSONSerialization.data(withJSONObject: personal, options: [.sortedKeys])
            sealed = app.cipher.seal(String(decoding: json, as: UTF8.self))
        }
        let row = Open311RequestRow(eventID: e.id, token: token, serviceCode: code, addressString: address, mediaURL: media)
        let event = e
        let (sealedReporter, placedByBuilding, mediaLink) = (sealed, building != nil, media)
        try await app.store.write { [app, repo] db in
            try await hazard.events.insert(event, on: db, now: now)
            try await repo.insertRequest(row, keyID: key.id, reporterSealed: sealedReporter, on: db, now: now)
            _ = try await app.audit.append(actor.draft(
                .create, objectType: "event", objectID: event.id.uuidString.lowercased(),
                fields: ["category", "severity", "description", placedByBuilding ? "buildingId" : "location"] + (personal.isEmpty ? [] : ["reporter"]),
                detail: "open311 \(code) via key \(key.keyPrefix)…; submitted: draft → reported" + (mediaLink == nil ? "" : "; media_url kept as a link")), on: db)
        }
        return (event, token)
    }

    /// The requests `gridIDs` (nil: all) may read, filtered.
    public func requests(_ q: Open311Query, gridIDs: [UUID]?) async throws -> [Open311EventRow] {
        try await repo.requests(q, gridIDs: gridIDs, on: app.store.db)
    }

    /// The event id of a token in `gridIDs`, if any.
    public func request(token: String, gridIDs: [UUID]?) async throws -> Open311EventRow? {
        guard token.count <= 64, let id = try await repo.event(token: token, on: app.store.db) else { return nil }
        return try await repo.requests(Open311Query(ids: [id], from: .distantPast, to: .distantFuture), gridIDs: gridIDs, on: app.store.db).first
    }

    /// Names for answers: the organisation of each dispatched contact, the community and building
    /// of each event (cached per call).
    public struct Names: Sendable {
        public var organisations: [UUID: String] = [:]
        public var communities: [UUID: String] = [:]
        public var buildings: [UUID: Building] = [:]
    }

    public func names(for rows: [Open311EventRow]) async throws -> Names {
        let db = app.store.db
        var n = Names()
        n.organisations = try await repo.organisations(contactIDs: Array(Set(rows.compactMap(\.event.progress.dispatchedTo))), on: db)
        for c in Set(rows.map(\.event.communityID)) {
            n.communities[c] = try await ifFound { try await app.territories.community(c, visible: .everything, on: db) }?.name
        }
        for b in Set(rows.compactMap(\.event.buildingID)) {
            n.buildings[b] = try await ifFound { try await app.territories.building(b, visible: .everything, on: db) }
        }
        return n
    }

    /// `open` for the states that still need work, `closed` for closed, evaluated and void (§4.2).
    public static func status(_ s: GridEventState) -> String { s.isOpen ? "open" : "closed" }

    /// The state in the office's words, with the whistle, failed checks, overdue and void reason.
    public func statusNotes(_ e: GridEvent, overdue: Bool) -> String {
        var s = e.progress.state.nameZH
        switch e.progress.state {
        case .void:
            let r: String
            switch e.progress.voidReason {
            case .duplicate: r = "重复上报"
            case .outOfScope: r = "不属于受理范围"
            case .falseReport: r = "经核实不属实"
            case nil: r = ""
            }
            if !r.isEmpty { s += "（\(r)）" }
        case .dispatched:
            if let w = e.progress.whistleReason { s += "（吹哨：\(w.nameZH)）" }
        case .evaluated:
            if let sat = e.progress.satisfaction { s += "（满意度 \(sat)/5）" }
        default: break
        }
        if e.progress.reopenCount > 0, e.progress.state.isOpen { s += "；核查未通过 \(e.progress.reopenCount) 次" }
        if overdue { s += "；已超期" }
        return s
    }
}
