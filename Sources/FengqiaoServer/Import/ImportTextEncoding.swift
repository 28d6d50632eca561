import Foundation

/// The character encoding of a CSV/TSV file, as found by `ImportFileFormat.detect(fileAt:)`.
public enum ImportTextEncoding: String, Sendable, Equatable, CaseIterable {
    /// UTF-8 without a byte-order mark.
    case utf8
    /// UTF-8 with the `EF BB BF` mark Excel writes for "CSV UTF-8".
    case utf8BOM
    /// UTF-16 little-endian (with `FF FE`, or recognised without a mark).
    case utf16LE
    /// UTF-16 big-endian (with `FE FF`, or recognised without a mark).
    case utf16BE
    /// GB18030, a superset of GBK/GB2312: what Chinese Excel writes for "CSV".
    case gb18030

    /// Name for messages.
    public var displayName: String {
        switch self {
        case .utf8, .utf8BOM: return "UTF-8"
        case .utf16LE: return "UTF-16LE"
        case .utf16BE: return "UTF-16BE"
        case .gb18030: return "GB18030"
        }
    }

    /// The name glibc's iconv knows the encoding by.
    var iconvName: String {
        switch self {
        case .utf8, .utf8BOM: return "UTF-8"
        case .utf16LE: return "UTF-16LE"
        case .utf16BE: return "UTF-16BE"
        case .gb18030: return "GB18030"
        }
    }

    /// The width of one code unit, used to find delimiters in a sample.
    var codeUnitWidth: Int {
        switch self {
        case .utf16LE, .utf16BE: return 2
        default: return 1
        }
    }
}
