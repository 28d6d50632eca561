import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Bulk imports from the browser and the API, run as background jobs (批量导入任务): the upload is
/// kept under `<data-dir>/imports/` while its job runs, the job's state lives in `import_jobs`,
/// and the rows it did not write in `import_job_issues`. The import itself is
/// `PopulationImportService` (the same rules as the CLI and single-record writes).
///
/// A job is visible to its creator only (others get `DomainError.notFound`).
struct ImportJobService: Sendable {
    let app: Fengqiao
    let jobs = ImportJobRepository()
    let uploads: ImportUploads

    init(_ app: Fengqiao) {
        self.app = app
        uploads = ImportUploads(dataDirectory: app.config.dataDirectory)
    }

    /// What the uploader asked for, validated.
    struct Request: Sendable {
        var kind: ImportKind
        var fileName: String
        var dryRun: Bool
        var gridCode: String?
    }

    /// The kind named in a request.
    /// - Throws: `DomainError.invalidField("kind")` for a missing or unknown kind.
    static func kind(_ raw: String?) throws -> ImportKind {
        guard let raw, !raw.isEmpty else {
            throw DomainError.invalidField(field: "kind", reason: "is required (one of \(ImportKind.all.map(\.id).joined(separator: ", ")))")
        }
        guard let k = ImportKind.named(raw) else {
            throw DomainError.invalidField(field: "kind", reason: "\(raw.prefix(40)) is not one of \(ImportKind.all.map(\.id).joined(separator: ", "))")
        }
        return k
    }

    /// `true`/`false` (also `1`/`0`, `on` from a checkbox); absent is `false`.
    static func flag(_ raw: String?, field: String) throws -> Bool {
        guard let raw, !raw.isEmpty else { return false }
        switch raw.lowercased() {
        case "true", "1", "on", "yes": return true
        case "false", "0", "off", "no": return false
        default: throw DomainError.invalidField(field: field, reason: "must be true or false")
        }
    }

    /// A display name for the upload: the last path component, control characters removed, at
    /// most 200 characters; "upload" when nothing is left.
    static func displayName(_ raw: String?) -> String {
        let last = (raw ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(String.UnicodeScalarView(last.unicodeScalars.filter { !$0.properties.isWhitespace || $0 == " " }.filter { $0.value >= 0x20 && $0.value != 0x7F }))
            .trimmingCharacters(in: .whitespaces)
        return clean.isEmpty ? "upload" : String(clean.prefix(200))
    }

    /// Checks the grid code given for the whole file before the upload is accepted.
    /// - Throws: `DomainError.invalidField("gridCode")` when no grid of the caller's territory has it.
    func checkGrid(_ code: String?, visible: VisibleTerritory) async throws -> String? {
        guard let c = code?.trimmingCharacters(in: .whitespaces), !c.isEmpty else { return nil }
        guard c.count <= 64, let g = try await GridModel.query(on: app.store.db).filter(\.$code == c).first(), let id = g.id, visible.canSee(grid: id) else {
            throw DomainError.invalidField(field: "gridCode", reason: "no grid \(c.prefix(20)) in your territory")
        }
        return c
    }

    /// Stores a new job for an upload already on disk, with its audit record, in one transaction.
    /// The caller hands it to the runner afterwards.
    func create(id: UUID, _ r: Request, fileBytes: Int64, actor: Actor, owner: UUID, now: Date = Date()) async throws -> ImportJob {
        let job = ImportJob(id: id, kind: r.kind.id, fileName: r.fileName, fileBytes: fileBytes, dryRun: r.dryRun, gridCode: r.gridCode, createdBy: owner, createdAt: now)
        let jobs = self.jobs
        let audit = app.audit
        try await app.store.write { db in
            try await jobs.insert(job, on: db)
            _ = try await audit.append(actor.draft(.create, objectType: "import-job", objectID: id.uuidString.lowercased(),
                                                   detail: "kind=\(r.kind.id) dryRun=\(r.dryRun) bytes=\(fileBytes)"), on: db)
        }
        return job
    }

    func job(_ id: UUID, owner: UUID) async throws -> ImportJob {
        try await jobs.find(id, owner: owner, on: app.store.db)
    }

    func recent(owner: UUID, limit: Int = 50) async throws -> [ImportJob] {
        try await jobs.list(owner: owner, limit: limit, on: app.store.db)
    }

    /// The job's issues in file order, page by page (for the CSV and the job page).
    func issues(_ id: UUID, owner: UUID, afterSeq: Int = -1, limit: Int) async throws -> [(seq: Int, issue: ImportJobIssue)] {
        _ = try await job(id, owner: owner)
        return try await jobs.issues(id, afterSeq: afterSeq, limit: limit, on: app.store.db)
    }

    // MARK: Issues report

    /// The header of the issues CSV (bilingual, like the CLI's `--errors` file).
    static let issuesHeader = "行号 line,列 column,处理 result,原因 reason\r\n"

    /// One CSV line of an issue: fields quoted when they need it (RFC 4180); a field starting with
    /// `= + - @` gets a leading `'` so a spreadsheet never runs it as a formula (OWASP CSV injection).
    static func issueLine(_ i: ImportJobIssue) -> String {
        func q(_ s: String) -> String {
            var v = s
            if let f = v.first, "=+-@\t\r".contains(f) { v = "'" + v }
            return v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v
        }
        let result = i.kind == .rejected ? "未导入 rejected" : "待核实 flagged"
        return "\(i.line),\(q(i.column)),\(result),\(q(i.reason))\r\n"
    }

    // MARK: Progress estimate

    /// Approximate number of data rows of a CSV/TSV file (its line breaks, minus the header); `nil`
    /// for XLSX or a file that cannot be read. Streams the file in 1 MiB blocks.
    static func estimateRows(_ url: URL) -> Int? {
        guard let format = try? ImportFileFormat.detect(fileAt: url) else { return nil }
        let encoding: ImportTextEncoding
        switch format {
        case .xlsx: return nil
        case .csv(let e), .tsv(let e): encoding = e
        }
        guard let h = try? FileHandle(forReadingFrom: url) else { return nil }
        defer { try? h.close() }
        var lines = 0
        var last: UInt8 = 0x0A
        var offset = 0
        while let block = try? h.read(upToCount: 1 << 20), !block.isEmpty {
            block.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                for (i, b) in raw.enumerated() {
                    switch encoding {
                    case .utf16LE:
                        if b == 0x0A, (offset + i) % 2 == 0, i + 1 < raw.count, raw[i + 1] == 0 { lines += 1 }
                    case .utf16BE:
                        if b == 0x0A, (offset + i) % 2 == 1, i > 0, raw[i - 1] == 0 { lines += 1 }
                    default:
                        if b == 0x0A { lines += 1 }
                    }
                }
                if let l = raw.last { last = l }
            }
            offset += block.count
        }
        if last != 0x0A && last != 0x00 { lines += 1 }
        return max(0, lines - 1)
    }
}

/// Messages stored with a failed job: Chinese first, then English, since the page shows them as
/// they are and the file-level errors' own texts are English.
enum ImportJobMessage {
    static let safeZH = "重新上传同一文件是安全的：已导入的行不会重复导入。"
    static let safeEN = "Uploading the same file again is safe: rows already imported are not imported twice."

    /// - Parameter n: rows read when it stopped, if known.
    static func interrupted(afterRows n: Int?) -> String {
        let zh = n.map { "，已读 \($0) 行" } ?? ""
        let en = n.map { " after \($0) rows" } ?? ""
        return "导入因服务器停止（重启或故障）而中断\(zh)。\(safeZH) / The import was interrupted when the server stopped (restart or crash)\(en). \(safeEN)"
    }

    static func unexpected(afterRows n: Int) -> String {
        "导入在第 \(n) 行附近意外停止，之前的行可能已导入。\(safeZH) / The import stopped unexpectedly near row \(n); earlier rows may have been imported. \(safeEN)"
    }

    /// A file-level error (nothing was written) in both languages.
    static func fileError(_ e: ImportFileError) -> String {
        "\(chinese(e))，未导入任何数据。 / \(e.description); nothing was imported."
    }

    /// A problem with the options (grid code gone meanwhile …), nothing written.
    static func invalid(_ e: DomainError) -> String {
        "导入参数无效（\(e.description)），未导入任何数据。 / \(e.description); nothing was imported."
    }

    static func chinese(_ e: ImportFileError) -> String {
        if case .emptyFile = e { return "文件为空" }
        if case .legacyExcel = e { return "这是旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后上传" }
        if case .binaryFile(let kind) = e { return "这不是 CSV 或 Excel（.xlsx）表格（\(kind)）" }
        if case .invalidEncoding(let line, let enc) = e {
            return enc == .gb18030 ? "第 \(line) 行既不是有效的 UTF-8 也不是有效的 GB18030/GBK 文本，请另存为“CSV UTF-8”" : "第 \(line) 行不是有效的 \(enc.displayName) 文本"
        }
        if case .unterminatedQuote(let line) = e { return "第 \(line) 行开始的带引号字段没有结束，文件可能不完整（上传中断？）" }
        if case .recordTooLong(let line, let limit) = e { return "第 \(line) 行超过 \(limit) 字节，请检查是否有多余的引号" }
        if case .malformedWorkbook(let reason) = e { return "无法读取 Excel 文件（\(reason)）" }
        if case .invalidHeader(let missing, let duplicated) = e {
            var parts: [String] = []
            if !missing.isEmpty { parts.append("缺少必填列：" + missing.joined(separator: "、")) }
            if !duplicated.isEmpty { parts.append("重复的列：" + duplicated.joined(separator: "、")) }
            return "表头不可用，" + parts.joined(separator: "；")
        }
        if case .unrecognizedHeader(let n) = e {
            return "第一行的 \(n) 列都不是模板中的列名：文件需要模板的表头行；如已有表头，文件可能不是 UTF-8 或 GB18030/GBK 编码（例如 Big5），请在 Excel 中另存为“CSV UTF-8”"
        }
        if case .unreadable(let reason) = e { return "无法读取文件（\(reason)）" }
        return "文件无法导入"
    }
}
