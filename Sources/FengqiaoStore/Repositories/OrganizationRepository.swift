import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// Filters for listing organisations (实有单位). `uscc` matches exactly (in clear: it identifies
/// an organisation, not a person); `legalRepresentativeIDNumber` exactly through its blind index;
/// `namePrefix` with `LIKE 'prefix%'`.
public struct OrganizationQuery: Sendable {
    public var gridID: UUID?
    public var type: ActualOrganization.OrganizationType?
    public var keyUnit: Bool?
    public var specialTrade: ActualOrganization.SpecialTrade?
    /// `nil`: any status.
    public var status: ActualOrganization.Status?
    public var uscc: String?
    public var namePrefix: String?
    /// A normalised document number.
    public var legalRepresentativeIDNumber: String?
    public var limit: Int
    public var offset: Int

    public init(
        gridID: UUID? = nil, type: ActualOrganization.OrganizationType? = nil, keyUnit: Bool? = nil, specialTrade: ActualOrganization.SpecialTrade? = nil,
        status: ActualOrganization.Status? = nil, uscc: String? = nil, namePrefix: String? = nil, legalRepresentativeIDNumber: String? = nil,
        limit: Int = 100, offset: Int = 0
    ) {
        self.gridID = gridID
        self.type = type
        self.keyUnit = keyUnit
        self.specialTrade = specialTrade
        self.status = status
        self.uscc = uscc
        self.namePrefix = namePrefix
        self.legalRepresentativeIDNumber = legalRepresentativeIDNumber
        self.limit = limit
        self.offset = offset
    }
}

/// An active organisation holding a USCC.
public struct USCCHolder: Sendable, Equatable {
    public var id: UUID
    public var addressID: UUID
    public init(id: UUID, addressID: UUID) {
        self.id = id
        self.addressID = addressID
    }
}

/// Reads and writes actual organisations through SQLKit. The legal representative's document
/// number and the phones are sealed with the `FieldCipher`; searches use the blind index only.
/// Reads are filtered by the grids the caller may see.
public struct OrganizationRepository: Sendable {
    let cipher: FieldCipher

    /// - Parameter cipher: the application's cipher (`app.fengqiao.cipher`).
    public init(cipher: FieldCipher) { self.cipher = cipher }

    static let columns = [
        "id", "grid_id", "address_id", "uscc", "uscc_check_confirmed", "name", "org_type", "industry_section", "industry_code", "legal_rep_name",
        "legal_rep_id_doc_type", "legal_rep_id_number_enc", "legal_rep_id_number_idx", "legal_rep_phone_enc", "legal_rep_phone_idx",
        "security_contact_name", "security_contact_phone_enc", "employee_count", "key_unit", "special_trade", "licences", "status",
    ]

    static let licenceEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    private func values(_ o: ActualOrganization) throws -> [any SQLExpression] {
        let rep = o.legalRepresentative
        return [
            SQLBind(o.id), SQLBind(o.gridID), SQLBind(o.addressID), SQLBind(o.uscc.value), SQLBind(o.usccCheckConfirmed), SQLBind(o.name),
            SQLBind(o.type.rawValue), SQLBind(o.industry?.section.rawValue), SQLBind(o.industry?.code), SQLBind(rep.name),
            SQLBind(rep.idDocType?.rawValue), SQLBind(rep.idNumber.map { cipher.seal($0) }),
            SQLBind(rep.idNumber.map { cipher.blindIndex(ActualResident.indexKey(idNumber: $0)) }),
            SQLBind(rep.phone.map { cipher.seal($0.e164) }), SQLBind(rep.phone.map { cipher.blindIndex(ActualResident.indexKey(phone: $0)) }),
            SQLBind(o.securityContact?.name), SQLBind(o.securityContact?.phone.map { cipher.seal($0.e164) }),
            SQLBind(o.employeeCount), SQLBind(o.keyUnit), SQLBind(o.specialTrade?.rawValue),
            SQLBind(String(decoding: try Self.licenceEncoder.encode(o.licences), as: UTF8.self)), SQLBind(o.status.rawValue),
        ]
    }

    /// Inserts a new organisation (call inside `Store.write`).
    public func insert(_ o: ActualOrganization, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "actual_organizations").columns(Self.columns + ["created_at", "updated_at"])
            .values(try values(o) + [SQLBind(now), SQLBind(now)]).run()
    }

    /// Replaces every stored value of an existing organisation (same id; call inside `Store.write`).
    public func update(_ o: ActualOrganization, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        var q = sql.update("actual_organizations")
        for (c, v) in zip(Self.columns, try values(o)) where c != "id" { q = q.set(SQLColumn(c), to: v) }
        try await q.set(SQLColumn("updated_at"), to: SQLBind(now)).where("id", .equal, SQLBind(o.id)).run()
    }

    /// Serialises registrations of one USCC until the transaction ends (see
    /// `ResidentRepository.lockIDNumber`): nothing on SQLite, a transaction-scoped advisory lock
    /// (class 18003) on PostgreSQL. Call inside `Store.write` before `activeHolder(ofUSCC:…)`.
    public func lockUSCC(_ code: String, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "postgresql" else { return }
        try await sql.raw("SELECT pg_advisory_xact_lock(18003, hashtext(\(bind: code)))").run()
    }

    /// The active organisation holding this USCC, in any territory (the uniqueness check must see
    /// past the caller's scope), other than `excluding`.
    public func activeHolder(ofUSCC code: String, excluding: UUID? = nil, on db: any Database) async throws -> USCCHolder? {
        let sql = db as! any SQLDatabase
        var q = sql.select().column("id").column("address_id").from("actual_organizations")
            .where("uscc", .equal, SQLBind(code)).where("status", .equal, SQLBind(ActualOrganization.Status.active.rawValue))
        if let excluding { q = q.where("id", .notEqual, SQLBind(excluding)) }
        guard let r = try await q.orderBy("created_at").first() else { return nil }
        return USCCHolder(id: try r.decode(column: "id", as: UUID.self), addressID: try r.decode(column: "address_id", as: UUID.self))
    }

    /// Active holders of many codes at once (bulk import): code → holder.
    public func activeHolders(ofUSCCs codes: some Collection<String>, on db: any Database) async throws -> [String: USCCHolder] {
        let sql = db as! any SQLDatabase
        var found: [String: USCCHolder] = [:]
        for chunk in Array(Set(codes)).chunked(500) {
            let rows = try await sql.select().column("id").column("address_id").column("uscc").from("actual_organizations")
                .where("uscc", .in, SQLBind.group(Array(chunk))).where("status", .equal, SQLBind(ActualOrganization.Status.active.rawValue)).all()
            for r in rows {
                found[try r.decode(column: "uscc", as: String.self)] = USCCHolder(
                    id: try r.decode(column: "id", as: UUID.self), addressID: try r.decode(column: "address_id", as: UUID.self))
            }
        }
        return found
    }

    /// The organisation, if it exists and lies in a visible grid.
    /// - Throws: `DomainError.notFound("organization")` otherwise.
    public func find(_ id: UUID, visible v: VisibleTerritory, on db: any Database) async throws -> ActualOrganization {
        let sql = db as! any SQLDatabase
        guard let row = try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("actual_organizations").where("id", .equal, SQLBind(id)).first(),
              let gid = try? row.decode(column: "grid_id", as: UUID.self), v.canSee(grid: gid)
        else { throw DomainError.notFound(kind: "organization") }
        return try decode(row)
    }

    /// Organisations in the visible grids matching `q`, ordered by name, with the total before paging.
    public func list(_ q: OrganizationQuery, visible v: VisibleTerritory, on db: any Database) async throws -> ([ActualOrganization], Int) {
        let sql = db as! any SQLDatabase
        let grids = GridFilter(q.gridID.map { [$0] }, visible: v)
        if grids.isEmpty { return ([], 0) }
        var conditions: [any SQLExpression] = [grids.condition]
        if let t = q.type { conditions.append(SQLBinaryExpression(SQLColumn("org_type"), .equal, SQLBind(t.rawValue))) }
        if let k = q.keyUnit { conditions.append(SQLBinaryExpression(SQLColumn("key_unit"), .equal, SQLBind(k))) }
        if let s = q.specialTrade { conditions.append(SQLBinaryExpression(SQLColumn("special_trade"), .equal, SQLBind(s.rawValue))) }
        if let s = q.status { conditions.append(SQLBinaryExpression(SQLColumn("status"), .equal, SQLBind(s.rawValue))) }
        if let u = q.uscc { conditions.append(SQLBinaryExpression(SQLColumn("uscc"), .equal, SQLBind(u))) }
        if let n = q.legalRepresentativeIDNumber {
            conditions.append(SQLBinaryExpression(SQLColumn("legal_rep_id_number_idx"), .equal, SQLBind(cipher.blindIndex(ActualResident.indexKey(idNumber: n)))))
        }
        if let prefix = q.namePrefix, !prefix.isEmpty {
            let escaped = prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            conditions.append(SQLQueryString("name LIKE \(bind: escaped + "%") ESCAPE '\\'"))
        }
        let whereClause = SQLList(conditions.map { SQLGroupExpression($0) }, separator: SQLRaw(" AND "))
        let total = try await sql.raw("SELECT COUNT(*) AS n FROM actual_organizations WHERE \(whereClause)").first()?.decode(column: "n", as: Int.self) ?? 0
        let cols = SQLList(Self.columns.map { SQLColumn($0) })
        let rows = try await sql.raw("""
            SELECT \(cols) FROM actual_organizations WHERE \(whereClause)
            ORDER BY name, id LIMIT \(literal: q.limit) OFFSET \(literal: q.offset)
            """).all()
        return (try rows.map(decode), total)
    }

    /// Counts of active organisations per visible grid (optionally only `gridIDs`): by type, key
    /// units and special trades. Grids without active organisations are absent.
    public func countsByGrid(_ gridIDs: [UUID]? = nil, visible v: VisibleTerritory, on db: any Database) async throws -> [UUID: OrganizationCounts] {
        let sql = db as! any SQLDatabase
        let grids = GridFilter(gridIDs, visible: v)
        if grids.isEmpty { return [:] }
        let rows = try await sql.raw("""
            SELECT grid_id, org_type, COUNT(*) AS n, SUM(CASE WHEN key_unit THEN 1 ELSE 0 END) AS k,
                   SUM(CASE WHEN special_trade IS NULL THEN 0 ELSE 1 END) AS s
            FROM actual_organizations WHERE \(grids.condition) AND status = \(bind: ActualOrganization.Status.active.rawValue)
            GROUP BY grid_id, org_type
            """).all()
        var out: [UUID: OrganizationCounts] = [:]
        for r in rows {
            let gid = try r.decode(column: "grid_id", as: UUID.self)
            let n = try r.decode(column: "n", as: Int.self)
            var c = out[gid] ?? OrganizationCounts()
            c.total += n
            if let t = ActualOrganization.OrganizationType(rawValue: try r.decode(column: "org_type", as: String.self)) { c.byType[t, default: 0] += n }
            c.keyUnits += try r.decode(column: "k", as: Int?.self) ?? 0
            c.specialTrades += try r.decode(column: "s", as: Int?.self) ?? 0
            out[gid] = c
        }
        return out
    }

    func decode(_ r: any SQLRow) throws -> ActualOrganization {
        let section = try r.decode(column: "industry_section", as: String?.self)
        let code = try r.decode(column: "industry_code", as: String?.self)
        let industry = (section == nil && code == nil) ? nil : try IndustryClassification(section: section, code: code)
        let rep = ActualOrganization.LegalRepresentative(
            name: try r.decode(column: "legal_rep_name", as: String.self),
            idDocType: try r.decode(column: "legal_rep_id_doc_type", as: String?.self).flatMap(IdentityDocumentType.init(rawValue:)),
            idNumber: try r.decode(column: "legal_rep_id_number_enc", as: String?.self).map { try cipher.open($0) },
            phone: try r.decode(column: "legal_rep_phone_enc", as: String?.self).map { try PhoneNumber(try cipher.open($0)) })
        let contact = try r.decode(column: "security_contact_name", as: String?.self).map { name in
            ActualOrganization.SecurityContact(name: name, phone: try r.decode(column: "security_contact_phone_enc", as: String?.self).map { try PhoneNumber(try cipher.open($0)) })
        }
        let licences = try JSONDecoder().decode([ActualOrganization.Licence].self, from: Data(try r.decode(column: "licences", as: String.self).utf8))
        return ActualOrganization(
            id: try r.decode(column: "id", as: UUID.self), uscc: try UnifiedSocialCreditCode(try r.decode(column: "uscc", as: String.self)),
            usccCheckConfirmed: try r.decode(column: "uscc_check_confirmed", as: Bool.self), name: try r.decode(column: "name", as: String.self),
            type: .init(rawValue: try r.decode(column: "org_type", as: String.self)) ?? .other, industry: industry,
            addressID: try r.decode(column: "address_id", as: UUID.self), gridID: try r.decode(column: "grid_id", as: UUID.self),
            legalRepresentative: rep, securityContact: contact, employeeCount: try r.decode(column: "employee_count", as: Int?.self),
            keyUnit: try r.decode(column: "key_unit", as: Bool.self),
            specialTrade: try r.decode(column: "special_trade", as: String?.self).flatMap(ActualOrganization.SpecialTrade.init(rawValue:)),
            licences: licences, status: .init(rawValue: try r.decode(column: "status", as: String.self)) ?? .active)
    }
}
