import Foundation

/// CSV for exports: UTF-8 with a byte-order mark (so spreadsheet programs read Chinese text),
/// CRLF line ends and RFC 4180 quoting. A cell that a spreadsheet would read as a formula (starting
/// with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'` (OWASP CSV injection advice).
enum CSVExportWriter {
    static let byteOrderMark = "\u{FEFF}"

    static func line(_ cells: [String]) -> String {
        cells.map(field).joined(separator: ",") + "\r\n"
    }

    static func field(_ raw: String) -> String {
        var s = raw
        if let f = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(f) { s = "'" + s }
        if s.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
}
