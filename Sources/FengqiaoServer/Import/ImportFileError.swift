import Foundation

/// Why a file as a whole cannot be imported. Any of these stops an import before a single row is
/// written; problems confined to one row or cell are `ImportCellProblem`s instead.
public enum ImportFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file has no bytes, or no row at all.
    case emptyFile
    /// An Excel 97–2003 workbook (OLE2 container, `D0 CF 11 E0`).
    case legacyExcel
    /// Not a table: `kind` names what the content looks like ("a PDF document", "a PNG image" …).
    case binaryFile(kind: String)
    /// A byte sequence that is not valid in `encoding`, first met on `line` (1-based).
    case invalidEncoding(line: Int, encoding: ImportTextEncoding)
    /// A quoted field opened on `line` is still open at the end of the file: usually a truncated upload.
    case unterminatedQuote(line: Int)
    /// One record (row) is larger than the reader accepts; guards memory against a runaway quote.
    case recordTooLong(line: Int, limitBytes: Int)
    /// An XLSX file whose parts are missing or not well-formed.
    case malformedWorkbook(String)
    /// The header row lacks required columns and/or names a field more than once.
    case invalidHeader(missing: [String], duplicated: [String])
    /// Not one column of the first row is a known header: the file is not a table of this kind,
    /// has no header row, or is text in an encoding other than UTF-8/UTF-16/GB18030 (Big5, say),
    /// which decodes to other characters. The row itself is not quoted: without a header it is data.
    case unrecognizedHeader(columns: Int)
    /// The file could not be opened or read.
    case unreadable(String)

    public var description: String {
        switch self {
        case .emptyFile:
            return "the file is empty"
        case .legacyExcel:
            return "this is an old .xls file; save it as .xlsx or CSV"
        case .binaryFile(let kind):
            return "this is \(kind), not a CSV or Excel (.xlsx) table"
        case .invalidEncoding(let line, let encoding):
            switch encoding {
            case .gb18030:
                return "line \(line) is neither valid UTF-8 nor valid GB18030/GBK text; save the file as UTF-8 CSV"
            default:
                return "line \(line) is not valid \(encoding.displayName) text"
            }
        case .unterminatedQuote(let line):
            return "the quoted field that starts on line \(line) is never closed; the file may be truncated"
        case .recordTooLong(let line, let limit):
            return "the row starting on line \(line) is longer than \(limit) bytes; check for a stray quote mark"
        case .malformedWorkbook(let reason):
            return "the Excel file cannot be read: \(reason)"
        case .invalidHeader(let missing, let duplicated):
            var parts: [String] = []
            if !missing.isEmpty { parts.append("required columns missing: " + missing.joined(separator: ", ")) }
            if !duplicated.isEmpty { parts.append("columns given more than once: " + duplicated.joined(separator: ", ")) }
            return "the header row is not usable; " + parts.joined(separator: "; ")
        case .unrecognizedHeader(let columns):
            return "none of the \(columns) columns of the first row is a known column name: the file needs the template's header row; "
                + "if it has one, the file is in an encoding other than UTF-8 or GB18030/GBK (such as Big5): save it from Excel as \"CSV UTF-8\""
        case .unreadable(let reason):
            return "the file cannot be read: \(reason)"
        }
    }
}

extension ImportFileError: LocalizedError {
    public var errorDescription: String? { description }
}
