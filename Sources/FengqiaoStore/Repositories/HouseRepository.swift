import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Filters for listing houses (实有房屋). `idNumber` and `phone` match the owner or any tenant
/// exactly through their blind index; `houseCode` exactly.
public struct HouseQuery: Sendable {
    public var gridID: UUID?
    public var addressID: UUID?
    public var occupancy: ActualHouse.Occupancy?
    public var groupRental: Bool?
    public var houseCode: String?
    /// A normalised document number (owner's or a tenant's).
    public var idNumber: String?
    /// The owner's or a tenant's phone.
    public var phone: PhoneNumber?
    public var limit: Int
    public var offset: Int

    public init(
        gridID: UUID? = nil, addressID: UUID? = nil, occupancy: ActualHouse.Occupancy? = nil, groupRental: Bool? = nil, houseCode: String? = nil,
        idNumber: String? = nil, phone: PhoneNumber? = nil, limit: Int = 100, offset: Int = 0
    ) {
        self.gridID = gridID
        self.addressID = addressID
        self.occupancy = occupancy
        self.groupRental = groupRental
        self.houseCode = houseCode
        self.idNumber = idNumber
        self.phone = phone
        self.limit = limit
        self.offset = offset
    }
}

/// Reads and writes actual houses and their tenants through SQLKit. Owner and tenant document
/// numbers and phones are sealed with the `FieldCipher` on the way in and opened on the way out;
/// queries use only their blind index (the same `ActualResident.indexKey` inputs as residents, so
/// one person matches across record kinds). Reads are filtered by the grids the caller may see.
public struct HouseRepository: Sendable {
    let cipher: FieldCipher

    /// - Parameter cipher: the application's cipher (`app.fengqiao.cipher`).
    public init(cipher: FieldCipher) { self.cipher = cipher }

    static let columns = [
        "id", "grid_id", "address_id", "house_code", "house_use", "area_hundredths", "ownership_cert_type", "ownership_cert_no", "owner_name",
        "owner_id_doc_type", "owner_id_number_enc", "owner_id_number_idx", "owner_phone_enc", "owner_phone_idx", "owner_current_address",
        "occupancy", "rental_purpose", "lease_start", "lease_end", "group_rental",
    ]

    static let tenantColumns = ["id", "house_id", "grid_id", "position", "name", "id_doc_type", "id_number_enc", "id_number_idx", "phone_enc", "phone_idx", "resident_id"]

    private func values(_ h: ActualHouse) -> [any SQLExpression] {
        let o = h.owner
        return [
            SQLBind(h.id), SQLBind(h.gridID), SQLBind(h.addressID), SQLBind(h.houseCode), SQLBind(h.use.rawValue),
            SQLBind(h.area.map { Int64($0.hundredths) }), SQLBind(h.ownershipCertificateType?.rawValue), SQLBind(h.ownershipCertificateNo),
            SQLBind(o.name), SQLBind(o.idDocType?.rawValue), SQLBind(o.idNumber.map { cipher.seal($0) }),
            SQLBind(o.idNumber.map { cipher.blindIndex(ActualResident.indexKey(idNumber: $0)) }),
            SQLBind(o.phone.map { cipher.seal($0.e164) }), SQLBind(o.phone.map { cipher.blindIndex(ActualResident.indexKey(phone: $0)) }),
            SQLBind(o.currentAddress), SQLBind(h.occupancy.rawValue), SQLBind(h.tenancy?.purpose.rawValue),
            SQLBind(h.tenancy?.leaseStart.description), SQLBind(h.tenancy?.leaseEnd?.description), SQLBind(h.tenancy?.groupRental ?? false),
        ]
    }

    /// Inserts a new house and its tenants (call inside `Store.write`).
    public func insert(_ h: ActualHouse, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "actual_houses").columns(Self.columns + ["created_at", "updated_at"])
            .values(values(h) + [SQLBind(now), SQLBind(now)]).run()
        try await insertTenants(h, on: sql, now: now)
    }

    /// Replaces every stored value of an existing house (same id) and its tenant list (call inside
    /// `Store.write`). Tenants are written anew, with the ids on `h`.
    public func update(_ h: ActualHouse, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        var q = sql.update("actual_houses")
        for (c, v) in zip(Self.columns, values(h)) where c != "id" { q = q.set(SQLColumn(c), to: v) }
        try await q.set(SQLColumn("updated_at"), to: SQLBind(now)).where("id", .equal, SQLBind(h.id)).run()
        try await sql.delete(from: "house_tenants").where("house_id", .equal, SQLBind(h.id)).run()
        try await insertTenants(h, on: sql, now: now)
    }

    private func insertTenants(_ h: ActualHouse, on sql: any SQLDatabase, now: Date) async throws {
        guard let tenants = h.tenancy?.tenants, !tenants.isEmpty else { return }
        var q = sql.insert(into: "house_tenants").columns(Self.tenantColumns + ["created_at"])
        for (i, t) in tenants.enumerated() {
            q = q.values([
                SQLBind(t.id), SQLBind(h.id), SQLBind(h.gridID), SQLBind(i), SQLBind(t.name), SQLBind(t.idDocType.rawValue),
                SQLBind(cipher.seal(t.idNumber)), SQLBind(cipher.blindIndex(ActualResident.indexKey(idNumber: t.idNumber))),
                SQLBind(t.phone.map { cipher.seal($0.e164) }), SQLBind(t.phone.map { cipher.blindIndex(ActualResident.indexKey(phone: $0)) }),
                SQLBind(t.residentID), SQLBind(now),
            ] as [any SQLExpression])
        }
        try await q.run()
    }

    /// The id of the house with this code at this address, in any territory, other than
    /// `excluding` (the uniqueness check; house codes are upper-cased by validation).
    public func existing(addressID: UUID, houseCode: String, excluding: UUID? = nil, on db: any Database) async throws -> UUID? {
        let sql = db as! any SQLDatabase
        var q = sql.select().column("id").from("actual_houses")
            .where("address_id", .equal, SQLBind(addressID)).where("house_code", .equal, SQLBind(houseCode))
        if let excluding { q = q.where("id", .notEqual, SQLBind(excluding)) }
        return try await q.first()?.decode(column: "id", as: UUID.self)
    }

    /// Houses by (address, house code), in any territory: one query for many keys (bulk import).
    public func existingIDs(forKeys keys: [(addressID: UUID, houseCode: String)], on db: any Database) async throws -> [String: UUID] {
        let sql = db as! any SQLDatabase
        var found: [String: UUID] = [:]
        let byAddress = Dictionary(grouping: keys, by: \.addressID)
        for chunk in Array(byAddress.keys).chunked(500) {
            let rows = try await sql.select().column("id").column("address_id").column("house_code").from("actual_houses")
                .where("address_id", .in, SQLBind.group(Array(chunk))).all()
            for r in rows {
                let key = Self.key(addressID: try r.decode(column: "address_id", as: UUID.self), houseCode: try r.decode(column: "house_code", as: String.self))
                found[key] = try r.decode(column: "id", as: UUID.self)
            }
        }
        return found
    }

    /// The lookup key of `existingIDs(forKeys:on:)`.
    public static func key(addressID: UUID, houseCode: String) -> String { addressID.uuidString.lowercased() + "/" + houseCode }

    /// Serialises registrations at one address until the transaction ends, so two concurrent
    /// creates cannot both pass the house-code check. SQLite needs nothing (`BEGIN IMMEDIATE`
    /// holds the write lock); on PostgreSQL a transaction-scoped advisory lock (class 18002).
    public func lockAddress(_ addressID: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(18002, hashtext(\(bind: addressID.uuidString.lowercased())))").run()
    }

    /// The house, if it exists and lies in a visible grid.
    /// - Throws: `DomainError.notFound("house")` otherwise.
    public func find(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> ActualHouse {
        let sql = db as! any SQLDatabase
        guard let row = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("actual_houses").where("id", .equal, SQLBind(id)).first(),
              let gid = try? row.decode(column: "grid_id", as: UUID.self), v.canSee(grid: gid)
        else { throw DomainError.notFound(kind: "house") }
        return try await decode([row], on: sql)[0]
    }

    /// Houses in the visible grids matching `q`, ordered by house code, with the total before paging.
    public func list(_ q: HouseQuery, visible v: VisibleTerritory, on db: any Database) async throws -> ([ActualHouse], Int) {
        let sql = db as! any SQLDatabase
        let grids = GridFilter(q.gridID.map { [$0] }, visible: v)
        if grids.isEmpty { return ([], 0) }
        var conditions: [any SQLExpression] = [grids.condition]
        if let a = q.addressID { conditions.append(SQLBinaryExpression(SQLColumn("address_id"), .equal, SQLBind(a))) }
        if let o = q.occupancy { conditions.append(SQLBinaryExpression(SQLColumn("occupancy"), .equal, SQLBind(o.rawValue))) }
        if let g = q.groupRental { conditions.append(SQLBinaryExpression(SQLColumn("group_rental"), .equal, SQLBind(g))) }
        if let c = q.houseCode { conditions.append(SQLBinaryExpression(SQLColumn("house_code"), .equal, SQLBind(c))) }
        if let n = q.idNumber {
            let idx = cipher.blindIndex(ActualResident.indexKey(idNumber: n))
            conditions.append(SQLQueryString("(owner_id_number_idx = \(bind: idx) OR id IN (SELECT house_id FROM house_tenants WHERE id_number_idx = \(bind: idx)))"))
        }
        if let p = q.phone {
            let idx = cipher.blindIndex(ActualResident.indexKey(phone: p))
            conditions.append(SQLQueryString("(owner_phone_idx = \(bind: idx) OR id IN (SELECT house_id FROM house_tenants WHERE phone_idx = \(bind: idx)))"))
        }
        let whereClause: any SQLExpression = conditions.isEmpty
            ? SQLRaw("1 = 1")
            : SQLList(conditions.map { SQLGroupExpression($0) }, separator: SQLRaw(" AND "))
        let total = try await sql.raw("SELECT COUNT(*) AS n FROM actual_houses WHERE \(whereClause)").first()?.decode(column: "n", as: Int.self) ?? 0
        let cols = SQLList(Self.columns.map { SQLColumn($0) })
        let rows = try await sql.raw("""
            SELECT \(cols) FROM actual_houses WHERE \(whereClause)
            ORDER BY house_code, id LIMIT \(literal: q.limit) OFFSET \(literal: q.offset)
            """).all()
        return (try await decode(rows, on: sql), total)
    }

    /// Counts per visible grid (optionally only `gridIDs`): houses by occupancy, rentals, group
    /// rentals and tenants. Grids without houses are absent from the answer.
    public func countsByGrid(_ gridIDs: [UUID]? = nil, visible v: VisibleTerritory, on db: any Database) async throws -> [UUID: HouseCounts] {
        let sql = db as! any SQLDatabase
        let grids = GridFilter(gridIDs, visible: v)
        if grids.isEmpty { return [:] }
        let filter = grids.condition
        var out: [UUID: HouseCounts] = [:]
        let rows = try await sql.raw("""
            SELECT grid_id, occupancy, COUNT(*) AS n, SUM(CASE WHEN group_rental THEN 1 ELSE 0 END) AS g
            FROM actual_houses WHERE \(filter) GROUP BY grid_id, occupancy
            """).all()
        for r in rows {
            let gid = try r.decode(column: "grid_id", as: UUID.self)
            let n = try r.decode(column: "n", as: Int.self)
            var c = out[gid] ?? HouseCounts()
            c.total += n
            if let o = ActualHouse.Occupancy(rawValue: try r.decode(column: "occupancy", as: String.self)) { c.byOccupancy[o, default: 0] += n }
            c.groupRentals += try r.decode(column: "g", as: Int?.self) ?? 0
            out[gid] = c
        }
        let tenants = try await sql.raw("SELECT grid_id, COUNT(*) AS n FROM house_tenants WHERE \(filter) GROUP BY grid_id").all()
        for r in tenants {
            let gid = try r.decode(column: "grid_id", as: UUID.self)
            out[gid, default: HouseCounts()].tenants = try r.decode(column: "n", as: Int.self)
        }
        return out
    }

    private func decode(_ rows: [any SQLRow], on sql: any SQLDatabase) async throws -> [ActualHouse] {
        guard !rows.isEmpty else { return [] }
        let ids = try rows.map { try $0.decode(column: "id", as: UUID.self) }
        var tenants: [UUID: [ActualHouse.Tenant]] = [:]
        for chunk in ids.chunked(500) {
            let trows = try await sql.select().columns(Self.tenantColumns.map { SQLColumn($0) }).from("house_tenants")
                .where("house_id", .in, SQLBind.group(Array(chunk))).orderBy("house_id").orderBy("position").all()
            for t in trows {
                let tenant = ActualHouse.Tenant(
                    id: try t.decode(column: "id", as: UUID.self), name: try t.decode(column: "name", as: String.self),
                    idDocType: IdentityDocumentType(rawValue: try t.decode(column: "id_doc_type", as: String.self)) ?? .other,
                    idNumber: try cipher.open(try t.decode(column: "id_number_enc", as: String.self)),
                    phone: try t.decode(column: "phone_enc", as: String?.self).map { try PhoneNumber(try cipher.open($0)) },
                    residentID: try t.decode(column: "resident_id", as: UUID?.self))
                tenants[try t.decode(column: "house_id", as: UUID.self), default: []].append(tenant)
            }
        }
        return try rows.map { r in
            func date(_ c: String) throws -> CalendarDate? {
                guard let s = try r.decode(column: c, as: String?.self) else { return nil }
                guard let d = CalendarDate(iso: s) else { throw DomainError.invalidField(field: c, reason: "stored value is not a date") }
                return d
            }
            let id = try r.decode(column: "id", as: UUID.self)
            let occupancy = ActualHouse.Occupancy(rawValue: try r.decode(column: "occupancy", as: String.self)) ?? .vacant
            var tenancy: ActualHouse.Tenancy?
            if occupancy == .rented, let start = try date("lease_start") {
                tenancy = ActualHouse.Tenancy(
                    purpose: .init(rawValue: try r.decode(column: "rental_purpose", as: String?.self) ?? "") ?? .living, tenants: tenants[id] ?? [],
                    leaseStart: start, leaseEnd: try date("lease_end"), groupRental: try r.decode(column: "group_rental", as: Bool.self))
            }
            let owner = ActualHouse.Owner(
                name: try r.decode(column: "owner_name", as: String.self),
                idDocType: try r.decode(column: "owner_id_doc_type", as: String?.self).flatMap(IdentityDocumentType.init(rawValue:)),
                idNumber: try r.decode(column: "owner_id_number_enc", as: String?.self).map { try cipher.open($0) },
                phone: try r.decode(column: "owner_phone_enc", as: String?.self).map { try PhoneNumber(try cipher.open($0)) },
                currentAddress: try r.decode(column: "owner_current_address", as: String?.self))
            return ActualHouse(
                id: id, houseCode: try r.decode(column: "house_code", as: String.self), addressID: try r.decode(column: "address_id", as: UUID.self),
                gridID: try r.decode(column: "grid_id", as: UUID.self), use: .init(rawValue: try r.decode(column: "house_use", as: String.self)) ?? .other,
                area: try r.decode(column: "area_hundredths", as: Int?.self).map { try FloorArea(hundredths: $0) },
                ownershipCertificateType: try r.decode(column: "ownership_cert_type", as: String?.self).flatMap(ActualHouse.OwnershipCertificateType.init(rawValue:)),
                ownershipCertificateNo: try r.decode(column: "ownership_cert_no", as: String?.self), owner: owner, occupancy: occupancy, tenancy: tenancy)
        }
    }
}
