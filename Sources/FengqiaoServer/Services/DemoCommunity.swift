import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Loads a demo community shaped like the reference one (仪凤社区, 凤麓街道, 澄江市): 13 residential
/// groups split into 20 grids, buildings, officers, grid workers, mediators, a governance-centre
/// user, property contacts, a hotel operator and 300 volunteer patrollers.
///
/// So that the whistle (吹哨报到, domain spec §4.2–4.3) works at once, each of the four property
/// contacts speaks for a property company (演示物业一…四) that manages the estates of five grids:
/// contact *n* is the responsible contact in grids 5n−4…5n for the categories a property company
/// handles (`propertyCategories`: 市政设施 such as 井盖 and 路灯 inside the estate, 房屋安全,
/// 消防, 特种设备 such as lifts, 环境卫生; §3.8). One subsidy tariff row per case type (§4.4,
/// amounts [P]) lets a closed case be claimed and approved. A webhook announcing the whistles is
/// optional (`Webhook`).
///
/// Division codes are real (澄江市 `530481`, 凤麓街道 `530481001`, domain spec §2.2); the
/// community's own 12-digit code is unknown and left empty, so grid codes use the local form
/// `530481001-YF-NN`. People are synthetic and named as such (演示…).
public struct DemoCommunity: Sendable {
    let app: Fengqiao

    public init(_ app: Fengqiao) { self.app = app }

    /// A signed-in account the demo prints once.
    public struct Credential: Sendable {
        public var username: String
        public var role: Role
        public var password: String
        public var totpSecret: String?
    }

    public struct Result: Sendable {
        public var communityID: UUID
        public var grids: Int
        public var buildings: Int
        public var accounts: Int
        public var credentials: [Credential]
    }

    /// A generic HMAC-signed JSON webhook set on every demo property mapping (`fengqiao demo
    /// --webhook-url`, or `FENGQIAO_DEMO_WEBHOOK_URL`): the whistles to the demo property contacts
    /// are posted there through the notification outbox.
    public struct Webhook: Sendable {
        public var url: String
        /// The shared secret (at least 16 characters); stored encrypted.
        public var secret: String
        public init(url: String, secret: String) {
            self.url = url
            self.secret = secret
        }
    }

    /// The categories a property company (物业) answers for in its estates (§3.8 project categories).
    public static let propertyCategories: [HazardCategory] = [.municipalFacility, .buildingSafety, .fire, .specialEquipment, .environment]

    /// The demo tariff (§4.4 [P]): 50.00 yuan per closed event, 100.00 yuan per resolved dispute,
    /// effective from 2020-01-01.
    public static let tariff: [SubsidyTariffEntry] = [
        SubsidyTariffEntry(caseType: .event, effectiveFrom: CalendarDate(iso: "2020-01-01")!, amountFen: 5000),
        SubsidyTariffEntry(caseType: .dispute, effectiveFrom: CalendarDate(iso: "2020-01-01")!, amountFen: 10000),
    ]

    public enum Failure: Error, CustomStringConvertible {
        case alreadyLoaded
        case badWebhook(String)
        public var description: String {
            switch self {
            case .alreadyLoaded: "the demo community is already loaded"
            case .badWebhook(let why): "webhook: \(why)"
            }
        }
    }

    static let divisions: [(String, String, String, String?)] = [
        ("530000", "云南省", "province", nil),
        ("530400", "玉溪市", "prefecture", "530000"),
        ("530481", "澄江市", "county", "530400"),
        ("530481001", "凤麓街道", "township", "530481"),
        ("530481002", "龙街街道", "township", "530481"),
        ("530481100", "阳宗镇", "township", "530481"),
        ("530481101", "右所镇", "township", "530481"),
        ("530481102", "海口镇", "township", "530481"),
        ("530481103", "九村镇", "township", "530481"),
    ]

    static let numerals = ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三"]

    /// - Parameter loginRoles: roles whose demo accounts get a password (printed once); the
    ///   300 volunteers get none and sign in only after a password reset.
    /// - Parameter webhook: announces the whistles to the demo property contacts (optional).
    /// - Throws: `Failure.alreadyLoaded`; `Failure.badWebhook` for a URL that is not http(s) or a
    ///   secret shorter than 16 characters.
    public func load(actor: Actor, webhook: Webhook? = nil) async throws -> Result {
        let db = app.store.db
        if let w = webhook {
            guard w.url.count <= 500, let u = URL(string: w.url), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), u.host?.isEmpty == false else {
                throw Failure.badWebhook("\(w.url) is not an http or https URL")
            }
            guard w.secret.count >= 16 else { throw Failure.badWebhook("the shared secret needs at least 16 characters") }
        }
        if try await CommunityModel.query(on: db).filter(\.$name == "仪凤社区（演示）").count() > 0 { throw Failure.alreadyLoaded }
        let stationID = UUID(), communityID = UUID()
        var groups: [ResidentialGroup] = []
        var grids: [Grid] = []
        var buildings: [Building] = []
        var addresses: [StandardAddress] = []
        for i in 0..<13 {
            groups.append(ResidentialGroup(communityID: communityID, name: "第\(Self.numerals[i])居民小组", sequence: i + 1))
        }
        // A 5 × 4 layout of slightly irregular cells around 102.908°E, 24.672°N (WGS-84).
        let lon0 = 102.900, lat0 = 24.680, dx = 0.0042, dy = 0.0036
        func jitter(_ a: Int, _ b: Int) -> (Double, Double) {
            let h = (a * 73 + b * 151) % 17
            return (Double(h - 8) * 0.00012, Double((h * 7) % 17 - 8) * 0.0001)
        }
        func corner(_ c: Int, _ r: Int) -> GeoPoint {
            let edge = c == 0 || r == 0 || c == 5 || r == 4
            let (jx, jy) = edge ? (0, 0) : jitter(c, r)
            return GeoPoint(lon: lon0 + Double(c) * dx + jx, lat: lat0 - Double(r) * dy + jy).rounded
        }
        for n in 0..<20 {
            let col = n % 5, row = n / 5
            let group = n < 14 ? n / 2 : n - 7
            let ring = [corner(col, row), corner(col + 1, row), corner(col + 1, row + 1), corner(col, row + 1)]
            let g = Grid(
                communityID: communityID, residentialGroupID: groups[group].id, code: String(format: "530481001-YF-%02d", n + 1),
                name: "第\(n + 1)网格", kind: .basic, polygon: GeoPolygon(datum: .wgs84, ring: ring))
            grids.append(g)
            for b in 0..<(3 + n % 4) {
                let c = g.polygon!.centroid
                let building = Building(
                    gridID: g.id, name: "\(n + 1)-\(b + 1)栋", address: "澄江市凤麓街道演示路\(n * 10 + b + 1)号", floors: 3 + (n + b) % 9,
                    location: GeoPoint(lon: c.lon + Double(b) * 0.0003, lat: c.lat - Double(b) * 0.0002).rounded)
                buildings.append(building)
                // Its standard addresses (GA/T 2000.32 order: street, doorplate, building, unit,
                // floor, room): two units, floors 1–2, rooms 01–02, so incidents and residents can
                // be placed at an address at once (a repeat call from one address is linked, §3.7.3).
                for unit in 1...2 {
                    for floor in 1...2 {
                        for room in 1...2 {
                            addresses.append(StandardAddress(
                                street: "演示路", doorplate: "\(n * 10 + b + 1)号", building: "\(n + 1)-\(b + 1)栋",
                                unit: "\(unit)单元", floor: "\(floor)", room: "\(floor)0\(room)", gridID: g.id, buildingID: building.id))
                        }
                    }
                }
            }
        }
        let station = PoliceStation(id: stationID, name: "凤麓派出所（演示）", divisionCode: "530481001", address: "澄江市凤麓街道")
        let community = Community(id: communityID, stationID: stationID, name: "仪凤社区（演示）", townshipCode: "530481001", divisionCode12: nil)

        // Accounts. Staff with a password get a TOTP secret too, printed once, so the demo can be
        // tried at once (e.g. `oathtool --totp -b SECRET`).
        struct Plan { var username: String; var name: String; var role: Role; var scope: TerritoryScope; var login: Bool }
        var plans: [Plan] = [
            Plan(username: "demo-leader", name: "演示所长", role: .stationLeader, scope: TerritoryScope(level: .station, territoryID: stationID), login: true),
            Plan(username: "demo-officer", name: "演示民警", role: .communityPoliceOfficer, scope: TerritoryScope(level: .community, territoryID: communityID), login: true),
            Plan(username: "demo-governance", name: "演示综治中心", role: .governanceCenterStaff, scope: TerritoryScope(level: .community, territoryID: communityID), login: true),
        ]
        for (i, g) in grids.enumerated() {
            plans.append(Plan(username: String(format: "demo-grid%02d", i + 1), name: String(format: "演示网格员%02d", i + 1), role: .gridWorker, scope: TerritoryScope(level: .grid, territoryID: g.id), login: i < 2))
        }
        for i in 1...3 {
            plans.append(Plan(username: "demo-mediator\(i)", name: "演示调解员\(i)", role: .mediator, scope: TerritoryScope(level: .community, territoryID: communityID), login: i == 1))
        }
        for i in 1...4 {
            plans.append(Plan(username: "demo-property\(i)", name: "演示物业联系人\(i)", role: .departmentContact, scope: TerritoryScope(level: .community, territoryID: communityID), login: i == 1))
        }
        plans.append(Plan(username: "demo-hotel1", name: "演示旅馆经营者", role: .hotelOperator, scope: TerritoryScope(level: .community, territoryID: communityID), login: true))
        for i in 1...300 {
            plans.append(Plan(username: String(format: "demo-vol%03d", i), name: String(format: "演示志愿者%03d", i), role: .volunteer, scope: TerritoryScope(level: .grid, territoryID: grids[(i - 1) % 20].id), login: i == 1))
        }

        var credentials: [Credential] = []
        var hashed: [(Plan, String?, String?)] = []
        for p in plans {
            if p.login {
                let pw = AccountService.temporaryPassword()
                let secret = app.config.totpRoles.contains(p.role) ? Base32.encode(TOTP.generateSecret()) : nil
                credentials.append(Credential(username: p.username, role: p.role, password: pw, totpSecret: secret))
                hashed.append((p, try await app.passwords.hash(pw), secret))
            } else {
                hashed.append((p, nil, nil))
            }
        }
        let cipher = app.cipher
        let toSave = (station, community, groups, grids, buildings)
        let demoAddresses = addresses
        let entries = hashed
        let gridIDs = grids.map(\.id)
        let hook = webhook.map { ($0.url, cipher.seal($0.secret)) }
        let repo = GridEventRepository()
        try await app.store.write { [app] db in
            for (code, name, level, parent) in Self.divisions {
                try await app.territories.saveDivision(code: code, name: name, level: level, parent: parent, on: db)
            }
            try await app.territories.save(toSave.0, on: db)
            try await app.territories.save(toSave.1, on: db)
            for g in toSave.2 { try await app.territories.save(g, on: db) }
            for g in toSave.3 { try await app.territories.save(g, on: db) }
            for b in toSave.4 { try await app.territories.save(b, on: db) }
            let created = try await app.audit.append(actor.draft(.create, objectType: "address", fields: ["street", "doorplate", "building", "unit", "floor", "room"],
                                                                 detail: "demo community: \(demoAddresses.count) standard addresses"), on: db)
            try await AddressRepository().insert(demoAddresses, createdAuditSeq: created.seq, on: db)
            var property: [Int: UUID] = [:]
            for (p, hash, secret) in entries {
                let u = try await app.accounts.create(username: p.username, displayName: p.name, role: p.role, scope: p.scope, passwordHash: hash, mustChangePassword: false, on: db)
                if let secret {
                    u.totpSecret = cipher.seal(secret)
                    u.totpEnabled = true
                    try await u.save(on: db)
                }
                if p.role == .departmentContact, let n = Int(p.username.dropFirst("demo-property".count)) { property[n] = try u.requireID() }
            }
            // Responsible contacts: property company n manages the estates of grids 5n−4…5n.
            var mapped = 0
            for (i, gid) in gridIDs.enumerated() {
                let n = i / 5 + 1
                guard let contact = property[n] else { continue }
                for c in Self.propertyCategories {
                    let row = ResponsibleContact(category: c, territoryID: gid, contactID: contact, organisation: "演示物业\(Self.numerals[n - 1])公司", webhookURL: hook?.0)
                    try await repo.addContact(row, secretSealed: hook?.1, on: db)
                    mapped += 1
                }
            }
            for t in Self.tariff { try await repo.addTariff(t, on: db) }
            _ = try await app.audit.append(actor.draft(.create, objectType: "community", objectID: communityID.uuidString.lowercased(), detail: "demo community loaded: 13 groups, 20 grids, \(toSave.4.count) buildings, \(demoAddresses.count) standard addresses, \(entries.count) accounts, \(mapped) responsible-contact mappings\(hook == nil ? "" : " with a webhook"), \(Self.tariff.count) subsidy tariff rows"), on: db)
        }
        return Result(communityID: communityID, grids: grids.count, buildings: buildings.count, accounts: plans.count, credentials: credentials)
    }
}
