import FengqiaoCore
import FluentKit
import FluentSQLiteDriver
import Foundation
import SQLKit

/// Filters for listing residents. `idNumber` and `phone` are matched exactly through their
/// blind index; `namePrefix` with `LIKE 'prefix%'`; `addressText` is contained in the residence
/// address's street, doorplate or estate name; `building` is the address's building element
/// (`3` also matches `3栋`); `buildingID` the linked building record. All given filters must match.
public struct ResidentQuery: Sendable {
    public var gridID: UUID?
    public var namePrefix: String?
    /// A normalised document number.
    public var idNumber: String?
    public var phone: PhoneNumber?
    public var addressText: String?
    public var building: String?
    public var buildingID: UUID?
    public var limit: Int
    public var offset: Int

    public init(
        gridID: UUID? = nil, namePrefix: String? = nil, idNumber: String? = nil, phone: PhoneNumber? = nil, addressText: String? = nil,
        building: String? = nil, buildingID: UUID? = nil, limit: Int = 100, offset: Int = 0
    ) {
        self.gridID = gridID
        self.namePrefix = namePrefix
        self.idNumber = idNumber
        self.phone = phone
        self.addressText = addressText
        self.building = building
        self.buildingID = buildingID
        self.limit = limit
        self.offset = offset
    }
}

/// A resident already holding a document number.
public struct ResidentHolder: Sendable, Equatable {
    public var id: UUID
    public var addressID: UUID
    /// The holder's name (the bulk import compares it with the row's).
    public var name: String?
    public init(id: UUID, addressID: UUID, name: String? = nil) {
        self.id = id
        self.addressID = addressID
        self.name = name
    }
}

/// Reads and writes actual residents (实有人口) through SQLKit. The document number and phone are
/// sealed with the `FieldCipher` on the way in and opened on the way out; queries use only their
/// blind index, never a plaintext value. Reads are filtered by the grids the caller may see.
public struct ResidentRepository: Sendable {
    let cipher: FieldCipher

    /// - Parameter cipher: the application's cipher (`app.fengqiao.cipher`).
    public init(cipher: FieldCipher) { self.cipher = cipher }

    static let columns = [
        "id", "grid_id", "address_id", "population_type", "hukou_separated", "id_doc_type", "id_number_enc", "id_number_idx",
        "id_number_legacy15", "name", "sex", "birth_date", "ethnicity", "hukou_address", "residence_reason", "housing_relation",
        "employer", "phone_enc", "phone_idx", "registered_at", "deregistered_at", "deregistration_reason",
    ]

    /// Inserts a new resident (call inside `Store.write`).
    public func insert(_ r: ActualResident, on db: any Database, now: Date = Date()) async throws {
        try await insert([r], on: db, now: now)
    }

    /// Inserts new residents in multi-row writes (`BulkInsert`; call inside `Store.write`); the
    /// document number and phone are sealed and indexed on the way.
    public func insert(_ list: [ActualResident], on db: any Database, now: Date = Date()) async throws {
        try await insert(sealed: list.map(seal), createdAuditSeq: nil, on: db, now: now)
    }

    /// A resident with its document number and phone already sealed (AES-GCM) and their blind
    /// indexes computed: the bulk import does this CPU work while the previous batch is written.
    public struct SealedResident: Sendable {
        public let resident: ActualResident
        /// Blind index of the normalised document number (`id_number_idx`).
        public let idNumberIndex: String
        let values: [BulkValue]

        /// The same resident at another standard address (an existing one with the same key).
        public func at(address id: UUID) -> SealedResident {
            var r = resident
            r.residenceAddressID = id
            var v = values
            v[2] = .uuid(id)
            return SealedResident(resident: r, idNumberIndex: idNumberIndex, values: v)
        }
    }

    /// Seals a resident for `insert(sealed:…)`; pure CPU, no database.
    public func seal(_ r: ActualResident) -> SealedResident {
        let idIndex = cipher.blindIndex(ActualResident.indexKey(idNumber: r.idNumber))
        return SealedResident(resident: r, idNumberIndex: idIndex, values: [
            .uuid(r.id), .uuid(r.gridID), .uuid(r.residenceAddressID), .text(r.populationType.rawValue), .bool(r.hukouSeparated),
            .text(r.idDocType.rawValue), .text(cipher.seal(r.idNumber)), .text(idIndex),
            .bool(r.idNumberLegacy15), .text(r.name), .text(r.sex.rawValue), .text(r.birthDate.description), .text(r.ethnicity),
            .text(r.hukouAddress), .text(r.residenceReason.rawValue), .text(r.housingRelation.rawValue), .text(r.employer),
            .text(r.phone.map { cipher.seal($0.e164) }), .text(r.phone.map { cipher.blindIndex(ActualResident.indexKey(phone: $0)) }),
            .text(r.registeredAt.description), .text(r.deregisteredAt?.description), .text(r.deregistrationReason),
        ])
    }

    /// Inserts sealed residents in multi-row writes (call inside `Store.write`).
    /// - Parameter createdAuditSeq: the `audit_log.seq` of the batch's audit record (bulk import,
    ///   M0026), or nil when each resident has its own record.
    public func insert(sealed list: [SealedResident], createdAuditSeq: Int64?, on db: any Database, now: Date = Date()) async throws {
        let seq = BulkValue.int(createdAuditSeq.map { Int($0) })
        let rows: [[BulkValue]] = list.map { $0.values + [.date(now), .date(now), seq] }
        try await BulkInsert.insert(into: "actual_residents", columns: Self.columns + ["created_at", "updated_at", "created_audit_seq"], rows: rows, on: db)
    }

    /// `lockIDNumber` for many numbers at once, in a fixed order so two importers cannot deadlock.
    public func lockIDNumbers(_ numbers: some Collection<String>, on db: any Database) async throws {
        try await lockIDNumbers(indexes: numbers.map { cipher.blindIndex(ActualResident.indexKey(idNumber: $0)) }, on: db)
    }

    /// `lockIDNumbers` by the numbers' blind indexes (`SealedResident.idNumberIndex`).
    public func lockIDNumbers(indexes: some Collection<String>, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql", !indexes.isEmpty else { return }
        let keys = Set(indexes).sorted()
        for chunk in keys.chunked(1000) {
            try await sql.raw("SELECT pg_advisory_xact_lock(18001, hashtext(k)) FROM unnest(\(bind: Array(chunk))::text[]) WITH ORDINALITY AS t(k, n) ORDER BY n").run()
        }
    }

    /// Current holders of many normalised document numbers at once (any territory): number → the
    /// oldest current holder.
    public func holders(ofIDNumbers numbers: some Collection<String>, on db: any Database) async throws -> [String: ResidentHolder] {
        var byIndex: [String: String] = [:]
        for n in numbers { byIndex[cipher.blindIndex(ActualResident.indexKey(idNumber: n))] = n }
        return try await holders(byIndex: byIndex, on: db)
    }

    /// `holders(ofIDNumbers:)` with the blind indexes already computed: index → number.
    public func holders(byIndex: [String: String], on db: any Database) async throws -> [String: ResidentHolder] {
        let sql = db as! any SQLDatabase
        var found: [String: ResidentHolder] = [:]
        for chunk in Array(byIndex.keys).chunked(500) {
            let rows = try await sql.select().column("id").column("address_id").column("id_number_idx").column("name").from("actual_residents")
                .where("id_number_idx", .in, SQLBind.group(Array(chunk)))
                .where("deregistered_at", .is, SQLLiteral.null)
                .orderBy("created_at").all()
            for r in rows {
                guard let n = byIndex[try r.decode(column: "id_number_idx", as: String.self)], found[n] == nil else { continue }
                found[n] = ResidentHolder(id: try r.decode(column: "id", as: UUID.self), addressID: try r.decode(column: "address_id", as: UUID.self),
                                          name: try r.decode(column: "name", as: String.self))
            }
        }
        return found
    }

    /// Serialises registrations of one document number until the transaction ends, so two
    /// concurrent creates cannot both pass the duplicate check. SQLite needs nothing: every
    /// `Store.write` holds the database's write lock (`BEGIN IMMEDIATE`). On PostgreSQL a
    /// transaction-scoped advisory lock on (class 18001, hash of the blind index); call inside
    /// `Store.write` before `holders(ofIDNumber:on:)`.
    public func lockIDNumber(_ number: String, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        let idx = cipher.blindIndex(ActualResident.indexKey(idNumber: number))
        try await sql.raw("SELECT pg_advisory_xact_lock(18001, hashtext(\(bind: idx)))").run()
    }

    /// Current (not deregistered) residents holding this normalised document number, in any territory:
    /// the duplicate check must see past the caller's scope.
    public func holders(ofIDNumber number: String, on db: any Database) async throws -> [ResidentHolder] {
        let sql = db as! any SQLDatabase
        let rows = try await sql.select().column("id").column("address_id").from("actual_residents")
            .where("id_number_idx", .equal, SQLBind(cipher.blindIndex(ActualResident.indexKey(idNumber: number))))
            .where("deregistered_at", .is, SQLLiteral.null)
            .orderBy("created_at").all()
        return try rows.map { ResidentHolder(id: try $0.decode(column: "id", as: UUID.self), addressID: try $0.decode(column: "address_id", as: UUID.self)) }
    }

    /// The resident, if it exists and lies in a visible grid.
    /// - Throws: `DomainError.notFound("resident")` otherwise.
    public func find(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> ActualResident {
        let sql = db as! any SQLDatabase
        guard let row = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("actual_residents").where("id", .equal, SQLBind(id)).first(),
              let gid = try? row.decode(column: "grid_id", as: UUID.self), v.canSee(grid: gid)
        else { throw DomainError.notFound(kind: "resident") }
        return try decode(row)
    }

    /// Residents in the visible grids matching `q`, ordered by name, with the total before paging.
    public func list(_ q: ResidentQuery, visible v: VisibleTerritory, on db: any Database) async throws -> ([ActualResident], Int) {
        let sql = db as! any SQLDatabase
        var grids: [UUID]? = v.gridIDs.map(Array.init)
        if let g = q.gridID {
            guard v.canSee(grid: g) else { return ([], 0) }
            grids = [g]
        }
        if let grids, grids.isEmpty { return ([], 0) }
        return try await run(q, grids: grids, on: sql)
    }

    private func run(_ q: ResidentQuery, grids: [UUID]?, on sql: any SQLDatabase) async throws -> ([ActualResident], Int) {
        // The conditions (grids, blind indexes, name prefix, address filters) live in
        // ResidentRepository+Records.swift, shared with counting and keyset paging for exports.
        let whereClause = Self.whereClause(conditions(q, grids: grids, dialect: sql.dialect.name))
        let total = try await sql.raw("SELECT COUNT(*) AS n FROM actual_residents WHERE \(whereClause)").first()?.decode(column: "n", as: Int.self) ?? 0
        let cols = SQLList(Self.columns.map { SQLColumn($0) })
        let rows = try await sql.raw("""
            SELECT \(cols) FROM actual_residents WHERE \(whereClause)
            ORDER BY name, id LIMIT \(literal: q.limit) OFFSET \(literal: q.offset)
            """).all()
        return (try rows.map(decode), total)
    }

    func decode(_ r: any SQLRow) throws -> ActualResident {
        func date(_ c: String) throws -> CalendarDate {
            let s = try r.decode(column: c, as: String.self)
            guard let d = CalendarDate(iso: s) else { throw DomainError.invalidField(field: c, reason: "stored value is not a date") }
            return d
        }
        let number = try cipher.open(try r.decode(column: "id_number_enc", as: String.self))
        let phone = try r.decode(column: "phone_enc", as: String?.self).map { try PhoneNumber(try cipher.open($0)) }
        return ActualResident(
            id: try r.decode(column: "id", as: UUID.self),
            populationType: .init(rawValue: try r.decode(column: "population_type", as: String.self)) ?? .registered,
            hukouSeparated: try r.decode(column: "hukou_separated", as: Bool.self),
            idDocType: IdentityDocumentType(rawValue: try r.decode(column: "id_doc_type", as: String.self)) ?? .other,
            idNumber: number, idNumberLegacy15: try r.decode(column: "id_number_legacy15", as: Bool.self),
            name: try r.decode(column: "name", as: String.self), sex: Sex(rawValue: try r.decode(column: "sex", as: String.self)) ?? .unknown,
            birthDate: try date("birth_date"), ethnicity: try r.decode(column: "ethnicity", as: String?.self),
            hukouAddress: try r.decode(column: "hukou_address", as: String?.self),
            residenceAddressID: try r.decode(column: "address_id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
            residenceReason: .init(rawValue: try r.decode(column: "residence_reason", as: String.self)) ?? .other,
            housingRelation: .init(rawValue: try r.decode(column: "housing_relation", as: String.self)) ?? .other,
            employer: try r.decode(column: "employer", as: String?.self), phone: phone,
            registeredAt: try date("registered_at"),
            deregisteredAt: try r.decode(column: "deregistered_at", as: String?.self).flatMap(CalendarDate.init(iso:)),
            deregistrationReason: try r.decode(column: "deregistration_reason", as: String?.self))
    }
}
