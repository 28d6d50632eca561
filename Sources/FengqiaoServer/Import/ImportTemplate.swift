import Foundation

/// The columns one kind of import expects (导入模板), used both to read a file's header row and to
/// produce the blank template users download.
///
/// Each field has a stable `key` that the record builder uses, a Chinese and an English header
/// (either is accepted in a file), optional aliases (older or colloquial headers), and a required
/// flag. Matching ignores case, all whitespace (half- and full-width), a BOM, a trailing `*`, and
/// maps full-width ASCII (`ＩＤ`) to half-width. Example:
///
/// ```swift
/// let residents = ImportTemplate(name: "residents", fields: [
///     .init(key: "name", chineseHeader: "姓名", englishHeader: "Name", isRequired: true),
///     .init(key: "idNumber", chineseHeader: "身份证号", englishHeader: "ID number",
///           isRequired: true, aliases: ["公民身份号码", "证件号码"]),
/// ])
/// let mapping = try residents.match(header: firstRow.fields)
/// let name = row[mapping.column(for: "name")!]
/// ```
public struct ImportTemplate: Sendable, Equatable {
    /// One column of a template.
    public struct Field: Sendable, Equatable {
        /// Stable identifier the record builder asks for (not shown to users).
        public let key: String
        /// Header written in the Chinese template and accepted in files.
        public let chineseHeader: String
        /// Header written in the English template and accepted in files.
        public let englishHeader: String
        /// A file without this column is refused as a whole.
        public let isRequired: Bool
        /// Further headers accepted for this field.
        public let aliases: [String]
        /// A one-line hint on the expected content, for documentation pages.
        public let hint: String

        public init(key: String, chineseHeader: String, englishHeader: String, isRequired: Bool = false,
                    aliases: [String] = [], hint: String = "") {
            self.key = key
            self.chineseHeader = chineseHeader
            self.englishHeader = englishHeader
            self.isRequired = isRequired
            self.aliases = aliases
            self.hint = hint
        }
    }

    /// Header language of a downloaded template.
    public enum Language: Sendable, Equatable { case chinese, english }

    /// Kind of import ("residents", "houses" …), used in the download's file name.
    public let name: String
    public let fields: [Field]

    public init(name: String, fields: [Field]) {
        self.name = name
        self.fields = fields
    }

    /// The header row of the downloadable template.
    public func headerRow(_ language: Language = .chinese) -> [String] {
        fields.map { language == .chinese ? $0.chineseHeader : $0.englishHeader }
    }

    /// The template as a CSV file: a UTF-8 BOM (so Excel opens it as UTF-8, not GBK), the header
    /// row, CRLF line ending; fields quoted when they need it.
    public func csvData(_ language: Language = .chinese) -> Data {
        let line = headerRow(language).map(Self.quoted).joined(separator: ",") + "\r\n"
        return Data([0xEF, 0xBB, 0xBF]) + Data(line.utf8)
    }

    /// Matches a file's header row to the template's fields.
    /// - Returns: which 0-based column holds each field, and the columns no field claims.
    /// - Throws: `ImportFileError.unrecognizedHeader` when no column is known at all (not this
    ///   kind of table, no header row, or a foreign encoding such as Big5);
    ///   `ImportFileError.invalidHeader` listing every missing required field (by its
    ///   Chinese header) and every field given by more than one column.
    public func match(header: [String]) throws -> ImportHeaderMapping {
        var lookup: [String: Int] = [:]
        for (index, field) in fields.enumerated() {
            for name in [field.chineseHeader, field.englishHeader] + field.aliases {
                lookup[Self.normalized(name)] = lookup[Self.normalized(name)] ?? index
            }
        }
        var columns: [String: Int] = [:]
        var unknown: [ImportHeaderMapping.UnknownColumn] = []
        var duplicatedKeys: Set<String> = []
        for (column, raw) in header.enumerated() {
            let key = Self.normalized(raw)
            if key.isEmpty { continue }
            guard let index = lookup[key] else {
                unknown.append(.init(column: column, header: raw))
                continue
            }
            let field = fields[index]
            if columns[field.key] != nil {
                duplicatedKeys.insert(field.key)
            } else {
                columns[field.key] = column
            }
        }
        if columns.isEmpty, duplicatedKeys.isEmpty, !unknown.isEmpty { throw ImportFileError.unrecognizedHeader(columns: header.count) }
        let duplicated = fields.filter { duplicatedKeys.contains($0.key) }.map(\.chineseHeader)
        let missing = fields.filter { $0.isRequired && columns[$0.key] == nil }.map(\.chineseHeader)
        guard missing.isEmpty, duplicated.isEmpty else {
            throw ImportFileError.invalidHeader(missing: missing, duplicated: duplicated)
        }
        return ImportHeaderMapping(columns: columns, unknownColumns: unknown)
    }

    /// The comparison form of a header: no BOM or zero-width characters, no whitespace of any
    /// width, full-width ASCII folded to half-width, lowercased, a trailing required-mark `*` dropped.
    public static func normalized(_ header: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in header.unicodeScalars {
            switch scalar.value {
            case 0xFEFF, 0x200B, 0x200C, 0x200D, 0x2060: continue
            case 0xFF01...0xFF5E: scalars.append(Unicode.Scalar(scalar.value - 0xFEE0)!)
            default:
                if scalar.properties.isWhitespace { continue }
                scalars.append(scalar)
            }
        }
        var text = String(scalars).lowercased()
        while text.hasSuffix("*") { text.removeLast() }
        return text
    }

    private static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
