import FengqiaoCore
import FluentKit
import FluentSQLiteDriver
import Foundation
import SQLKit

/// An Open311 API key as stored (never the key itself: only its SHA-256).
public struct Open311Key: Codable, Sendable, Hashable, Identifiable {
    public var id: UUID
    /// The first characters of the key, to tell keys apart in lists.
    public var keyPrefix: String
    public var label: String
    /// The grid or community the key may report in and read.
    public var territoryID: UUID
    public var territoryLevel: ScopeLevel
    /// The account reports are filed under.
    public var accountID: UUID
    public var createdBy: UUID?
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: UUID = UUID(), keyPrefix: String, label: String, territoryID: UUID, territoryLevel: ScopeLevel, accountID: UUID,
                createdBy: UUID?, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.keyPrefix = keyPrefix
        self.label = label
        self.territoryID = territoryID
        self.territoryLevel = territoryLevel
        self.accountID = accountID
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// What an Open311 POST added to its event (never the reporter's personal data, which stays sealed).
public struct Open311RequestRow: Sendable, Hashable {
    public var eventID: UUID
    public var token: String
    public var serviceCode: String
    public var addressString: String?
    public var mediaURL: String?
    public init(eventID: UUID, token: String, serviceCode: String, addressString: String?, mediaURL: String?) {
        self.eventID = eventID
        self.token = token
        self.serviceCode = serviceCode
        self.addressString = addressString
        self.mediaURL = mediaURL
    }
}

/// A grid event with the extra columns Open311 answers need.
public struct Open311EventRow: Sendable {
    public var event: GridEvent
    public var updatedAt: Date
    public var request: Open311RequestRow?
}

/// The filters of `GET requests` (GeoReport v2), already validated.
public struct Open311Query: Sendable {
    public var ids: [UUID]?
    public var categories: [HazardCategory]?
    public var from: Date
    public var to: Date
    /// `true` = open, `false` = closed, nil = both.
    public var open: Bool?
    public var limit: Int
    public init(ids: [UUID]? = nil, categories: [HazardCategory]? = nil, from: Date, to: Date, open: Bool? = nil, limit: Int = 1000) {
        self.ids = ids
        self.categories = categories
        self.from = from
        self.to = to
        self.open = open
        self.limit = limit
    }
}

/// An open event as the map draws it (`GET /api/v1/events/map`).
public struct MapEventRow: Sendable, Equatable {
    public var id: UUID
    public var gridID: UUID
    public var category: HazardCategory
    public var state: GridEventState
    public var location: GeoPoint
    public var createdAt: Date
    /// The stored micro-degrees `location` was read from (exact decimal text for answers).
    public var latE6: Int64
    public var lonE6: Int64

    public init(id: UUID, gridID: UUID, category: HazardCategory, state: GridEventState, latE6: Int64, lonE6: Int64, createdAt: Date) {
        self.id = id
        self.gridID = gridID
        self.category = category
        self.state = state
        self.latE6 = latE6
        self.lonE6 = lonE6
        self.location = GeoPoint(lon: Double(lonE6) / 1_000_000, lat: Double(latE6) / 1_000_000)
        self.createdAt = createdAt
    }
}

/// Open311 API keys and requests, and the map's bounding-box query, through SQLKit.
public struct Open311Repository: Sendable {
    public init() {}

    static let keyColumns = ["id", "key_prefix", "label", "territory_id", "territory_level", "account_id", "created_by", "created_at", "revoked_at"]

    static func decodeKey(_ r: any SQLRow) throws -> Open311Key {
        Open311Key(
            id: try r.decode(column: "id", as: UUID.self), keyPrefix: try r.decode(column: "key_prefix", as: String.self),
            label: try r.decode(column: "label", as: String.self), territoryID: try r.decode(column: "territory_id", as: UUID.self),
            territoryLevel: ScopeLevel(rawValue: try r.decode(column: "territory_level", as: String.self)) ?? .grid,
            accountID: try r.decode(column: "account_id", as: UUID.self), createdBy: try r.decode(column: "created_by", as: UUID?.self),
            createdAt: try r.decode(column: "created_at", as: Date.self), revokedAt: try r.decode(column: "revoked_at", as: Date?.self))
    }

    public func insertKey(_ k: Open311Key, hash: String, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "open311_keys").columns(Self.keyColumns + ["key_hash"])
            .values(SQLBind(k.id), SQLBind(k.keyPrefix), SQLBind(k.label), SQLBind(k.territoryID), SQLBind(k.territoryLevel.rawValue), SQLBind(k.accountID),
                    SQLBind(k.createdBy), SQLBind(k.createdAt), SQLBind(k.revokedAt), SQLBind(hash)).run()
    }

    /// The live (not revoked) key with this hash.
    public func key(hash: String, on db: any Database) async throws -> Open311Key? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.keyColumns.map { SQLColumn($0) }).from("open311_keys")
            .where("key_hash", .equal, SQLBind(hash)).where("revoked_at", .is, SQLLiteral.null).first().map(Self.decodeKey)
    }

    public func key(_ id: UUID, on db: any Database) async throws -> Open311Key? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.keyColumns.map { SQLColumn($0) }).from("open311_keys").where("id", .equal, SQLBind(id)).first().map(Self.decodeKey)
    }

    /// Keys bound to any of `territoryIDs` (nil: all), newest first.
    public func keys(territoryIDs: [UUID]?, on db: any Database) async throws -> [Open311Key] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns(Self.keyColumns.map { SQLColumn($0) }).from("open311_keys")
        if let t = territoryIDs {
            if t.isEmpty { return [] }
            q = q.where("territory_id", .in, SQLBind.group(t))
        }
        return try await q.orderBy("created_at", .descending).limit(500).all().map(Self.decodeKey)
    }

    /// - Returns: whether a live key was revoked.
    public func revokeKey(_ id: UUID, at now: Date, on db: any Database) async throws -> Bool {
        let sql = db as! any SQLDatabase
        guard try await key(id, on: db)?.revokedAt == nil else { return false }
        try await sql.update("open311_keys").set("revoked_at", to: SQLBind(now)).where("id", .equal, SQLBind(id)).where("revoked_at", .is, SQLLiteral.null).run()
        return true
    }

    public func insertRequest(_ r: Open311RequestRow, keyID: UUID, reporterSealed: String?, on db: any Database, now: Date) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "open311_requests").columns("id", "event_id", "key_id", "token", "service_code", "address_string", "media_url", "reporter_enc", "created_at")
            .values(SQLBind(UUID()), SQLBind(r.eventID), SQLBind(keyID), SQLBind(r.token), SQLBind(r.serviceCode), SQLBind(r.addressString),
                    SQLBind(r.mediaURL), SQLBind(reporterSealed), SQLBind(now)).run()
    }

    /// The event id of a token, if the token exists.
    public func event(token: String, on db: any Database) async throws -> UUID? {
        let sql = db as! any SQLDatabase
        return try await sql.select().column("event_id").from("open311_requests").where("token", .equal, SQLBind(token)).first()?.decode(column: "event_id", as: UUID.self)
    }

    static var eventColumns: [any SQLExpression] {
        GridEventRepository.columns.map { SQLColumn($0, table: "e") as any SQLExpression }
            + [SQLColumn("updated_at", table: "e"), SQLAlias(SQLColumn("token", table: "r"), as: SQLIdentifier("o311_token")),
               SQLAlias(SQLColumn("service_code", table: "r"), as: SQLIdentifier("o311_service_code")),
               SQLAlias(SQLColumn("address_string", table: "r"), as: SQLIdentifier("o311_address")),
               SQLAlias(SQLColumn("media_url", table: "r"), as: SQLIdentifier("o311_media_url"))]
    }

    static func decodeRow(_ r: any SQLRow) throws -> Open311EventRow {
        let e = try GridEventRepository.decode(r)
        let token = try r.decode(column: "o311_token", as: String?.self)
        return Open311EventRow(
            event: e, updatedAt: try r.decode(column: "updated_at", as: Date.self),
            request: try token.map {
                Open311RequestRow(eventID: e.id, token: $0, serviceCode: try r.decode(column: "o311_service_code", as: String.self),
                                  addressString: try r.decode(column: "o311_address", as: String?.self), mediaURL: try r.decode(column: "o311_media_url", as: String?.self))
            })
    }

    /// Events (never drafts) in `gridIDs` (nil: all grids) matching the query, newest first.
    public func requests(_ q: Open311Query, gridIDs: [UUID]?, on db: any Database) async throws -> [Open311EventRow] {
        let sql = db as! any SQLDatabase
        if let g = gridIDs, g.isEmpty { return [] }
        var s = sql.select().columns(Self.eventColumns).from(SQLAlias(SQLIdentifier("grid_events"), as: SQLIdentifier("e")))
            .join(SQLAlias(SQLIdentifier("open311_requests"), as: SQLIdentifier("r")), method: SQLJoinMethod.left,
                  on: SQLColumn("event_id", table: "r"), .equal, SQLColumn("id", table: "e"))
            .where(SQLColumn("state", table: "e"), .notEqual, SQLBind(GridEventState.draft.rawValue))
        if let g = gridIDs { s = s.where(SQLColumn("grid_id", table: "e"), .in, SQLBind.group(g)) }
        if let ids = q.ids {
            if ids.isEmpty { return [] }
            s = s.where(SQLColumn("id", table: "e"), .in, SQLBind.group(ids))
        } else {
            s = s.where(SQLColumn("created_at", table: "e"), .greaterThanOrEqual, SQLBind(q.from))
                .where(SQLColumn("created_at", table: "e"), .lessThanOrEqual, SQLBind(q.to))
            if let c = q.categories, !c.isEmpty { s = s.where(SQLColumn("category", table: "e"), .in, SQLBind.group(c.map(\.rawValue))) }
            if let o = q.open {
                // `closed` in Open311 covers closed, evaluated and void; drafts are excluded above.
                s = s.where(SQLColumn("is_open", table: "e"), .equal, SQLBind(o))
            }
        }
        return try await s.orderBy(SQLOrderBy(expression: SQLColumn("created_at", table: "e"), direction: SQLDirection.descending)).limit(q.limit).all().map(Self.decodeRow)
    }

    // MARK: map

    /// Open events inside a bounding box (WGS-84 micro-degrees), in `gridIDs` (nil: all), at most
    /// `limit`. A range scan on `grid_events_map_idx (is_open, lat_e6, lon_e6, …)` (covering).
    public func openInBox(minLat: Double, minLon: Double, maxLat: Double, maxLon: Double, category: HazardCategory?, gridIDs: [UUID]?,
                          dispatchedTo: UUID? = nil, limit: Int, on db: any Database) async throws -> [MapEventRow] {
        if let g = gridIDs, g.isEmpty { return [] }
        if let lite = db as? any SQLiteDatabase {
            return try await Self.openInBoxSQLite(lite, minLat: minLat, minLon: minLon, maxLat: maxLat, maxLon: maxLon, category: category,
                                                  gridIDs: gridIDs, dispatchedTo: dispatchedTo, limit: limit)
        }
        let sql = db as! any SQLDatabase
        var s = sql.select().columns("id", "grid_id", "category", "state", "lat_e6", "lon_e6", "created_at").from("grid_events")
            .where("is_open", .equal, SQLBind(true))
            .where("lat_e6", .greaterThanOrEqual, SQLBind(GridEventRepository.e6(minLat))).where("lat_e6", .lessThanOrEqual, SQLBind(GridEventRepository.e6(maxLat)))
            .where("lon_e6", .greaterThanOrEqual, SQLBind(GridEventRepository.e6(minLon))).where("lon_e6", .lessThanOrEqual, SQLBind(GridEventRepository.e6(maxLon)))
        if let c = category { s = s.where("category", .equal, SQLBind(c.rawValue)) }
        if let g = gridIDs {
            // SQLite without ANALYZE statistics would rather seek `(grid_id, is_open, …)` and sort
            // through every open event of the grids; `+grid_id` keeps the grid test a filter so the
            // bounding box drives the index. PostgreSQL plans from its own statistics.
            let column: any SQLExpression = sql.dialect.name == "sqlite" ? SQLRaw("+\"grid_id\"") : SQLColumn("grid_id")
            s = s.where(column, .in, SQLBind.group(g))
        }
        if let d = dispatchedTo { s = s.where("dispatched_to", .equal, SQLBind(d)) }
        return try await s.limit(limit).all().map { r in
            MapEventRow(id: try r.decode(column: "id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
                        category: HazardCategory(rawValue: try r.decode(column: "category", as: String.self)) ?? .other,
                        state: GridEventState(rawValue: try r.decode(column: "state", as: String.self)) ?? .reported,
                        latE6: try r.decode(column: "lat_e6", as: Int64.self), lonE6: try r.decode(column: "lon_e6", as: Int64.self),
                        createdAt: try r.decode(column: "created_at", as: Date.self))
        }
    }

    /// `openInBox` on SQLite, through SQLiteNIO's rows (`SQLiteData`) rather than SQLKit's
    /// `Decodable` rows: with 500 rows per map answer, generic decoding and Foundation's UUID
    /// parsing were a third of the request's CPU. The same statement and index as the SQLKit
    /// path (the `+grid_id` filter keeps the bounding box driving `grid_events_map_idx`); UUIDs
    /// bind and read as their upper-case text, instants as Unix seconds (SQLiteNIO's storage).
    static func openInBoxSQLite(_ lite: any SQLiteDatabase, minLat: Double, minLon: Double, maxLat: Double, maxLon: Double, category: HazardCategory?,
                                gridIDs: [UUID]?, dispatchedTo: UUID?, limit: Int) async throws -> [MapEventRow] {
        var q = "SELECT id, grid_id, category, state, lat_e6, lon_e6, created_at FROM grid_events WHERE is_open = 1"
            + " AND lat_e6 >= ?1 AND lat_e6 <= ?2 AND lon_e6 >= ?3 AND lon_e6 <= ?4"
        func e6(_ v: Double) -> SQLiteData { .integer(SQLiteInt64(GridEventRepository.e6(v))) }
        var binds: [SQLiteData] = [e6(minLat), e6(maxLat), e6(minLon), e6(maxLon)]
        func next(_ d: SQLiteData) -> String { binds.append(d); return "?\(binds.count)" }
        if let c = category { q += " AND category = " + next(.text(c.rawValue)) }
        if let g = gridIDs { q += " AND +grid_id IN (" + g.map { next(.text($0.uuidString)) }.joined(separator: ", ") + ")" }
        if let d = dispatchedTo { q += " AND dispatched_to = " + next(.text(d.uuidString)) }
        q += " LIMIT " + next(.integer(SQLiteInt64(limit)))
        func bad(_ c: String) -> any Error { DomainError.invalidField(field: c, reason: "has an unexpected value in the database") }
        return try await lite.query(q, binds).map { r in
            guard let idText = r.column("id")?.string, let id = UUID(storedText: idText) ?? UUID(uuidString: idText) else { throw bad("id") }
            guard let gridText = r.column("grid_id")?.string, let grid = UUID(storedText: gridText) ?? UUID(uuidString: gridText) else { throw bad("grid_id") }
            guard let lat = r.column("lat_e6")?.integer, let lon = r.column("lon_e6")?.integer else { throw bad("lat_e6") }
            guard let created = r.column("created_at")?.double else { throw bad("created_at") }
            return MapEventRow(id: id, gridID: grid, category: HazardCategory(rawValue: r.column("category")?.string ?? "") ?? .other,
                               state: GridEventState(rawValue: r.column("state")?.string ?? "") ?? .reported,
                               latE6: Int64(lat), lonE6: Int64(lon), createdAt: Date(timeIntervalSince1970: created))
        }
    }

    /// The organisation names of responsible contacts, by contact account id.
    public func organisations(contactIDs: [UUID], on db: any Database) async throws -> [UUID: String] {
        guard !contactIDs.isEmpty else { return [:] }
        let sql = db as! any SQLDatabase
        var out: [UUID: String] = [:]
        for r in try await sql.select().columns("contact_id", "organisation").from("responsible_contacts").where("contact_id", .in, SQLBind.group(contactIDs)).all() {
            out[try r.decode(column: "contact_id", as: UUID.self)] = try r.decode(column: "organisation", as: String.self)
        }
        return out
    }
}
