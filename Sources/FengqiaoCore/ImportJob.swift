import Foundation

/// One bulk import (批量导入) run in the background on the server: who uploaded which file, how far
/// it got and what came of it. Only the account that created a job may see it.
///
/// Lifecycle: `queued` → `running` → `succeeded` or `failed`. A job fails as a whole only for a
/// file-level problem (binary file, wrong encoding, truncated, unusable header — nothing is
/// written then), an interrupted server, or an unexpected error; bad rows never fail a job, they
/// are counted and listed as issues.
public struct ImportJob: Sendable, Equatable, Codable, Identifiable {
    /// Where a job stands.
    public enum Status: String, Sendable, Codable, CaseIterable {
        /// Stored, waiting for the runner (jobs run one at a time per server).
        case queued
        /// Being read and written.
        case running
        /// Every row was read; see the counters and issues.
        case succeeded
        /// Stopped; `error` says why.
        case failed

        /// Whether the job is over (the counters no longer change).
        public var isFinished: Bool { self == .succeeded || self == .failed }
    }

    /// Rows counted so far (final once the job is finished).
    public struct Counters: Sendable, Equatable, Codable {
        /// Data rows read (the header not counted).
        public var read: Int
        /// Rows written (or, in a dry run, that would be written).
        public var imported: Int
        /// Rows already present exactly as given (a re-import adds no duplicates).
        public var unchanged: Int
        /// Rows not written because the person is registered at another address (待核实).
        public var flagged: Int
        /// Rows not written because a value failed validation.
        public var rejected: Int
        /// Standard addresses created along with residents.
        public var addressesCreated: Int

        public init(read: Int = 0, imported: Int = 0, unchanged: Int = 0, flagged: Int = 0, rejected: Int = 0, addressesCreated: Int = 0) {
            self.read = read
            self.imported = imported
            self.unchanged = unchanged
            self.flagged = flagged
            self.rejected = rejected
            self.addressesCreated = addressesCreated
        }
    }

    public var id: UUID
    /// The kind of records (`residents`, `addresses` …; see the server's import kinds).
    public var kind: String
    /// The uploaded file's name as the client gave it (display only; never a path).
    public var fileName: String
    /// Size of the upload in bytes.
    public var fileBytes: Int64
    /// Validate and count without writing.
    public var dryRun: Bool
    /// Grid for rows without a 网格编码 value.
    public var gridCode: String?
    public var status: Status
    public var counters: Counters
    /// Estimated number of data rows (from the file's line count; `nil` when it cannot be
    /// estimated, as for XLSX). Approximate: quoted line breaks and blank lines count too.
    public var estimatedRows: Int?
    /// Why the job failed (file-level error or interruption); `nil` otherwise.
    public var error: String?
    /// Header columns that no template field claims (ignored).
    public var warnings: [String]
    /// The account that uploaded the file.
    public var createdBy: UUID
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(
        id: UUID, kind: String, fileName: String, fileBytes: Int64, dryRun: Bool, gridCode: String?, status: Status = .queued,
        counters: Counters = .init(), estimatedRows: Int? = nil, error: String? = nil, warnings: [String] = [], createdBy: UUID,
        createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil
    ) {
        self.id = id
        self.kind = kind
        self.fileName = fileName
        self.fileBytes = fileBytes
        self.dryRun = dryRun
        self.gridCode = gridCode
        self.status = status
        self.counters = counters
        self.estimatedRows = estimatedRows
        self.error = error
        self.warnings = warnings
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// Share of the file done, 0…1, when it can be told: 1 once succeeded; read/estimated while
    /// running (capped below 1, the estimate is approximate); `nil` when unknown, and while the
    /// file is still being checked (no row read yet).
    public var fractionDone: Double? {
        if status == .succeeded { return 1 }
        guard status == .running, counters.read > 0, let total = estimatedRows, total > 0 else { return nil }
        return min(0.99, Double(counters.read) / Double(total))
    }
}

/// A row of an import that was not written (`rejected`) or was written elsewhere already and needs
/// a person to check it (`flagged`, 待核实).
public struct ImportJobIssue: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case rejected, flagged
    }

    /// 1-based line of the file (for XLSX, the worksheet row).
    public var line: Int
    /// The column's header as written in the file; empty for the whole row.
    public var column: String
    /// Why, in Chinese (the error file and the Chinese page).
    public var reason: String
    /// The same reason in English (the English page); `nil` for issues stored before it was kept.
    public var reasonEnglish: String?
    public var kind: Kind

    public init(line: Int, column: String, reason: String, reasonEnglish: String? = nil, kind: Kind) {
        self.line = line
        self.column = column
        self.reason = reason
        self.reasonEnglish = reasonEnglish
        self.kind = kind
    }
}
