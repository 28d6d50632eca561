import Foundation

/// Small text helpers used on hot paths (bulk import: a million rows of validation), written on
/// the standard library so they avoid Foundation's NSString bridging and `String(format:)`.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Lowercase hexadecimal of `bytes` (two characters per byte), e.g. for SHA-256 digests.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space, line breaks included (Unicode
    /// White_Space: what `trimmingCharacters(in: .whitespacesAndNewlines)` removes).
    public var trimmed: String {
        // Fast path (nearly every cell of an import): the first and last scalars are not white
        // space and the last one cannot extend a grapheme (below U+0300, or a CJK ideograph), so
        // no Character at either end is white space — no grapheme walk, no property lookups.
        let scalars = unicodeScalars
        if let f = scalars.first, let l = scalars.last, !Self.isWhiteSpace(f), !Self.isWhiteSpace(l),
           l.value < 0x300 || (0x3400...0x9FFF).contains(l.value) {
            return String(self)
        }
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }

    /// Unicode White_Space (PropList.txt): the property `Character.isWhitespace` tests on a
    /// character's first scalar.
    static func isWhiteSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}

extension UUID {
    /// A time-ordered UUID (RFC 9562 version 7): 48 bits of Unix milliseconds, then 74 random
    /// bits from the system generator. Records created together sort together, so their B-tree
    /// inserts append instead of touching random pages (the bulk import of a million residents),
    /// and no file is opened per id (Foundation's `UUID()` on Linux reads `/dev/urandom` each call).
    public static func timeOrdered(at now: Date = Date()) -> UUID {
        var g = SystemRandomNumberGenerator()
        let ms = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        let r1: UInt64 = g.next(), r2: UInt64 = g.next()
        let hi = (ms << 16) | 0x7000 | (r1 & 0x0FFF)
        let lo = (r2 & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        func byte(_ v: UInt64, _ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: v >> (56 - 8 * i)) }
        return UUID(uuid: (byte(hi, 0), byte(hi, 1), byte(hi, 2), byte(hi, 3), byte(hi, 4), byte(hi, 5), byte(hi, 6), byte(hi, 7),
                           byte(lo, 0), byte(lo, 1), byte(lo, 2), byte(lo, 3), byte(lo, 4), byte(lo, 5), byte(lo, 6), byte(lo, 7)))
    }
}

extension Double {
    /// The value rounded half away from zero to one decimal, as text (`2.3`, `-0.5`, `4.0`): what
    /// `String(format: "%.1f")` prints except on exact binary ties, without Foundation's
    /// formatter (statistics pages print hundreds of these).
    public var oneDecimal: String {
        guard isFinite else { return String(self) }
        let tenths = Int((self * 10).rounded())
        let whole = tenths.magnitude / 10, frac = tenths.magnitude % 10
        return (tenths < 0 ? "-" : "") + String(whole) + "." + String(frac)
    }
}
