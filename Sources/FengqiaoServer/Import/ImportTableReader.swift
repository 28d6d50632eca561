import Foundation

/// Entry point for bulk import: detects a file's format by content and streams its rows,
/// whichever of CSV, TSV or XLSX it is.
///
/// ```swift
/// let reader = try ImportTableReader(fileAt: upload)        // throws ImportFileError
/// var mapping: ImportHeaderMapping?
/// try reader.forEachRow { row in
///     guard let m = mapping else { mapping = try template.match(header: row.fields); return }
///     // build a record from m.value("idNumber", in: row); report row.problems
/// }
/// ```
public struct ImportTableReader: Sendable {
    /// The file being read.
    public let url: URL
    /// The detected format.
    public let format: ImportFileFormat
    /// Read size for text files.
    public let chunkSize: Int

    /// Detects the format; throws `ImportFileError` for binary, legacy .xls and empty files.
    public init(fileAt url: URL, chunkSize: Int = 64 * 1024) throws {
        self.url = url
        self.chunkSize = chunkSize
        format = try ImportFileFormat.detect(fileAt: url)
    }

    /// Calls `body` with each row in order, the header row first. Memory stays flat: one chunk
    /// and one row for text, one row plus the shared strings for XLSX.
    /// - Throws: `ImportFileError` for a file-level failure, or what `body` throws.
    public func forEachRow(_ body: (ImportRow) throws -> Void) throws {
        try forEachRow(bytesRead: { _ in }, body)
    }

    /// `forEachRow(_:)`, telling `bytesRead` after each row how many bytes of the file were read
    /// so far (CSV/TSV; an XLSX is reported as read only at its end) — a progress estimate
    /// against the file's size.
    public func forEachRow(bytesRead: (Int64) -> Void, _ body: (ImportRow) throws -> Void) throws {
        switch format {
        case .xlsx:
            try ImportXLSXReader(fileAt: url).forEachRow(body)
            bytesRead(Int64((try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0))
        case .csv, .tsv:
            let reader = try ImportCSVReader(fileAt: url, format: format, chunkSize: chunkSize)
            while let row = try reader.next() {
                try body(row)
                bytesRead(reader.bytesRead)
            }
        }
    }
}
