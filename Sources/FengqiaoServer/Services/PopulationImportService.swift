import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Bulk import of standard addresses and actual residents from CSV/TSV/XLSX (domain spec, issue 3
/// "Import"). Every row goes through the same rules as `PopulationService` (the service itself
/// writes each good row: one transaction, with its audit record, per row; `PopulationService` has
/// no batch write yet). The file is read twice, streaming both times: a first pass without the
/// database finds file-level errors (binary, encoding, truncation, header), so a bad file writes
/// nothing; the second pass validates and writes row by row.
public struct PopulationImportService: Sendable {
    let app: Fengqiao
    let population: PopulationService
    let addresses = AddressRepository()
    let residents: ResidentRepository

    public init(_ app: Fengqiao) {
        self.app = app
        self.population = PopulationService(app)
        self.residents = ResidentRepository(cipher: app.cipher)
    }

    // MARK: Templates

    static let addressFields: [ImportTemplate.Field] = [
        .init(key: "gridCode", chineseHeader: "网格编码", englishHeader: "Grid code", aliases: ["网格代码", "grid"], hint: "the grid's code; may be given once with --grid-code"),
        .init(key: "divisionCode12", chineseHeader: "村级区划代码", englishHeader: "Division code", aliases: ["区划代码", "division code 12"], hint: "12 digits, optional"),
        .init(key: "street", chineseHeader: "街路巷", englishHeader: "Street", isRequired: true, aliases: ["街道", "街路巷名称"]),
        .init(key: "doorplate", chineseHeader: "门牌号", englishHeader: "Doorplate", isRequired: true, aliases: ["门牌", "door number"]),
        .init(key: "estateName", chineseHeader: "小区名称", englishHeader: "Estate", aliases: ["小区", "estate name"]),
        .init(key: "building", chineseHeader: "楼栋", englishHeader: "Building", isRequired: true, aliases: ["楼号", "栋"]),
        .init(key: "unit", chineseHeader: "单元", englishHeader: "Unit", isRequired: true, aliases: ["单元号"]),
        .init(key: "floor", chineseHeader: "楼层", englishHeader: "Floor", isRequired: true, aliases: ["层"]),
        .init(key: "room", chineseHeader: "户室号", englishHeader: "Room", isRequired: true, aliases: ["房号", "室", "房间号"]),
    ]

    /// Standard addresses: grid code (or `--grid-code`), street, doorplate, estate, building, unit, floor, room.
    public static let addressTemplate = ImportTemplate(name: "addresses", fields: addressFields)

    /// Actual residents: the person, and the residence either as an address id or as the address's
    /// fields (an address not yet registered is created).
    public static let residentTemplate = ImportTemplate(name: "residents", fields: [
        .init(key: "name", chineseHeader: "姓名", englishHeader: "Name", isRequired: true),
        .init(key: "idDocType", chineseHeader: "证件类型", englishHeader: "ID document type", aliases: ["证件种类"], hint: "GA/T 517 code or name; default 111 居民身份证"),
        .init(key: "idNumber", chineseHeader: "证件号码", englishHeader: "ID number", isRequired: true, aliases: ["身份证号", "公民身份号码", "身份证号码"]),
        .init(key: "populationType", chineseHeader: "人口类型", englishHeader: "Population type", isRequired: true, hint: "户籍 / 流动 / 境外 (registered, migrant, foreign)"),
        .init(key: "sex", chineseHeader: "性别", englishHeader: "Sex", hint: "from the ID number for 111/112"),
        .init(key: "birthDate", chineseHeader: "出生日期", englishHeader: "Birth date", hint: "YYYY-MM-DD; from the ID number for 111/112"),
        .init(key: "ethnicity", chineseHeader: "民族", englishHeader: "Ethnicity", hint: "GB/T 3304 code or name: 01, 汉族 or 汉"),
        .init(key: "hukouSeparated", chineseHeader: "人户分离", englishHeader: "Hukou separated", hint: "是/否"),
        .init(key: "hukouAddress", chineseHeader: "户籍地址", englishHeader: "Hukou address", aliases: ["户籍地详址"]),
        .init(key: "residenceReason", chineseHeader: "居住事由", englishHeader: "Residence reason", isRequired: true, hint: "务工 经商 就学 投靠 婚嫁 就医 探亲 其他"),
        .init(key: "housingRelation", chineseHeader: "与住所关系", englishHeader: "Housing relation", isRequired: true, hint: "自有 租赁 宿舍 借住 其他"),
        .init(key: "employer", chineseHeader: "服务处所", englishHeader: "Employer", aliases: ["工作单位"]),
        .init(key: "phone", chineseHeader: "联系电话", englishHeader: "Phone", aliases: ["手机号", "电话"]),
        .init(key: "registeredAt", chineseHeader: "登记日期", englishHeader: "Registration date", hint: "YYYY-MM-DD; default today"),
        .init(key: "residenceAddressId", chineseHeader: "住址ID", englishHeader: "Address id", hint: "an existing standard address; or give the address columns"),
    ] + addressFields.map { f in
        f.isRequired ? ImportTemplate.Field(key: f.key, chineseHeader: f.chineseHeader, englishHeader: f.englishHeader, aliases: f.aliases, hint: f.hint) : f
    })

    // MARK: Results

    /// A row that was not written, or written but needing attention. A rejected row with several
    /// bad fields has one issue per field (same line, each with its column).
    public struct RowIssue: Sendable, Equatable {
        /// 1-based line of the file.
        public var line: Int
        /// The column's header as written in the file (or the template's), empty for the whole row.
        public var column: String
        /// Why, in Chinese (the error file, the import page): the users are Chinese grid workers.
        public var reason: String
        /// The same reason in English (the English import page).
        public var reasonEnglish: String

        public init(line: Int, column: String, reason: String, reasonEnglish: String? = nil) {
            self.line = line
            self.column = column
            self.reason = reason
            self.reasonEnglish = reasonEnglish ?? reason
        }

        init(line: Int, column: String, _ r: ValidationReason) {
            self.init(line: line, column: column, reason: r.chinese, reasonEnglish: r.english)
        }
    }

    public struct Report: Sendable {
        public var read = 0
        public var imported = 0
        public var unchanged = 0
        public var flagged: [RowIssue] = []
        /// The issues of rejected rows: one per bad field, so a row may have several.
        public var rejected: [RowIssue] = []
        /// Rows rejected (each counted once, however many issues it has).
        public var rejectedRows = 0
        /// Addresses created while importing residents.
        public var addressesCreated = 0
        /// Header columns not in the template (ignored).
        public var warnings: [String] = []
        public var dryRun = false
        /// The file's size and the bytes read so far (CSV/TSV: a progress estimate; XLSX: known only at the end).
        public var fileBytes: Int64 = 0
        public var bytesRead: Int64 = 0

        public var summary: String {
            "\(read) read, \(imported) \(dryRun ? "would be imported" : "imported"), \(unchanged) unchanged, \(flagged.count) flagged for verification, \(rejectedRows) rejected"
        }
    }

    public struct Options: Sendable {
        public var gridCode: String?
        public var dryRun: Bool
        /// Called with the number of rows read, every `progressEvery` rows.
        public var progress: (@Sendable (Int) -> Void)?
        public var progressEvery: Int
        /// Called after every batch (`batchRows` rows) with the report so far (counters and issues).
        public var onBatch: (@Sendable (Report) -> Void)?
        /// Rows per batch (one read of existing records and one audit record each); default
        /// `PopulationImportService.batchSize`.
        public var batchRows: Int
        /// Residents on SQLite: a write transaction spans batches until it holds at least this many
        /// rows or has been open `transactionSeconds`; default `PopulationImportService.transactionRows`.
        /// On PostgreSQL each batch is its own transaction (see `ResidentWrite.shouldCommit`).
        /// Larger: fewer commits (each rewrites every index page it touched), longer waits for
        /// other writers. The rows of an open transaction are kept for a row-by-row retry.
        public var transactionRows: Int
        /// Residents: the longest a write transaction stays open before it commits at the end of
        /// its current batch, in seconds; default `PopulationImportService.transactionSeconds`.
        public var transactionSeconds: Double
        public init(gridCode: String? = nil, dryRun: Bool = false, progressEvery: Int = 10_000, progress: (@Sendable (Int) -> Void)? = nil,
                    onBatch: (@Sendable (Report) -> Void)? = nil, batchRows: Int = PopulationImportService.batchSize,
                    transactionRows: Int = PopulationImportService.transactionRows, transactionSeconds: Double = PopulationImportService.transactionSeconds) {
            self.gridCode = gridCode
            self.dryRun = dryRun
            self.progress = progress
            self.progressEvery = progressEvery
            self.onBatch = onBatch
            self.batchRows = max(1, batchRows)
            self.transactionRows = max(1, transactionRows)
            self.transactionSeconds = max(0, transactionSeconds)
        }
    }

    /// The error file: UTF-8 with BOM, columns 行号/line, 列/column, 原因/reason (Chinese); flagged
    /// rows included; a row with several bad fields has one line per field.
    public static func issuesCSV(_ report: Report) -> Data {
        func q(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var text = "行号 line,列 column,原因 reason\r\n"
        let all = (report.rejected + report.flagged.map { RowIssue(line: $0.line, column: $0.column, reason: "待核实：" + $0.reason) })
            .sorted { $0.line < $1.line }
        for i in all { text += "\(i.line),\(q(i.column)),\(q(i.reason))\r\n" }
        return Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)
    }

    // MARK: Import

    public func importAddresses(fileAt url: URL, options: Options, actor: Actor, visible: VisibleTerritory) async throws -> Report {
        try await run(url, template: Self.addressTemplate, options: options, requiresGrid: true) { state, rows, m in
            try await self.addressBatch(rows, m, state: state, options: options, actor: actor, visible: visible)
        }
    }

    public func importResidents(fileAt url: URL, options: Options, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Report {
        try await run(url, template: Self.residentTemplate, options: options, requiresGrid: true) { state, rows, m in
            try await self.residentBatch(rows, m, state: state, options: options, actor: actor, visible: visible, now: now)
        }
    }

    /// Per-import mutable state (caches and the report).
    final class State: @unchecked Sendable {
        var report = Report()
        var header: [String] = []
        var template: ImportTemplate
        var gridIDs: [String: UUID] = [:]
        /// Grid codes found missing or outside the territory (asked once).
        var unknownGrids: Set<String> = []
        /// grid → address key → address id.
        var addressIndex: [UUID: [String: UUID]] = [:]
        /// Dry run: ID numbers counted as imported, with their address.
        var pending: [String: UUID] = [:]
        /// Residents: the write transaction open across batches.
        var residentWrite: ResidentWrite?
        /// The header mapping of the file being imported.
        var mapping = ImportHeaderMapping(columns: [:], unknownColumns: [])
        /// Dry run: address keys counted as created.
        var pendingAddresses: [String: UUID] = [:]
        var pendingKeys: Set<String> = []
        init(template: ImportTemplate) { self.template = template }

        func column(_ key: String, _ m: ImportHeaderMapping) -> String {
            let k = key == "gridId" ? "gridCode" : key
            if let c = m.column(for: k), c < header.count { return header[c] }
            return template.fields.first { $0.key == k }?.chineseHeader ?? key
        }

        /// Where the field's column stands in the file (then in the template), for sorting a
        /// row's issues left to right.
        func order(_ key: String, _ m: ImportHeaderMapping) -> Int {
            let k = key == "gridId" ? "gridCode" : key
            if let c = m.column(for: k) { return c }
            return header.count + (template.fields.firstIndex { $0.key == k } ?? template.fields.count)
        }
    }

    /// Streams `url` through `handle` one row at a time (kinds without a batch write path).
    func run(_ url: URL, template: ImportTemplate, options: Options, requiresGrid: Bool = false,
             row handle: @escaping @Sendable (State, ImportRow, ImportHeaderMapping) async throws -> Void) async throws -> Report {
        try await run(url, template: template, options: options, requiresGrid: requiresGrid, batch: { state, rows, m in
            for row in rows { try await handle(state, row, m) }
        })
    }

    /// Default rows per batch: one read of existing records and one audit record each; the
    /// importer validates and seals one batch while the one before is written. Memory grows with
    /// it (about 300 MB peak at 10,000 rows, with `transactionRows`), not with the file.
    public static let batchSize = 10_000
    /// Default rows per resident write transaction (see `Options.transactionRows`); at about
    /// 17,000 rows/s the 4 s limit usually ends a transaction first. 1,000,000 residents with a
    /// 128 MiB bulk cache: 58.6 s at 100,000, 65.6 s at 50,000, 111 s with one transaction per
    /// 10,000-row batch (`scripts/bench-import`, 2-core machine).
    public static let transactionRows = 100_000
    /// Default longest open time of a resident write transaction, in seconds.
    public static let transactionSeconds = 4.0

    /// Checks the whole file first (pass 1, no database writes: a bad file writes nothing), then
    /// streams its rows through `handle` in batches of `batchSize` (pass 2). `requiresGrid`: the
    /// kind needs a grid, from a 网格编码 column, `--grid-code` or an address id column.
    func run(_ url: URL, template: ImportTemplate, options: Options, requiresGrid: Bool,
             batch handle: @escaping @Sendable (State, [ImportRow], ImportHeaderMapping) async throws -> Void) async throws -> Report {
        let reader = try ImportTableReader(fileAt: url)
        // Pass 1: file-level checks only; nothing is written when this throws.
        var mapping: ImportHeaderMapping?
        var header: [String] = []
        var dataRows = 0
        try reader.forEachRow { row in
            if mapping == nil {
                header = row.fields
                mapping = try template.match(header: row.fields)
            } else if !row.isBlank {
                dataRows += 1
            }
        }
        guard let m = mapping else { throw ImportFileError.emptyFile }
        if requiresGrid, m.column(for: "gridCode") == nil, options.gridCode == nil, m.column(for: "residenceAddressId") == nil, m.column(for: "addressId") == nil {
            throw ImportFileError.invalidHeader(missing: ["网格编码 (or --grid-code)"], duplicated: [])
        }
        if let code = options.gridCode { _ = try await gridID(code, state: nil, visible: .everything) }
        let state = State(template: template)
        state.header = header
        state.report.dryRun = options.dryRun
        state.report.warnings = m.warnings
        if dataRows == 0 { state.report.warnings.append("the file has a header row but no data rows: nothing to import") }
        state.mapping = m
        state.report.fileBytes = Int64((try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0)
        // Pass 2: stream rows from a reader thread, one batch at a time.
        let batches = BatchPipe()
        let batchSize = options.batchRows
        Thread.detachNewThread {
            do {
                var first = true
                var batch: [ImportRow] = []
                try reader.forEachRow(bytesRead: { batches.bytesRead = $0 }) { row in
                    if first { first = false; return }
                    if row.isBlank { return }
                    batch.append(row)
                    if batch.count == batchSize {
                        guard batches.send(batch) else { throw CancellationError() }
                        batch = []
                    }
                }
                if !batch.isEmpty { _ = batches.send(batch) }
                batches.finish(nil)
            } catch {
                batches.finish(error)
            }
        }
        do {
            for try await batch in batches.stream {
                batches.consumed()
                let before = state.report.read
                state.report.read += batch.count
                state.report.bytesRead = batches.bytesRead
                try await handle(state, batch, m)
                if let p = options.progress, before / options.progressEvery != state.report.read / options.progressEvery { p(state.report.read) }
                options.onBatch?(state.report)
            }
            try await finishResidentWrite(state)
        } catch {
            batches.cancel()
            if let w = state.residentWrite { w.close(); _ = try? await w.task.value }
            throw error
        }
        // A cancelled task ends the loop early without an error: release a reader still waiting.
        batches.cancel()
        try Task.checkCancellation()
        return state.report
    }

    /// Hands batches from the reader thread to the importer with one batch in flight, so memory
    /// stays flat.
    final class BatchPipe: @unchecked Sendable {
        let stream: AsyncThrowingStream<[ImportRow], any Error>
        private let continuation: AsyncThrowingStream<[ImportRow], any Error>.Continuation
        private let slot = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var cancelled = false
        private var _bytesRead: Int64 = 0
        /// Bytes of the file read by the reader thread so far.
        var bytesRead: Int64 {
            get { lock.withLock { _bytesRead } }
            set { lock.withLock { _bytesRead = newValue } }
        }

        init() {
            (stream, continuation) = AsyncThrowingStream.makeStream(of: [ImportRow].self, throwing: (any Error).self)
        }

        /// Blocks the reader thread until the batch is consumed; false when the import stopped.
        func send(_ batch: [ImportRow]) -> Bool {
            if lock.withLock({ cancelled }) { return false }
            continuation.yield(batch)
            slot.wait()
            return !lock.withLock { cancelled }
        }

        func consumed() { slot.signal() }
        func finish(_ error: (any Error)?) { continuation.finish(throwing: error) }
        func cancel() {
            lock.withLock { cancelled = true }
            slot.signal()
        }
    }

    private func gridID(_ code: String, state: State?, visible: VisibleTerritory) async throws -> UUID {
        let c = code.trimmed
        if let id = state?.gridIDs[c] { return id }
        guard !c.isEmpty else { throw DomainError.invalidField(field: "gridCode", reason: .required) }
        if state?.unknownGrids.contains(c) == true { throw DomainError.invalidField(field: "gridCode", reason: .noSuchGrid(c)) }
        if let state { try await readOutsideWrite(state) }
        guard let g = try await GridModel.query(on: app.store.db).filter(\.$code == c).first(), let id = g.id, visible.canSee(grid: id) else {
            state?.unknownGrids.insert(c)
            throw DomainError.invalidField(field: "gridCode", reason: .noSuchGrid(c))
        }
        state?.gridIDs[c] = id
        return id
    }

    /// Called before the importer reads the database while validating a row: an open resident
    /// write transaction holds a pooled connection and waits for the next batch, so a read
    /// that needed that connection would wait for it until the pool timed out (30 s, "connection
    /// deadlock"). The transaction is committed first (grid codes are cached, known and unknown,
    /// so this happens once per new code; a file of address ids commits once per batch).
    func readOutsideWrite(_ state: State) async throws {
        if state.residentWrite != nil { try await finishResidentWrite(state) }
    }

    static func addressKey(_ a: StandardAddress) -> String {
        [a.street, a.doorplate, a.estateName ?? "", a.building, a.unit, a.floor, a.room].joined(separator: "\u{1F}")
    }

    private func addressIndex(_ grid: UUID, state: State) async throws -> [String: UUID] {
        if let i = state.addressIndex[grid] { return i }
        let (list, _) = try await addresses.list(gridID: grid, visible: .everything, limit: Int(Int32.max), offset: 0, on: app.store.db)
        var i: [String: UUID] = [:]
        for a in list where a.status == .active { i[Self.addressKey(a)] = i[Self.addressKey(a)] ?? a.id }
        state.addressIndex[grid] = i
        return i
    }

    /// The row's address, validated field by field: every bad field (the grid's code included)
    /// goes to `errors`, and the result is `nil` when there is one.
    func validatedAddress(_ row: ImportRow, _ m: ImportHeaderMapping, state: State, options: Options, visible: VisibleTerritory,
                          errors: inout FieldErrorCollector) async throws -> (input: StandardAddress.Input, address: StandardAddress)? {
        func v(_ k: String) -> String? { m.value(k, in: row).map { $0.trimmed }.flatMap { $0.isEmpty ? nil : $0 } }
        var input = StandardAddress.Input(divisionCode12: v("divisionCode12"), street: v("street"), doorplate: v("doorplate"), estateName: v("estateName"),
                                          building: v("building"), unit: v("unit"), floor: v("floor"), room: v("room"))
        var gridFailed = false
        do { input.gridId = try await gridID(v("gridCode") ?? options.gridCode ?? "", state: state, visible: visible) } catch let e as DomainError {
            errors.add(e)
            gridFailed = true
        }
        do { return (input, try input.validatedCollectingAll()) } catch {
            for e in error.errors {
                if gridFailed, case .invalidField("gridId", _) = e { continue }
                errors.add(e)
            }
            return nil
        }
    }

    /// Rejects the row: one issue per bad field (`FieldErrors`, or a single `DomainError`), in
    /// the order of the file's columns, each field once; the row counts once in `rejectedRows`.
    /// Any other error (a failed query) is rethrown.
    func reject(_ state: State, _ row: ImportRow, _ m: ImportHeaderMapping, _ error: any Error) throws {
        let errors: [DomainError]
        switch error {
        case let e as FieldErrors: errors = e.errors
        case let e as DomainError: errors = [e]
        default: throw error
        }
        var issues: [(order: Int, issue: RowIssue)] = []
        var seen: Set<String> = []
        for e in errors {
            switch e {
            case .invalidField(let field, let reason):
                // One issue per column: a later error on the same column follows from the first.
                guard seen.insert(state.column(field, m)).inserted else { continue }
                issues.append((state.order(field, m), RowIssue(line: row.line, column: state.column(field, m), reason)))
            case .conflict(let field, let reason):
                guard seen.insert(state.column(field, m)).inserted else { continue }
                issues.append((state.order(field, m), RowIssue(line: row.line, column: state.column(field, m), reason: reason)))
            case .notFound(let kind):
                issues.append((Int.max, RowIssue(line: row.line, column: "", reason: "您的辖区内没有这个\(Self.kindName(kind))", reasonEnglish: "no such \(kind) in your territory")))
            default:
                throw e
            }
        }
        // A stable sort: issues of one column keep their order.
        state.report.rejected += issues.enumerated().sorted { ($0.element.order, $0.offset) < ($1.element.order, $1.offset) }.map(\.element.issue)
        state.report.rejectedRows += 1
    }

    static func kindName(_ kind: String) -> String {
        ["address": "地址", "grid": "网格", "resident": "实有人口", "house": "房屋", "organization": "单位"][kind] ?? kind
    }

    /// Reading problems (ragged rows, formula cells): the row is rejected with each problem.
    func rowProblems(_ state: State, _ row: ImportRow) -> Bool {
        guard !row.problems.isEmpty else { return false }
        for p in row.problems {
            let col = p.column.map { $0 - 1 < state.header.count ? state.header[$0 - 1] : "\($0)" } ?? ""
            state.report.rejected.append(RowIssue(line: row.line, column: col, reason: p.chinese, reasonEnglish: p.description))
        }
        state.report.rejectedRows += 1
        return true
    }

    private func addressRow(_ row: ImportRow, _ m: ImportHeaderMapping, state: State, options: Options, actor: Actor, visible: VisibleTerritory) async throws {
        if rowProblems(state, row) { return }
        do {
            var c = FieldErrorCollector()
            guard let (input, a) = try await validatedAddress(row, m, state: state, options: options, visible: visible, errors: &c) else {
                throw FieldErrors(c.errors)
            }
            let key = Self.addressKey(a)
            if try await addressIndex(a.gridID, state: state)[key] != nil {
                state.report.unchanged += 1
                return
            }
            let id = options.dryRun ? UUID() : try await population.createAddress(input, actor: actor, visible: visible).id
            state.addressIndex[a.gridID]?[key] = id
            state.report.imported += 1
        } catch {
            try reject(state, row, m, error)
        }
    }

    private func residentRow(_ row: ImportRow, _ m: ImportHeaderMapping, state: State, options: Options, actor: Actor, visible: VisibleTerritory, now: Date) async throws {
        if rowProblems(state, row) { return }
        do {
            let p = try await prepareResident(row, m, state: state, options: options, visible: visible,
                                              today: PopulationService.today(now), history: try ReferenceData.historicCountyCodes)
            var input = p.input
            let gridID = p.gridID
            let v = p.validated
            // The residence: an address id, or the address's fields.
            var newAddress: (StandardAddress.Input, String)?
            if let (ai, a) = p.address {
                let key = Self.addressKey(a)
                if let id = try await addressIndex(a.gridID, state: state)[key] {
                    input.residenceAddressId = id
                } else {
                    input.residenceAddressId = UUID()
                    newAddress = (ai, key)
                }
            }
            let number = v.value.idNumber
            let addressID = input.residenceAddressId!
            var holderAddress = try await residents.holders(ofIDNumber: number, on: app.store.db).first?.addressID
            if holderAddress == nil, options.dryRun { holderAddress = state.pending[number] }
            if let h = holderAddress {
                if h == addressID {
                    state.report.unchanged += 1
                } else {
                    state.report.flagged.append(RowIssue(line: row.line, column: state.column("idNumber", m), reason: Self.flagReason, reasonEnglish: Self.flagReasonEnglish))
                }
                return
            }
            if options.dryRun {
                state.pending[number] = addressID
                if let (_, key) = newAddress { state.addressIndex[gridID]?[key] = addressID; state.report.addressesCreated += 1 }
                state.report.imported += 1
                return
            }
            if let (ai, key) = newAddress {
                let a = try await population.createAddress(ai, actor: actor, visible: visible)
                state.addressIndex[gridID]?[key] = a.id
                state.report.addressesCreated += 1
                input.residenceAddressId = a.id
            }
            do {
                _ = try await population.createResident(input, actor: actor, visible: visible, now: now)
                state.report.imported += 1
            } catch DomainError.conflict(field: "idNumber", _) {
                // Registered meanwhile by someone else.
                let h = try await residents.holders(ofIDNumber: number, on: app.store.db).first?.addressID
                if h == input.residenceAddressId { state.report.unchanged += 1 } else {
                    state.report.flagged.append(RowIssue(line: row.line, column: state.column("idNumber", m), reason: Self.flagReason, reasonEnglish: Self.flagReasonEnglish))
                }
            }
        } catch {
            try reject(state, row, m, error)
        }
    }

    // MARK: Batch write path

    /// A validated row waiting for its batch's transaction.
    struct PendingResident {
        var line: Int
        var validated: Validated<ActualResident>
        /// The address to create with the resident, when no active address has its key.
        var newAddress: StandardAddress?
    }

    /// Addresses of a batch: each row validated, the batch's keys resolved with one query, new
    /// addresses written with their audit records in one transaction. A batch whose transaction
    /// fails is retried row by row, so one bad row never costs the others.
    private func addressBatch(_ rows: [ImportRow], _ m: ImportHeaderMapping, state: State, options: Options, actor: Actor, visible: VisibleTerritory) async throws {
        var valid: [(ImportRow, StandardAddress)] = []
        for row in rows {
            if rowProblems(state, row) { continue }
            do {
                var c = FieldErrorCollector()
                guard let a = try await validatedAddress(row, m, state: state, options: options, visible: visible, errors: &c) else {
                    throw FieldErrors(c.errors)
                }
                valid.append((row, a.address))
            } catch {
                try reject(state, row, m, error)
            }
        }
        guard !valid.isEmpty else { return }
        if options.dryRun {
            let existing = try await addresses.activeIDs(forKeys: valid.map(\.1.naturalKey), on: app.store.db)
            for (_, a) in valid {
                if existing[a.naturalKey] != nil || state.pendingKeys.contains(a.naturalKey) { state.report.unchanged += 1 } else {
                    state.pendingKeys.insert(a.naturalKey)
                    state.report.imported += 1
                }
            }
            return
        }
        let list = valid.map(\.1)
        do {
            let created = try await app.store.write(bulk: true) { [addresses, app] db in
                let existing = try await addresses.activeIDs(forKeys: list.map(\.naturalKey), on: db)
                var seen = Set(existing.keys)
                var fresh: [StandardAddress] = []
                for a in list where seen.insert(a.naturalKey).inserted { fresh.append(a) }
                if !fresh.isEmpty {
                    let entry = try await app.audit.append(Self.batchDraft(residents: [], addresses: fresh.map(\.id), warnings: [:], actor: actor), on: db)
                    try await addresses.insert(fresh, createdAuditSeq: entry.seq, on: db)
                }
                return fresh.count
            }
            state.report.imported += created
            state.report.unchanged += list.count - created
        } catch {
            app.store.logger.warning("import: address batch write failed, retrying row by row: \(String(reflecting: type(of: error)))")
            for (row, _) in valid { try await addressRow(row, m, state: state, options: options, actor: actor, visible: visible) }
        }
    }

    /// Residents of a batch: every row parsed and validated without the database; then one
    /// transaction locks the batch's ID numbers, reads their current holders and the batch's
    /// address keys, and writes the new addresses, the residents and one audit record each
    /// (multi-row statements). A person already registered at the same address is unchanged; at
    /// another address, flagged and not written. A batch whose transaction fails is retried row
    /// by row through `PopulationService`, so one bad row never costs the others.
    private func residentBatch(_ rows: [ImportRow], _ m: ImportHeaderMapping, state: State, options: Options, actor: Actor, visible: VisibleTerritory, now: Date) async throws {
        let today = PopulationService.today(now)
        let history = try ReferenceData.historicCountyCodes
        var pending: [PendingResident] = []
        var byLine: [Int: ImportRow] = [:]
        for row in rows {
            if rowProblems(state, row) { continue }
            do {
                let p = try await prepareResident(row, m, state: state, options: options, visible: visible, today: today, history: history)
                pending.append(PendingResident(line: row.line, validated: p.validated, newAddress: p.address?.address))
                byLine[row.line] = row
            } catch {
                try reject(state, row, m, error)
            }
        }
        guard !pending.isEmpty else { return }
        let flagReason = Self.flagReason
        if options.dryRun {
            let holders = try await residents.holders(ofIDNumbers: pending.map(\.validated.value.idNumber), on: app.store.db)
            let keys = try await addresses.activeIDs(forKeys: pending.compactMap { $0.newAddress?.naturalKey }, on: app.store.db)
            for p in pending {
                let number = p.validated.value.idNumber
                var addressID = p.validated.value.residenceAddressID
                if let a = p.newAddress { addressID = keys[a.naturalKey] ?? state.pendingAddresses[a.naturalKey] ?? a.id }
                if let h = holders[number]?.addressID ?? state.pending[number] {
                    if h == addressID { state.report.unchanged += 1 } else {
                        state.report.flagged.append(RowIssue(line: p.line, column: state.column("idNumber", m), reason: flagReason, reasonEnglish: Self.flagReasonEnglish))
                    }
                    continue
                }
                state.pending[number] = addressID
                if let a = p.newAddress, keys[a.naturalKey] == nil, state.pendingAddresses[a.naturalKey] == nil {
                    state.pendingAddresses[a.naturalKey] = a.id
                    state.report.addressesCreated += 1
                }
                state.report.imported += 1
            }
            return
        }
        // Seal (AES-GCM, blind indexes) and validate the next batch while this one is written:
        // wait for the previous write only now.
        let batch = pending.map { (pending: $0, sealed: residents.seal($0.validated.value)) }
        let rowsOfBatch = pending.compactMap { byLine[$0.line] }
        if let w = state.residentWrite {
            // Full (or failed): commit it, or retry its rows one by one.
            let ok = await w.written()
            if !ok { try await finishResidentWrite(state) } else if await w.shouldCommit() { try await finishResidentWrite(state) }
        }
        if state.residentWrite == nil {
            state.residentWrite = ResidentWrite(
                limitRows: options.transactionRows, limitSeconds: options.transactionSeconds,
                write: { [addresses, residents, app] db, batch in
                    try await Self.writeResidentBatch(batch, actor: actor, now: now, addresses: addresses, residents: residents, app: app, on: db)
                },
                retry: { [self] state, rows in
                    for row in rows { try await self.residentRow(row, m, state: state, options: options, actor: actor, visible: visible, now: now) }
                }, store: app.store)
        }
        state.residentWrite!.send(batch, rows: rowsOfBatch)
    }

    /// One batch of sealed residents inside the import's open transaction: locks their ID numbers
    /// (PostgreSQL), reads current holders and address keys (earlier batches of the same
    /// transaction included), then writes the new addresses, the residents and the batch's audit
    /// record.
    static func writeResidentBatch(_ batch: [(pending: PendingResident, sealed: ResidentRepository.SealedResident)], actor: Actor, now: Date,
                                   addresses: AddressRepository, residents: ResidentRepository, app: Fengqiao, on db: any Database) async throws -> ResidentWriteOutcome {
        var o = ResidentWriteOutcome()
        try await residents.lockIDNumbers(indexes: batch.map(\.sealed.idNumberIndex), on: db)
        var byIndex: [String: String] = [:]
        for b in batch { byIndex[b.sealed.idNumberIndex] = b.sealed.resident.idNumber }
        let holders = try await residents.holders(byIndex: byIndex, on: db)
        var keys = try await addresses.activeIDs(forKeys: batch.compactMap { $0.pending.newAddress?.naturalKey }, on: db)
        var seen: [String: (address: UUID, name: String)] = [:]
        var newAddresses: [StandardAddress] = []
        var accepted: [ResidentRepository.SealedResident] = []
        var warnings: [String: Int] = [:]
        for (p, sealed) in batch {
            var s = sealed
            let number = s.resident.idNumber
            var create: StandardAddress?
            if let a = p.newAddress {
                if let id = keys[a.naturalKey] { s = s.at(address: id) } else { create = a }
            }
            let r = s.resident
            if let h = holders[number].map({ (address: $0.addressID, name: $0.name ?? r.name) }) ?? seen[number] {
                if h.address != r.residenceAddressID {
                    o.flaggedLines.append(p.line)
                } else if h.name != r.name {
                    o.renamedLines.append(p.line)
                } else {
                    o.unchanged += 1
                }
                continue
            }
            if let a = create {
                newAddresses.append(a)
                keys[a.naturalKey] = a.id
            }
            seen[number] = (r.residenceAddressID, r.name)
            accepted.append(s)
            for w in p.validated.warnings { warnings[w.field, default: 0] += 1 }
        }
        if !accepted.isEmpty || !newAddresses.isEmpty {
            // One audit record for the batch; each row links to it (created_audit_seq).
            let entry = try await app.audit.append(
                Self.batchDraft(residents: accepted.map(\.resident.id), addresses: newAddresses.map(\.id), warnings: warnings, actor: actor), on: db)
            try await addresses.insert(newAddresses, createdAuditSeq: entry.seq, on: db, now: now)
            try await residents.insert(sealed: accepted, createdAuditSeq: entry.seq, on: db, now: now)
        }
        o.imported = accepted.count
        o.addressesCreated = newAddresses.count
        return o
    }

    /// The audit record of one written batch (domain spec §7.3): action `create` on residents,
    /// no single object id (each row links back through `created_audit_seq`, M0026); the detail
    /// counts the rows, carries a SHA-256 over their ids (residents, then addresses, each sorted,
    /// lowercase and newline-terminated) so the set can be checked against the tables, and counts
    /// validation warnings by field. Never a personal value.
    static func batchDraft(residents: [UUID], addresses: [UUID], warnings: [String: Int], actor: Actor) -> AuditDraft {
        let digest = AuditIDsDigest.of(residents.map(\.uuidString), addresses.map(\.uuidString))
        var detail = "bulk import: \(residents.count) residents, \(addresses.count) addresses; ids sha256 \(digest)"
        if !warnings.isEmpty { detail += "; warnings: " + warnings.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ",") }
        return actor.draft(.create, objectType: residents.isEmpty ? "address" : "resident", fields: ["residents", "addresses"], detail: detail)
    }

    /// What one batch's transaction did.
    struct ResidentWriteOutcome: Sendable {
        var imported = 0
        var addressesCreated = 0
        var unchanged = 0
        var flaggedLines: [Int] = []
        /// Same ID number at the same address under another name: flagged, not written.
        var renamedLines: [Int] = []
    }

    typealias SealedBatch = [(pending: PendingResident, sealed: ResidentRepository.SealedResident)]

    /// The import's write transaction, open across batches: a task holds it and writes each batch
    /// sent to it while the importer validates and seals the next one; it commits once it holds
    /// `limitRows` rows or has been open `limitSeconds` (checked after each batch), when another
    /// writer of the server waits (`Store.writersWaiting`), or when the file ends. Each commit rewrites every index page the transaction touched, and the
    /// ID-number, phone and name indexes are random, so transactions of many batches write far less
    /// than one per 10,000-row batch (`scripts/bench-import`). Until it commits, its batches'
    /// outcomes are not counted and their rows are kept, so a failed transaction is retried row
    /// by row and one bad row never costs the others.
    final class ResidentWrite: @unchecked Sendable {
        let task: Task<[ResidentWriteOutcome], any Error>
        private let batches: AsyncStream<SealedBatch>.Continuation
        private var acks: AsyncStream<Void>.Iterator
        private var inFlight = false
        private(set) var rows: [ImportRow] = []
        private let limitRows: Int
        private let deadline: ContinuousClock.Instant
        private let store: Store
        /// Writes `rows` one by one (after the transaction failed).
        let retry: (State, [ImportRow]) async throws -> Void

        init(limitRows: Int, limitSeconds: Double,
             write: @escaping @Sendable (any Database, SealedBatch) async throws -> ResidentWriteOutcome,
             retry: @escaping (State, [ImportRow]) async throws -> Void, store: Store) {
            let (batchStream, batches) = AsyncStream<SealedBatch>.makeStream(bufferingPolicy: .unbounded)
            let (ackStream, acks) = AsyncStream<Void>.makeStream(bufferingPolicy: .unbounded)
            self.batches = batches
            self.acks = ackStream.makeAsyncIterator()
            self.limitRows = limitRows
            self.deadline = .now + .milliseconds(Int(limitSeconds * 1000))
            self.retry = retry
            self.store = store
            task = Task {
                defer { acks.finish() }
                return try await store.write(bulk: true) { db in
                    var outcomes: [ResidentWriteOutcome] = []
                    for await batch in batchStream {
                        outcomes.append(try await write(db, batch))
                        acks.yield()
                    }
                    return outcomes
                }
            }
        }

        /// Whether to commit before sending more: the transaction holds what it should, or
        /// another writer of the server is waiting (it then waits one batch at most).
        func shouldCommit() async -> Bool {
            // PostgreSQL: one batch per transaction. Each row holds an advisory lock on its ID
            // number until the commit (`ResidentRepository.lockIDNumbers`), and the server's lock
            // table (max_locks_per_transaction × max_connections) ran out at 40,000; its commits
            // do not rewrite index pages the way SQLite's WAL does.
            if store.dialect == .postgres { return true }
            if rows.count >= limitRows || ContinuousClock.now >= deadline { return true }
            return await store.writersWaiting()
        }

        /// Hands a batch to the transaction (after `written()` for the one before).
        func send(_ batch: SealedBatch, rows: [ImportRow]) {
            self.rows += rows
            inFlight = true
            batches.yield(batch)
        }

        /// Waits until the batch sent last is written; false when the transaction failed.
        func written() async -> Bool {
            guard inFlight else { return true }
            inFlight = false
            return await acks.next() != nil
        }

        /// No more batches: the transaction commits after the last one.
        func close() { batches.finish() }
    }

    /// Commits the open transaction and adds its batches' outcomes to the report; a failed
    /// transaction's rows are retried one by one, so one bad row never costs the others.
    func finishResidentWrite(_ state: State) async throws {
        guard let w = state.residentWrite else { return }
        state.residentWrite = nil
        w.close()
        do {
            for o in try await w.task.value {
            state.report.imported += o.imported
            state.report.addressesCreated += o.addressesCreated
            state.report.unchanged += o.unchanged
            for line in o.flaggedLines {
                state.report.flagged.append(RowIssue(line: line, column: state.column("idNumber", state.mapping), reason: Self.flagReason, reasonEnglish: Self.flagReasonEnglish))
            }
            for line in o.renamedLines {
                state.report.flagged.append(RowIssue(line: line, column: state.column("name", state.mapping), reason: Self.renamedReason, reasonEnglish: Self.renamedReasonEnglish))
            }
            }
            state.report.flagged.sort { $0.line < $1.line }
        } catch {
            app.store.logger.warning("import: resident write transaction failed, retrying its \(w.rows.count) rows one by one: \(String(reflecting: type(of: error)))")
            try await w.retry(state, w.rows)
        }
    }

    static let flagReason = "此人已登记在另一地址；迁移记录前请先核实"
    static let flagReasonEnglish = "the person is already registered at another address; verify before moving the record"
    static let renamedReason = "此证件号码已在本地址以另一姓名登记；请核实哪个正确（未写入）"
    static let renamedReasonEnglish = "this ID number is registered at this address under another name; verify which is right (not written)"

    /// A resident row parsed and validated.
    struct PreparedResident {
        var input: ActualResident.Input
        var validated: Validated<ActualResident>
        var gridID: UUID
        /// The address of the row's address columns (none when the row gives an address id).
        var address: (input: StandardAddress.Input, address: StandardAddress)?
    }

    /// Parses and validates a resident row field by field: the code-table cells, the address (an
    /// id, or the address columns with the grid) and the resident's rules, so every bad field of
    /// the row is reported, not only the first. The resident's fields are checked even when the
    /// address is bad (against a placeholder address), since they do not depend on it.
    /// - Throws: `FieldErrors` listing every bad field; a failed query as it is.
    func prepareResident(_ row: ImportRow, _ m: ImportHeaderMapping, state: State, options: Options, visible: VisibleTerritory,
                         today: CalendarDate, history: some DivisionCodeHistory) async throws -> PreparedResident {
        var c = FieldErrorCollector()
        var input = Self.residentInput(row, m, errors: &c)
        var gridID: UUID?
        var address: (input: StandardAddress.Input, address: StandardAddress)?
        if let raw = m.value("residenceAddressId", in: row)?.trimmed, !raw.isEmpty {
            if let id = UUID(uuidString: raw) {
                do {
                    try await readOutsideWrite(state)
                    let a = try await addresses.find(id, visible: visible, on: app.store.db)
                    if a.status == .active {
                        input.residenceAddressId = id
                        gridID = a.gridID
                    } else {
                        c.add(.invalidField(field: "residenceAddressId", reason: .addressRetired))
                    }
                } catch DomainError.notFound {
                    c.add(.invalidField(field: "residenceAddressId", reason: .noSuchAddress))
                }
            } else {
                c.add(.invalidField(field: "residenceAddressId", reason: .notAnID))
            }
        } else if let a = try await validatedAddress(row, m, state: state, options: options, visible: visible, errors: &c) {
            address = a
            gridID = a.address.gridID
            input.residenceAddressId = a.address.id
        }
        var checked = input
        if checked.residenceAddressId == nil { checked.residenceAddressId = UUID() }
        do {
            let v = try checked.validatedCollectingAll(today: today, history: history, gridID: gridID ?? UUID())
            if c.errors.isEmpty, let gridID { return PreparedResident(input: input, validated: v, gridID: gridID, address: address) }
        } catch {
            for e in error.errors { c.add(e) }
        }
        throw FieldErrors(c.errors)
    }

    // MARK: Cell parsing

    /// Whether a document-number cell holds what Excel makes of a long number typed into a
    /// General or Number cell: `5.30481199001E+17` (the XLSX value, or a CSV saved from such a
    /// sheet). The digits past the 15th are gone and cannot be recovered from the file.
    static func looksLikeExcelNumber(_ s: String) -> Bool {
        let u = s.uppercased()
        guard let e = u.firstIndex(of: "E"), u[u.index(after: e)...].hasPrefix("+") else { return false }
        let mantissa = u[..<e]
        return !mantissa.isEmpty && mantissa.allSatisfy { $0.isASCII && ($0.isNumber || $0 == ".") } && mantissa.first?.isNumber == true
    }

    // The code tables of the resident template, keyed by the lower-cased cell text: built once,
    // not per row (a 1,000,000-row import looked each table up a million times).
    static let documentTypes: [String: IdentityDocumentType] = {
        var t: [String: IdentityDocumentType] = [:]
        for d in IdentityDocumentType.allCases { t[d.rawValue] = d; t[d.chineseName] = d }
        return t
    }()
    static let populationTypes: [String: ActualResident.PopulationType] = [
        "registered": .registered, "户籍": .registered, "户籍人口": .registered, "01": .registered, "1": .registered,
        "migrant": .migrant, "流动": .migrant, "流动人口": .migrant, "02": .migrant, "2": .migrant,
        "foreign": .foreign, "境外": .foreign, "境外人员": .foreign, "03": .foreign, "3": .foreign,
    ]
    static let sexes: [String: Sex] = ["男": .male, "女": .female, "1": .male, "2": .female, "0": .unknown, "9": .unspecified, "male": .male, "female": .female]
    static let yesNo: [String: Bool] = ["是": true, "否": false, "true": true, "false": false, "1": true, "0": false, "y": true, "n": false, "yes": true, "no": false]
    static let residenceReasons: [String: ActualResident.ResidenceReason] = [
        "work": .work, "务工": .work, "business": .business, "经商": .business, "study": .study, "就学": .study,
        "family": .family, "投靠": .family, "投靠亲友": .family, "随迁": .family, "marriage": .marriage, "婚嫁": .marriage,
        "medical": .medical, "就医": .medical, "visit": .visit, "探亲": .visit, "旅游": .visit, "探亲/旅游": .visit, "other": .other, "其他": .other,
    ]
    static let housingRelations: [String: ActualResident.HousingRelation] = [
        "owner": .owner, "自有": .owner, "tenant": .tenant, "租赁": .tenant, "dormitory": .dormitory, "宿舍": .dormitory,
        "单位宿舍": .dormitory, "学校宿舍": .dormitory, "relative": .relative, "借住": .relative, "借住亲友": .relative, "other": .other, "其他": .other,
    ]

    /// The resident's fields of a row; a cell that is not one of its code table's values goes to
    /// `errors` and leaves the field empty.
    static func residentInput(_ row: ImportRow, _ m: ImportHeaderMapping, errors c: inout FieldErrorCollector) -> ActualResident.Input {
        func v(_ k: String) -> String? { m.value(k, in: row).map { $0.trimmed }.flatMap { $0.isEmpty ? nil : $0 } }
        func pick<T>(_ k: String, _ table: [String: T], _ choices: [String], errors c: inout FieldErrorCollector) -> T? {
            guard let s = v(k) else { return nil }
            guard let t = table[s.lowercased()] else {
                c.add(.invalidField(field: k, reason: .notOneOf(s, choices: choices)))
                return nil
            }
            return t
        }
        var input = ActualResident.Input()
        input.name = v("name")
        input.idNumber = v("idNumber")
        if let raw = input.idNumber, Self.looksLikeExcelNumber(raw) {
            c.add(.invalidField(field: "idNumber", reason: .excelScientificNotation))
            input.idNumber = nil
        }
        if let s = v("idDocType") {
            // A bad type leaves the type empty, so the number is not checked against a guess.
            if let t = Self.documentTypes[s.lowercased()] { input.idDocType = t } else { c.add(.invalidField(field: "idDocType", reason: .notDocumentType(s))) }
        } else {
            input.idDocType = .residentIdCard
        }
        input.populationType = pick("populationType", Self.populationTypes, ["户籍", "流动", "境外"], errors: &c)
        input.sex = pick("sex", Self.sexes, ["男", "女"], errors: &c)
        input.birthDate = date(v("birthDate"))
        input.ethnicity = v("ethnicity")
        input.hukouSeparated = pick("hukouSeparated", Self.yesNo, ["是", "否"], errors: &c)
        input.hukouAddress = v("hukouAddress")
        input.residenceReason = pick("residenceReason", Self.residenceReasons, ["务工", "经商", "就学", "投靠", "婚嫁", "就医", "探亲", "其他"], errors: &c)
        input.housingRelation = pick("housingRelation", Self.housingRelations, ["自有", "租赁", "宿舍", "借住", "其他"], errors: &c)
        input.employer = v("employer")
        input.phone = v("phone")
        input.registeredAt = date(v("registeredAt"))
        return input
    }

    /// `2024/3/5`, `2024.03.05` and `20240305` become `2024-03-05`; anything else is left for the
    /// validator to reject.
    static func date(_ s: String?) -> String? {
        guard let s else { return nil }
        if s.count == 8, s.allSatisfy(\.isWholeNumber) {
            return "\(s.prefix(4))-\(s.dropFirst(4).prefix(2))-\(s.suffix(2))"
        }
        let parts = s.split(whereSeparator: { $0 == "/" || $0 == "." || $0 == "-" }).map(String.init)
        if parts.count == 3, parts[0].count == 4, let mo = Int(parts[1]), let d = Int(parts[2]) {
            return String(format: "%@-%02d-%02d", parts[0], mo, d)
        }
        return s
    }
}
