import FengqiaoCore
import FengqiaoStore
import Foundation

/// Reads the division files written by `scripts/refdata/generate` and checks every line, so an
/// import reports each bad line (with its number) instead of stopping at the first.
///
/// * Current divisions (`divisions-current.tsv`): `code<TAB>name<TAB>level<TAB>parent_code`,
///   optional header line `code	name	level	parent_code`; the parent is empty only for a province.
/// * Historic codes (`county-codes-historic.txt`): `code<TAB>name`, 6-digit codes only; the
///   level follows from the code (`…0000` province, `…00` prefecture, else county).
///
/// Both accept a UTF-8 byte-order mark, LF or CRLF line ends, blank lines and `#` comments.
public enum DivisionFileParser {
    /// A line that was not accepted.
    public struct Rejection: Sendable, Equatable, CustomStringConvertible {
        /// 1-based line number in the file.
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// The accepted rows and the rejected lines of one file.
    public struct Result: Sendable {
        public var records: [DivisionRecord]
        public var rejections: [Rejection]
    }

    public static let currentColumns = ["code", "name", "level", "parent_code"]
    static let maxNameLength = 100

    /// Parses a current-divisions file.
    public static func parseCurrent(_ text: String) -> Result {
        var out = Result(records: [], rejections: [])
        var firstLine = [String: Int]()
        var sawData = false
        for (number, line) in lines(text) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            if !sawData, fields.first?.lowercased() == "code" {
                sawData = true
                if fields.map({ $0.lowercased() }) != currentColumns {
                    out.rejections.append(.init(line: number, reason: "header must be \(currentColumns.joined(separator: ", ")) separated by tabs"))
                }
                continue
            }
            sawData = true
            guard fields.count == 4 else {
                out.rejections.append(.init(line: number, reason: "expected 4 tab-separated columns (code, name, level, parent_code), found \(fields.count)"))
                continue
            }
            do {
                let record = try current(code: fields[0], name: fields[1], level: fields[2], parent: fields[3])
                if let first = firstLine[record.code] {
                    out.rejections.append(.init(line: number, reason: "duplicate code \(record.code) (first on line \(first))"))
                    continue
                }
                firstLine[record.code] = number
                out.records.append(record)
            } catch {
                out.rejections.append(.init(line: number, reason: String(describing: error)))
            }
        }
        return out
    }

    /// Parses a historic-codes file; every record is marked historic.
    public static func parseHistoric(_ text: String) -> Result {
        var out = Result(records: [], rejections: [])
        var firstLine = [String: Int]()
        for (number, line) in lines(text) {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == 2 else {
                out.rejections.append(.init(line: number, reason: "expected 2 tab-separated columns (code, name), found \(fields.count)"))
                continue
            }
            do {
                let code = try DivisionCode(fields[0], field: "code")
                guard code.value.count == 6 else { throw DomainError.invalidField(field: "code", reason: "a historic code has 6 digits (has \(code.value.count))") }
                try checkName(fields[1])
                if let first = firstLine[code.value] {
                    out.rejections.append(.init(line: number, reason: "duplicate code \(code.value) (first on line \(first))"))
                    continue
                }
                firstLine[code.value] = number
                out.records.append(DivisionRecord(code: code.value, name: fields[1], level: code.level, parentCode: nil, historic: true))
            } catch {
                out.rejections.append(.init(line: number, reason: String(describing: error)))
            }
        }
        return out
    }

    /// Decodes a file's bytes as UTF-8.
    /// - Throws: `DomainError.invalidField` when the bytes are not UTF-8.
    public static func text(_ data: Data) throws(DomainError) -> String {
        guard let s = String(data: data, encoding: .utf8) else {
            throw .invalidField(field: "file", reason: "not UTF-8 text")
        }
        return s
    }

    /// Numbered lines without blank lines and `#` comments; a leading byte-order mark is dropped.
    /// `\r\n` is one `Character` in Swift, so CRLF files split exactly like LF files.
    static func lines(_ text: String) -> [(Int, Substring)] {
        var result: [(Int, Substring)] = []
        var number = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            var line = raw
            if number == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            result.append((number, line))
        }
        return result
    }

    static func current(code raw: String, name: String, level rawLevel: String, parent rawParent: String) throws(DomainError) -> DivisionRecord {
        let code = try DivisionCode(raw, field: "code")
        let canonical: Int = switch code.level {
        case .province, .prefecture, .county: 6
        case .township: 9
        case .village: 12
        }
        guard code.value.count == canonical else {
            throw .invalidField(field: "code", reason: "write a \(code.level.rawValue) code with \(canonical) digits (\(String(code.value.prefix(canonical))))")
        }
        guard let level = DivisionCode.Level(rawValue: rawLevel) else {
            throw .invalidField(field: "level", reason: "'\(rawLevel)' is not one of province, prefecture, county, township, village")
        }
        guard level == code.level else {
            throw .invalidField(field: "level", reason: "'\(rawLevel)' does not match code \(code.value), which is a \(code.level.rawValue) code")
        }
        try checkName(name)
        var parentCode: String?
        if level == .province {
            guard rawParent.isEmpty else { throw .invalidField(field: "parent_code", reason: "a province has no parent") }
        } else {
            guard !rawParent.isEmpty else { throw .invalidField(field: "parent_code", reason: "required for a \(level.rawValue)") }
            let parent = try DivisionCode(rawParent, field: "parent_code")
            guard parent.level < level, code.value.hasPrefix(significant(parent)) else {
                throw .invalidField(field: "parent_code", reason: "\(parent.value) cannot be the parent of \(code.value)")
            }
            parentCode = parent.value
        }
        return DivisionRecord(code: code.value, name: name, level: level, parentCode: parentCode)
    }

    static func checkName(_ name: String) throws(DomainError) {
        guard !name.isEmpty else { throw .invalidField(field: "name", reason: "must not be empty") }
        guard name.count <= maxNameLength else { throw .invalidField(field: "name", reason: "longer than \(maxNameLength) characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidField(field: "name", reason: "contains a control character")
        }
    }

    /// The digits a child's code starts with: 2 for a province, 4 for a prefecture, 6 for a
    /// county, 9 for a township.
    static func significant(_ parent: DivisionCode) -> String {
        let n: Int = switch parent.level {
        case .province: 2
        case .prefecture: 4
        case .county: 6
        case .township: 9
        case .village: 12
        }
        return String(parent.value.prefix(n))
    }
}
