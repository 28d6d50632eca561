import Foundation

/// Every 6-digit GB/T 2260 administrative division code that has ever existed, for checking the
/// address code of a 公民身份号码. The number is unique and never reissued when a county is
/// re-coded (GB 11643-1999), so a person from 澄江 may carry 530481, 530422 or 532423
/// (domain spec §2.2, §5.1). A full list is a data file (gb2260 revisions 1980–2019 union,
/// 7,041 codes; see domain-data.md); `HistoricDivisionCodes.builtIn` is a small fallback.
public protocol DivisionCodeHistory: Sendable {
    /// Whether `code` (6 digits) was ever a division code.
    func contains(_ code: String) -> Bool
}

/// A set of historic 6-digit division codes.
public struct HistoricDivisionCodes: DivisionCodeHistory, Hashable {
    /// The codes, each 6 ASCII digits.
    public let codes: Set<String>

    /// Makes a set from codes that are already known to be 6 digits.
    public init(_ codes: some Sequence<String>) {
        self.codes = Set(codes)
    }

    /// The built-in fallback, enough for tests and the target area without data files:
    /// 530481 澄江市, 530422 澄江县 (1997–2019), 532423 澄江县 (玉溪地区, before 1997),
    /// 530400 玉溪市, 530000 云南省, 110105 北京市朝阳区 and 440524 广东省潮阳县 (the two
    /// examples printed in GB 11643-1999). Domain spec §2.2, §5.1.
    public static let builtIn = HistoricDivisionCodes(["530481", "530422", "532423", "530400", "530000", "110105", "440524"])

    /// Parses a text list: one code per line (LF or CRLF); the code may be followed by whitespace, a tab or a
    /// comma and anything else (a name); blank lines and lines starting with `#` are skipped;
    /// a leading UTF-8 byte-order mark is ignored.
    /// - Throws: `DomainError.invalidField(field, reason)` naming the first line whose first
    ///   field is not 6 ASCII digits.
    public init(text: String, field: String = "divisionCodes") throws(DomainError) {
        var set = Set<String>()
        var lineNumber = 0
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            var line = Substring(rawLine)
            if lineNumber == 1, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
            let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let code = trimmed.prefix { !($0 == "," || $0.isWhitespace) }
            guard code.utf8.count == 6, code.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                throw .invalidField(field: field, reason: "line \(lineNumber): '\(code)' is not a 6-digit division code")
            }
            set.insert(String(code))
        }
        codes = set
    }

    /// Loads a text list (UTF-8, format as in `init(text:)`) from a file.
    /// - Throws: `DomainError.invalidField(field, reason)` when the file cannot be read as UTF-8
    ///   or a line is malformed.
    public init(contentsOf url: URL, field: String = "divisionCodes") throws(DomainError) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw .invalidField(field: field, reason: "cannot read \(url.path) as UTF-8 text")
        }
        try self.init(text: text, field: field)
    }

    /// Whether `code` is in the set.
    public func contains(_ code: String) -> Bool { codes.contains(code) }

    /// The union of two sets (for example the built-in fallback and a loaded file).
    public func union(_ other: HistoricDivisionCodes) -> HistoricDivisionCodes {
        HistoricDivisionCodes(codes.union(other.codes))
    }

    /// Number of codes.
    public var count: Int { codes.count }
}
