import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Exports of actual residents (实有人口) as CSV or XLSX: a search result or a grid's residents,
/// always masked (domain spec §5.1.1), each export audited with who, the purpose, the filter
/// (kinds of exact values only, never the values) and the row count, and each file marked with
/// who exported it, when, and the audit record's number (§7.3: exports produce a watermarked file).
///
/// Rows are read in pages of 1,000 by keyset (name, id), so a 100 k-row export never holds all
/// rows: CSV streams page by page; XLSX measures the sheet in a first pass and deflates it in a
/// second (`XLSXExportWriter`).
public struct ExportService: Sendable {
    let app: Fengqiao
    let residents: ResidentRepository
    let addresses = AddressRepository()

    public init(_ app: Fengqiao) {
        self.app = app
        self.residents = ResidentRepository(cipher: app.cipher)
    }

    /// File formats.
    public enum Format: String, Codable, Sendable, CaseIterable {
        case csv, xlsx

        public var contentType: String {
            switch self {
            case .csv: "text/csv; charset=utf-8"
            case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }

    /// What a caller asks for: the search filter (paging ignored), the format and the purpose.
    public struct Input: Codable, Sendable {
        public var filter: PopulationService.SearchInput?
        public var format: Format?
        public var purpose: String?
        public init(filter: PopulationService.SearchInput? = nil, format: Format? = nil, purpose: String? = nil) {
            self.filter = filter
            self.format = format
            self.purpose = purpose
        }
    }

    /// An export that has been checked, counted and audited, ready to be written.
    public struct Prepared: Sendable {
        public var query: ResidentQuery
        public var visible: VisibleTerritory
        public var total: Int
        public var format: Format
        public var auditSeq: Int64
        /// The watermark line (CSV first line, XLSX title row).
        public var watermark: String
        public var pageHeader: String
        public var pageFooter: String
        public var creator: String
        public var at: Date
        public var filename: String
        var labels: [String: String]
    }

    /// Rows per page read from the database.
    static let pageSize = 1000
    /// The largest export; a wider one must be narrowed by a filter.
    public static let maxRows = 200_000

    static let shanghai = TimeZone(identifier: "Asia/Shanghai") ?? .current

    static func stamp(_ d: Date, _ format: String) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = shanghai
        f.dateFormat = format
        return f.string(from: d)
    }

    /// The filter as the audit record and the watermark show it: ids and address texts, but only
    /// the kind of a name prefix, document number or phone (personal values stay out).
    static func describe(_ q: ResidentQuery) -> String {
        var parts: [String] = []
        if let g = q.gridID { parts.append("gridId=\(g.uuidString.lowercased())") }
        if let b = q.buildingID { parts.append("buildingId=\(b.uuidString.lowercased())") }
        if let b = q.building { parts.append("building=\(b)") }
        if let a = q.addressText { parts.append("addressText=\(a)") }
        if q.namePrefix != nil { parts.append("namePrefix") }
        if q.idNumber != nil { parts.append("idNumber(exact)") }
        if q.phone != nil { parts.append("phone(exact)") }
        return parts.isEmpty ? "all visible records" : parts.joined(separator: ", ")
    }

    /// A request that passed the checks, with its row count (nothing written yet).
    public struct Checked: Sendable {
        public var format: Format
        public var purpose: String
        public var filter: PopulationService.SearchInput
        public var query: ResidentQuery
        public var total: Int
        /// The filter as the audit record and the watermark show it (`describe`).
        public var filterText: String
    }

    /// Checks an export request and counts its rows, writing nothing.
    /// - Throws: `DomainError.invalidField("format" | "purpose" | "filter", …)`, also for an exact
    ///   ID number or phone in the filter (exports are of lists, not of a person found by such a
    ///   value, and the filter is kept in the approval record);
    ///   `.notFound("grid" | "building")` for a grid or building outside the caller's territory.
    public func check(_ input: Input, visible: VisibleTerritory) async throws -> Checked {
        guard let format = input.format else { throw DomainError.invalidField(field: "format", reason: "is required (csv or xlsx)") }
        let why = (input.purpose ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard why.count >= 2 else { throw DomainError.invalidField(field: "purpose", reason: "state why the export is needed (at least 2 characters)") }
        guard why.count <= 200 else { throw DomainError.invalidField(field: "purpose", reason: "must have at most 200 characters") }
        var filter = input.filter ?? .init()
        filter.limit = nil
        filter.offset = nil
        for (key, value) in [("idNumber", filter.idNumber), ("phone", filter.phone)] where !(value?.trimmed.isEmpty ?? true) {
            throw DomainError.invalidField(field: "filter.\(key)", reason: "exports are of lists (grid, building, address, name); a person found by an exact value is not exported")
        }
        let q = try filter.query()
        let db = app.store.db
        if let g = q.gridID { _ = try await app.territories.grid(g, visible: visible, on: db) }
        if let b = q.buildingID { _ = try await app.territories.building(b, visible: visible, on: db) }
        let total = try await residents.count(q, visible: visible, on: db)
        guard total <= Self.maxRows else {
            throw DomainError.invalidField(field: "filter", reason: "\(total) records exceed the export limit of \(Self.maxRows); narrow the filter (grid, building, address)")
        }
        return Checked(format: format, purpose: why, filter: filter, query: q, total: total, filterText: Self.describe(q))
    }

    /// Prepares the one export an approval allows (domain spec §7.3): the approval's filter,
    /// format and purpose, recounted in the requester's territory; in one transaction the
    /// approval is marked used and the export audited (with the approval's id), so a second
    /// download, or two at once, gets nothing.
    /// - Parameters:
    ///   - approvalID: an approved `ExportApproval` of this requester (`POST /api/v1/export-approvals`).
    ///   - labels: the localisation table of the exporter's language (column titles, values).
    /// - Throws: `DomainError.invalidField("approvalId")` when missing, pending, rejected, used or
    ///   expired; `.notFound("export approval")` for another person's approval; the errors of `check`.
    public func prepare(approvalID: UUID?, principal p: Principal, actor: Actor, labels: [String: String], now: Date = Date()) async throws -> Prepared {
        guard let approvalID else {
            throw DomainError.invalidField(field: "approvalId", reason: "an approved export request is required (domain spec §7.3); request one with POST /api/v1/export-approvals")
        }
        let approvals = ExportApprovalRepository()
        let approval = try await approvals.find(approvalID, on: app.store.db)
        _ = try approval.used(by: p.id, at: now)
        guard let format = Format(rawValue: approval.format) else { throw DomainError.invalidField(field: "format", reason: "unknown format \(approval.format)") }
        let filter = try JSONDecoder().decode(PopulationService.SearchInput.self, from: Data(approval.filter.utf8))
        let c = try await check(Input(filter: filter, format: format, purpose: approval.purpose), visible: p.visible)
        let draft = actor.draft(.export, objectType: "resident", objectID: c.query.gridID?.uuidString.lowercased(), fields: ResidentExportTable.auditFields,
                                purpose: c.purpose, detail: "format=\(format.rawValue); rows=\(c.total); masked; filter: \(c.filterText); approval \(approvalID.uuidString.lowercased()) by \(approval.approverName ?? "?")")
        let entry = try await app.store.write { [app] db in
            let current = try await approvals.find(approvalID, on: db)
            let used = try current.used(by: p.id, at: now)
            try await approvals.update(used, expecting: .approved, on: db)
            return try await app.audit.append(draft, on: db, at: now)
        }
        let t = labels
        let when = Self.stamp(now, "yyyy-MM-dd HH:mm:ss xxx")
        let who = "\(actor.name)（\(p.account.displayName)）"
        let approvalNo = String(approvalID.uuidString.lowercased().prefix(8))
        let watermark = [
            "\(t["exp.by"] ?? "Exported by") \(who)", "\(t["exp.at"] ?? "at") \(when)", "\(t["exp.rows"] ?? "rows") \(c.total)",
            "\(t["exp.auditNo"] ?? "audit") #\(entry.seq)", "\(t["exp.approval"] ?? "approval") \(approvalNo) (\(approval.approverName ?? ""))",
            "\(t["exp.purpose"] ?? "purpose") \(c.purpose)", t["exp.notice"] ?? "masked; for official use only",
        ].joined(separator: " · ")
        return Prepared(
            query: c.query, visible: p.visible, total: c.total, format: format, auditSeq: entry.seq, watermark: watermark,
            pageHeader: "\(t["exp.by"] ?? "Exported by") \(who) · \(when) · #\(entry.seq)", pageFooter: t["exp.notice"] ?? "masked; for official use only",
            creator: actor.name, at: now, filename: "residents-\(Self.stamp(now, "yyyyMMdd-HHmmss"))-\(entry.seq).\(format.rawValue)", labels: labels)
    }

    /// Calls `body` with each page of rows, in order, stopping after `p.total` rows.
    func forEachPage(_ p: Prepared, _ body: ([ResidentExportRow]) async throws -> Void) async throws {
        var cursor: ResidentCursor?
        var left = p.total
        var names: [UUID: String] = [:]
        while left > 0 {
            let page = try await residents.page(p.query, visible: p.visible, after: cursor, limit: min(Self.pageSize, left), on: app.store.db)
            guard let last = page.last else { break }
            cursor = ResidentCursor(name: last.name, id: last.id)
            left -= page.count
            try await body(try await rows(for: page, gridNames: &names))
        }
    }

    /// Adds each resident's address, grid name and 核采 state.
    func rows(for list: [ActualResident], gridNames names: inout [UUID: String]) async throws -> [ResidentExportRow] {
        let db = app.store.db
        let addrs = try await addresses.find(ids: list.map(\.residenceAddressID), on: db)
        let states = try await residents.verificationStates(list.map(\.id), on: db)
        for g in Set(list.map(\.gridID)) where names[g] == nil {
            names[g] = (try await ifFound { try await app.territories.grid(g, visible: .everything, on: db) })?.name ?? ""
        }
        return list.map { ResidentExportRow(resident: $0, address: addrs[$0.residenceAddressID], gridName: names[$0.gridID] ?? "", state: states[$0.id]) }
    }

    /// The CSV text, handed to `write` in pieces: the byte-order mark and watermark line, the
    /// column titles, then one piece per page.
    public func writeCSV(_ p: Prepared, _ write: (String) async throws -> Void) async throws {
        try await write(CSVExportWriter.byteOrderMark + CSVExportWriter.line([p.watermark]) + CSVExportWriter.line(ResidentExportTable.header(p.labels)))
        try await forEachPage(p) { rows in
            var chunk = ""
            for r in rows { chunk += CSVExportWriter.line(ResidentExportTable.cells(r, p.labels)) }
            try await write(chunk)
        }
    }

    /// The XLSX file. First pass: page through the rows, keep their ids and add up the size of
    /// their XML. Second pass, on a thread of its own (ZIPFoundation pulls the sheet
    /// synchronously): read the same ids back in batches and deflate them into the archive.
    /// - Throws: `DomainError.conflict("export", …)` if a record changed between the passes.
    public func xlsx(_ p: Prepared) async throws -> Data {
        let writer = XLSXExportWriter(
            sheetName: p.labels["exp.sheet"] ?? "Residents", title: p.watermark, header: ResidentExportTable.header(p.labels),
            widths: ResidentExportTable.widths, pageHeader: p.pageHeader, pageFooter: p.pageFooter, creator: p.creator, created: p.at)
        var ids: [UUID] = []
        var bytes = 0
        try await forEachPage(p) { rows in
            for r in rows {
                bytes += XLSXExportWriter.row(XLSXExportWriter.firstDataRow + ids.count, ResidentExportTable.cells(r, p.labels)).utf8.count
                ids.append(r.resident.id)
            }
        }
        let allIDs = ids
        let bodyBytes = bytes
        let service = self
        do {
            return try await build(writer, allIDs, bodyBytes, p, service)
        } catch is XLSXExportWriter.Failure {
            throw DomainError.conflict(field: "export", reason: "records changed while the file was written; export again")
        }
    }

    private func build(_ writer: XLSXExportWriter, _ allIDs: [UUID], _ bodyBytes: Int, _ p: Prepared, _ service: ExportService) async throws -> Data {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Data, any Error>) in
            let thread = Thread {
                do {
                    var next = 0
                    let data = try writer.archive(bodyBytes: bodyBytes) {
                        guard next < allIDs.count else { return nil }
                        let batch = Array(allIDs[next..<min(next + Self.pageSize, allIDs.count)])
                        let rows = try BlockingBridge.run { try await service.rows(ids: batch) }
                        var xml = ""
                        for (i, r) in rows.enumerated() {
                            xml += XLSXExportWriter.row(XLSXExportWriter.firstDataRow + next + i, ResidentExportTable.cells(r, p.labels))
                        }
                        next += batch.count
                        return Data(xml.utf8)
                    }
                    cont.resume(returning: data)
                } catch {
                    cont.resume(throwing: error)
                }
            }
            thread.name = "fengqiao-xlsx-export"
            thread.start()
        }
    }

    /// The rows of the given residents in the order of `ids`.
    /// - Throws: `XLSXExportWriter.Failure.changedDuringExport` when one has gone.
    func rows(ids: [UUID]) async throws -> [ResidentExportRow] {
        let found = try await residents.find(ids: ids, on: app.store.db)
        guard found.count == ids.count else { throw XLSXExportWriter.Failure.changedDuringExport }
        var names: [UUID: String] = [:]
        let rows = try await rows(for: found, gridNames: &names)
        let byID = Dictionary(uniqueKeysWithValues: rows.map { ($0.resident.id, $0) })
        return try ids.map { id in
            guard let r = byID[id] else { throw XLSXExportWriter.Failure.changedDuringExport }
            return r
        }
    }
}

/// Runs async work from a plain thread that may block (never from an event loop or the NIO
/// thread pool, whose threads the database itself needs).
enum BlockingBridge {
    final class Box<T>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }

    static func run<T: Sendable>(_ op: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let box = Box<T>()
        Task {
            do { box.result = .success(try await op()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }
}
