import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// A photo row of an event (the bytes live in the content-addressed photo store).
public struct EventPhotoRow: Codable, Sendable, Hashable {
    public enum Stage: String, Codable, Sendable { case report, result }
    public var sha256: String
    public var format: PhotoFormat
    public var byteCount: Int
    public var stage: Stage
    public var uploadedBy: UUID
    public var createdAt: Date
    public init(sha256: String, format: PhotoFormat, byteCount: Int, stage: Stage, uploadedBy: UUID, createdAt: Date) {
        self.sha256 = sha256
        self.format = format
        self.byteCount = byteCount
        self.stage = stage
        self.uploadedBy = uploadedBy
        self.createdAt = createdAt
    }
}

/// One row of the responsible-contact mapping.
public struct ResponsibleContact: Codable, Sendable, Hashable, Identifiable {
    public var id: UUID
    public var category: HazardCategory
    /// A grid or community id.
    public var territoryID: UUID
    public var contactID: UUID
    /// The property company or department the contact speaks for.
    public var organisation: String
    /// Where the whistle is announced (generic HMAC-signed JSON webhook), if anywhere.
    public var webhookURL: String?
    public init(id: UUID = UUID(), category: HazardCategory, territoryID: UUID, contactID: UUID, organisation: String, webhookURL: String? = nil) {
        self.id = id
        self.webhookURL = webhookURL
        self.category = category
        self.territoryID = territoryID
        self.contactID = contactID
        self.organisation = organisation
    }
}

/// Reads and writes grid events, their photos, the responsible-contact mapping and the subsidy
/// ledger through SQLKit. Reads are filtered by what the caller may see: staff by the grids of
/// their scope, a department/property contact (`contactID`) only by events dispatched to them.
public struct GridEventRepository: Sendable {
    public init() {}

    /// Who is looking: grids of the scope, or a contact seeing only what is dispatched to them.
    public struct Viewer: Sendable {
        public var visible: VisibleTerritory
        /// Set for a department/property contact.
        public var contactID: UUID?
        public init(visible: VisibleTerritory, contactID: UUID? = nil) {
            self.visible = visible
            self.contactID = contactID
        }
        public func canSee(_ e: GridEvent) -> Bool {
            if let c = contactID { return e.progress.dispatchedTo == c }
            return visible.canSee(grid: e.gridID)
        }
    }

    static let columns = [
        "id", "grid_id", "community_id", "building_id", "lat_e6", "lon_e6", "category", "severity", "source", "description", "state", "is_open",
        "reporter_id", "dispatched_to", "whistle_reason", "whistled", "handler_id", "reopen_count", "return_count", "void_reason", "check_passed",
        "satisfaction", "stage_started_at", "closed_at", "created_at",
    ]

    static func e6(_ v: Double) -> Int64 { Int64((v * 1_000_000).rounded()) }

    private func values(_ e: GridEvent) -> [any SQLExpression] {
        let p = e.progress
        return [
            SQLBind(e.id), SQLBind(e.gridID), SQLBind(e.communityID), SQLBind(e.buildingID), SQLBind(e.location.map { Self.e6($0.lat) }),
            SQLBind(e.location.map { Self.e6($0.lon) }), SQLBind(p.category.rawValue), SQLBind(p.severity.rawValue), SQLBind(e.source.rawValue),
            SQLBind(e.description), SQLBind(p.state.rawValue), SQLBind(p.state.isOpen), SQLBind(e.reporterID), SQLBind(p.dispatchedTo),
            SQLBind(p.whistleReason?.rawValue), SQLBind(p.whistled), SQLBind(p.handler), SQLBind(p.reopenCount), SQLBind(p.returnCount),
            SQLBind(p.voidReason?.rawValue), SQLBind(p.checkPassed), SQLBind(p.satisfaction), SQLBind(e.stageStartedAt), SQLBind(e.closedAt),
            SQLBind(e.createdAt),
        ]
    }

    public func insert(_ e: GridEvent, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "grid_events").columns(Self.columns + ["updated_at"]).values(values(e) + [SQLBind(now)]).run()
    }

    /// Writes the progress and timers of an existing event.
    public func update(_ e: GridEvent, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        var q = sql.update("grid_events")
        for (c, v) in zip(Self.columns, values(e)) where c != "id" { q = q.set(SQLColumn(c), to: v) }
        try await q.set(SQLColumn("updated_at"), to: SQLBind(now)).where("id", .equal, SQLBind(e.id)).run()
    }

    static func decode(_ r: any SQLRow) throws -> GridEvent {
        func s(_ c: String) throws -> String { try r.decode(column: c, as: String.self) }
        func os(_ c: String) throws -> String? { try r.decode(column: c, as: String?.self) }
        var p = GridEventProgress(
            state: GridEventState(rawValue: try s("state")) ?? .reported, category: HazardCategory(rawValue: try s("category")) ?? .other,
            severity: EventSeverity(rawValue: try s("severity")) ?? .normal)
        p.dispatchedTo = try r.decode(column: "dispatched_to", as: UUID?.self)
        p.whistleReason = try os("whistle_reason").flatMap(WhistleReason.init(rawValue:))
        p.whistled = try r.decode(column: "whistled", as: Bool.self)
        p.handler = try r.decode(column: "handler_id", as: UUID?.self)
        p.reopenCount = try r.decode(column: "reopen_count", as: Int.self)
        p.returnCount = try r.decode(column: "return_count", as: Int.self)
        p.voidReason = try os("void_reason").flatMap(VoidReason.init(rawValue:))
        p.checkPassed = try r.decode(column: "check_passed", as: Bool.self)
        p.satisfaction = try r.decode(column: "satisfaction", as: Int?.self)
        let lat = try r.decode(column: "lat_e6", as: Int64?.self), lon = try r.decode(column: "lon_e6", as: Int64?.self)
        return GridEvent(
            id: try r.decode(column: "id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
            communityID: try r.decode(column: "community_id", as: UUID.self), buildingID: try r.decode(column: "building_id", as: UUID?.self),
            location: lat.flatMap { la in lon.map { GeoPoint(lon: Double($0) / 1_000_000, lat: Double(la) / 1_000_000) } },
            source: EventSource(rawValue: try s("source")) ?? .gridWorker, description: try s("description"),
            reporterID: try r.decode(column: "reporter_id", as: UUID.self), progress: p,
            stageStartedAt: try r.decode(column: "stage_started_at", as: Date.self), closedAt: try r.decode(column: "closed_at", as: Date?.self),
            createdAt: try r.decode(column: "created_at", as: Date.self))
    }

    /// The event, if it exists and the viewer may see it.
    /// - Throws: `DomainError.notFound("event")` otherwise (a scope never reveals that it exists).
    public func find(_ id: UUID, viewer: Viewer, forUpdate: Bool = false, on db: any Database) async throws -> GridEvent {
        let sql = db as! any SQLDatabase
        let lock: any SQLExpression = forUpdate && sql.dialect.name == "postgresql" ? SQLRaw(" FOR UPDATE") : SQLRaw("")
        guard let row = try await sql.raw("SELECT \(SQLList(Self.columns.map { SQLColumn($0) })) FROM grid_events WHERE id = \(bind: id)\(lock)").first()
        else { throw DomainError.notFound(kind: "event") }
        let e = try Self.decode(row)
        guard viewer.canSee(e) else { throw DomainError.notFound(kind: "event") }
        return e
    }

    /// Events the viewer may see, newest first, optionally only open ones or one state.
    public func list(viewer: Viewer, state: GridEventState? = nil, openOnly: Bool = false, limit: Int = 100, offset: Int = 0, on db: any Database) async throws -> [GridEvent] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns(Self.columns.map { SQLColumn($0) }).from("grid_events")
        if let c = viewer.contactID {
            q = q.where("dispatched_to", .equal, SQLBind(c))
        } else if let g = viewer.visible.gridIDs {
            if g.isEmpty { return [] }
            q = q.where("grid_id", .in, SQLBind.group(Array(g)))
        }
        if let state { q = q.where("state", .equal, SQLBind(state.rawValue)) }
        if openOnly { q = q.where("is_open", .equal, SQLBind(true)) }
        let rows = try await q.orderBy("created_at", .descending).limit(limit).offset(offset).all()
        return try rows.map(Self.decode)
    }

    /// Open events of `category` at the same building or within `radiusMetres` of `point`, other than
    /// `excluding`. Uses the `(category, is_open, lat_e6, lon_e6)` (M0028) and
    /// `(building_id, category, is_open)` indexes: a latitude band whose longitudes are tested in
    /// the index, then an exact distance check on the few rows read; never a table scan.
    public func nearbyOpen(category: HazardCategory, buildingID: UUID?, point: GeoPoint?, radiusMetres: Double, excluding: UUID?, limit: Int = 20, on db: any Database) async throws -> [GridEvent] {
        let sql = db as! any SQLDatabase
        var found: [UUID: GridEvent] = [:]
        if let b = buildingID {
            let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("grid_events")
                .where("building_id", .equal, SQLBind(b)).where("category", .equal, SQLBind(category.rawValue)).where("is_open", .equal, SQLBind(true))
                .limit(limit).all()
            for r in rows { let e = try Self.decode(r); found[e.id] = e }
        }
        if let p = point {
            let dLat = radiusMetres / 111_195.0
            let dLon = radiusMetres / (111_195.0 * max(cos(p.lat * .pi / 180), 0.01))
            let rows = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("grid_events")
                .where("category", .equal, SQLBind(category.rawValue)).where("is_open", .equal, SQLBind(true))
                .where("lat_e6", .greaterThanOrEqual, SQLBind(Self.e6(p.lat - dLat))).where("lat_e6", .lessThanOrEqual, SQLBind(Self.e6(p.lat + dLat)))
                .where("lon_e6", .greaterThanOrEqual, SQLBind(Self.e6(p.lon - dLon))).where("lon_e6", .lessThanOrEqual, SQLBind(Self.e6(p.lon + dLon)))
                .limit(limit * 5).all()
            for r in rows {
                let e = try Self.decode(r)
                if let l = e.location, distanceMetres(l, p) <= radiusMetres { found[e.id] = e }
            }
        }
        if let x = excluding { found[x] = nil }
        return found.values.sorted { $0.createdAt > $1.createdAt }.prefix(limit).map { $0 }
    }

    // MARK: photos

    public func addPhoto(eventID: UUID, _ p: CheckedPhoto, stage: EventPhotoRow.Stage, by: UUID, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        let exists = try await sql.select().column("id").from("event_photos").where("event_id", .equal, SQLBind(eventID))
            .where("sha256", .equal, SQLBind(p.sha256)).first()
        guard exists == nil else { return }
        try await sql.insert(into: "event_photos").columns("id", "event_id", "sha256", "format", "byte_count", "stage", "uploaded_by", "created_at")
            .values(SQLBind(UUID()), SQLBind(eventID), SQLBind(p.sha256), SQLBind(p.format.rawValue), SQLBind(Int64(p.byteCount)),
                    SQLBind(stage.rawValue), SQLBind(by), SQLBind(now)).run()
    }

    public func photos(eventID: UUID, on db: any Database) async throws -> [EventPhotoRow] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("sha256", "format", "byte_count", "stage", "uploaded_by", "created_at").from("event_photos")
            .where("event_id", .equal, SQLBind(eventID)).orderBy("created_at").all()
        return try rows.map {
            EventPhotoRow(sha256: try $0.decode(column: "sha256", as: String.self), format: PhotoFormat(rawValue: try $0.decode(column: "format", as: String.self)) ?? .jpeg,
                          byteCount: Int(try $0.decode(column: "byte_count", as: Int64.self)),
                          stage: EventPhotoRow.Stage(rawValue: try $0.decode(column: "stage", as: String.self)) ?? .report,
                          uploadedBy: try $0.decode(column: "uploaded_by", as: UUID.self), createdAt: try $0.decode(column: "created_at", as: Date.self))
        }
    }

    // MARK: responsible contacts

    /// - Parameter secretSealed: the webhook's HMAC secret, sealed with the `FieldCipher`.
    public func addContact(_ c: ResponsibleContact, secretSealed: String? = nil, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "responsible_contacts").columns("id", "category", "territory_id", "contact_id", "organisation", "webhook_url", "webhook_secret_enc", "created_at")
            .values(SQLBind(c.id), SQLBind(c.category.rawValue), SQLBind(c.territoryID), SQLBind(c.contactID), SQLBind(c.organisation),
                    SQLBind(c.webhookURL), SQLBind(secretSealed), SQLBind(now)).run()
    }

    /// The webhooks (URL, sealed secret) of the mapping rows of `contactID` for a category in any of
    /// `territoryIDs`, one per URL.
    public func webhooks(contactID: UUID, category: HazardCategory, territoryIDs: [UUID], on db: any Database) async throws -> [(url: String, secretSealed: String?)] {
        guard !territoryIDs.isEmpty else { return [] }
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("webhook_url", "webhook_secret_enc").from("responsible_contacts")
            .where("contact_id", .equal, SQLBind(contactID)).where("category", .equal, SQLBind(category.rawValue))
            .where("territory_id", .in, SQLBind.group(territoryIDs)).all()
        var seen = Set<String>()
        var out: [(url: String, secretSealed: String?)] = []
        for r in rows {
            guard let u = try r.decode(column: "webhook_url", as: String?.self), seen.insert(u).inserted else { continue }
            out.append((u, try r.decode(column: "webhook_secret_enc", as: String?.self)))
        }
        return out
    }

    public func deleteContact(_ id: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.delete(from: "responsible_contacts").where("id", .equal, SQLBind(id)).run()
    }

    /// Mapping rows for any of `territoryIDs` (and optionally one category).
    public func contacts(territoryIDs: [UUID], category: HazardCategory? = nil, on db: any Database) async throws -> [ResponsibleContact] {
        guard !territoryIDs.isEmpty else { return [] }
        let sql = db as! any SQLDatabase
        var q = sql.select().columns("id", "category", "territory_id", "contact_id", "organisation", "webhook_url").from("responsible_contacts")
            .where("territory_id", .in, SQLBind.group(territoryIDs))
        if let category { q = q.where("category", .equal, SQLBind(category.rawValue)) }
        return try await q.orderBy("created_at").all().map {
            ResponsibleContact(id: try $0.decode(column: "id", as: UUID.self), category: HazardCategory(rawValue: try $0.decode(column: "category", as: String.self)) ?? .other,
                               territoryID: try $0.decode(column: "territory_id", as: UUID.self), contactID: try $0.decode(column: "contact_id", as: UUID.self),
                               organisation: try $0.decode(column: "organisation", as: String.self), webhookURL: try $0.decode(column: "webhook_url", as: String?.self))
        }
    }

    public func contact(_ id: UUID, on db: any Database) async throws -> ResponsibleContact? {
        let sql = db as! any SQLDatabase
        guard let r = try await sql.select().columns("territory_id").from("responsible_contacts").where("id", .equal, SQLBind(id)).first() else { return nil }
        return try await contacts(territoryIDs: [try r.decode(column: "territory_id", as: UUID.self)], on: db).first { $0.id == id }
    }

    // MARK: subsidies

    public func addTariff(_ t: SubsidyTariffEntry, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "subsidy_tariffs").columns("id", "case_type", "category", "effective_from", "amount_fen", "created_at")
            .values(SQLBind(UUID()), SQLBind(t.caseType.rawValue), SQLBind(t.category), SQLBind(t.effectiveFrom.description), SQLBind(Int64(t.amountFen)), SQLBind(now)).run()
    }

    public func tariff(on db: any Database) async throws -> SubsidyTariff {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().columns("case_type", "category", "effective_from", "amount_fen").from("subsidy_tariffs").orderBy("effective_from").all()
        return SubsidyTariff(entries: try rows.compactMap { r in
            guard let t = SubsidyCaseType(rawValue: try r.decode(column: "case_type", as: String.self)),
                  let d = CalendarDate(iso: try r.decode(column: "effective_from", as: String.self)) else { return nil }
            return SubsidyTariffEntry(caseType: t, category: try r.decode(column: "category", as: String?.self), effectiveFrom: d,
                                      amountFen: Int(try r.decode(column: "amount_fen", as: Int64.self)))
        })
    }

    static let claimColumns = ["id", "case_type", "case_id", "grid_id", "claimant_id", "state", "reviewer_id", "amount_fen", "review_note"]

    static func decodeClaim(_ r: any SQLRow) throws -> (SubsidyClaim, UUID) {
        (SubsidyClaim(
            id: try r.decode(column: "id", as: UUID.self), caseType: SubsidyCaseType(rawValue: try r.decode(column: "case_type", as: String.self)) ?? .event,
            caseID: try r.decode(column: "case_id", as: UUID.self), claimantID: try r.decode(column: "claimant_id", as: UUID.self),
            state: SubsidyState(rawValue: try r.decode(column: "state", as: String.self)) ?? .claimed, reviewerID: try r.decode(column: "reviewer_id", as: UUID?.self),
            amountFen: try r.decode(column: "amount_fen", as: Int64?.self).map(Int.init), reviewNote: try r.decode(column: "review_note", as: String?.self)),
         try r.decode(column: "grid_id", as: UUID.self))
    }

    /// Serialises claims for one case until the transaction ends, so two concurrent claims cannot
    /// both pass the one-per-case check (the unique index is the last line of defence). SQLite needs
    /// nothing (`BEGIN IMMEDIATE`); on PostgreSQL a transaction-scoped advisory lock (class 18005).
    public func lockCase(_ caseID: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(18005, hashtext(\(bind: caseID.uuidString.lowercased())))").run()
    }

    /// The claim recorded for a case, if any (in any territory: the uniqueness check).
    public func claim(caseType: SubsidyCaseType, caseID: UUID, on db: any Database) async throws -> SubsidyClaim? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.claimColumns.map { SQLColumn($0) }).from("subsidy_claims")
            .where("case_type", .equal, SQLBind(caseType.rawValue)).where("case_id", .equal, SQLBind(caseID)).first().map { try Self.decodeClaim($0).0 }
    }

    /// A claim in a visible grid.
    /// - Throws: `.notFound("subsidy claim")` otherwise.
    public func claim(_ id: UUID, visible: VisibleTerritory, on db: any Database) async throws -> SubsidyClaim {
        let sql = db as! any SQLDatabase
        guard let r = try await sql.select().columns(Self.claimColumns.map { SQLColumn($0) }).from("subsidy_claims").where("id", .equal, SQLBind(id)).first()
        else { throw DomainError.notFound(kind: "subsidy claim") }
        let (c, grid) = try Self.decodeClaim(r)
        guard visible.canSee(grid: grid) else { throw DomainError.notFound(kind: "subsidy claim") }
        return c
    }

    public func insertClaim(_ c: SubsidyClaim, gridID: UUID, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "subsidy_claims").columns(Self.claimColumns + ["created_at"])
            .values(SQLBind(c.id), SQLBind(c.caseType.rawValue), SQLBind(c.caseID), SQLBind(gridID), SQLBind(c.claimantID), SQLBind(c.state.rawValue),
                    SQLBind(c.reviewerID), SQLBind(c.amountFen.map { Int64($0) }), SQLBind(c.reviewNote), SQLBind(now)).run()
    }

    /// Records a decision; only a claim still `claimed` changes (a concurrent second review finds 0 rows).
    /// - Returns: whether the row changed.
    public func decideClaim(_ c: SubsidyClaim, on db: any Database, now: Date = Date()) async throws -> Bool {
        let sql = db as! any SQLDatabase
        let before = try await sql.select().column("state").from("subsidy_claims").where("id", .equal, SQLBind(c.id)).first()?.decode(column: "state", as: String.self)
        guard before == SubsidyState.claimed.rawValue else { return false }
        try await sql.update("subsidy_claims").set("state", to: SQLBind(c.state.rawValue)).set("reviewer_id", to: SQLBind(c.reviewerID))
            .set("amount_fen", to: SQLBind(c.amountFen.map { Int64($0) })).set("review_note", to: SQLBind(c.reviewNote)).set("decided_at", to: SQLBind(now))
            .where("id", .equal, SQLBind(c.id)).where("state", .equal, SQLBind(SubsidyState.claimed.rawValue)).run()
        return true
    }
}
