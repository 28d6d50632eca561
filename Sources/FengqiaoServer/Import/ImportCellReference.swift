/// A cell address in A1 notation ("C12"), as XLSX writes in `<c r="…">`.
public struct ImportCellReference: Sendable, Hashable, CustomStringConvertible {
    /// 0-based column index: A = 0, Z = 25, AA = 26, XFD = 16383.
    public let column: Int
    /// 1-based row number.
    public let row: Int

    public init(column: Int, row: Int) {
        self.column = column
        self.row = row
    }

    /// Parses "C12", "AA3", "xfd1048576"; nil for anything else. A reference without a row
    /// part ("C") parses with `row` 0, which XLSX uses nowhere but column ranges.
    public init?(_ text: String) {
        var column = 0
        var row = 0
        var letters = 0
        var digits = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z") where digits == 0:
                column = column * 26 + Int(byte - UInt8(ascii: "A")) + 1
                letters += 1
            case UInt8(ascii: "a")...UInt8(ascii: "z") where digits == 0:
                column = column * 26 + Int(byte - UInt8(ascii: "a")) + 1
                letters += 1
            case UInt8(ascii: "$"):
                continue
            case UInt8(ascii: "0")...UInt8(ascii: "9") where letters > 0:
                row = row * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                if digits > 7 { return nil }
            default:
                return nil
            }
            if letters > 3 { return nil }
        }
        guard letters > 0, digits == 0 || row > 0 else { return nil }
        self.column = column - 1
        self.row = row
    }

    /// Column letters for a 0-based index: 0 → "A", 27 → "AB".
    public static func columnName(_ index: Int) -> String {
        var n = index + 1
        var name: [Character] = []
        while n > 0 {
            let r = (n - 1) % 26
            name.append(Character(Unicode.Scalar(UInt8(65 + r))))
            n = (n - 1) / 26
        }
        return String(name.reversed())
    }

    public var description: String { Self.columnName(column) + (row > 0 ? String(row) : "") }
}
