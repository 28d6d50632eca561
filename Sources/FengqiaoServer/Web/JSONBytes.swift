import Foundation
import Vapor

/// A small JSON writer for the few answers that list hundreds of rows per request on a hot path
/// (the map's open events). Foundation's `JSONEncoder` builds a value tree through generic
/// `Encodable` dispatch and then sorts every object's keys; for 500 map points that is most of
/// the request's CPU. This writes bytes directly, in the same shape `JSONOut` produces: keys in
/// the order the caller writes them (callers write them sorted, as `JSONOut` sorts them), UUIDs
/// in upper case as `UUID.uuidString`, instants as ISO 8601 UTC to the second (`.iso8601`),
/// strings escaped per RFC 8259 §7 (quote, backslash, control characters; slashes unescaped).
struct JSONBytes {
    private(set) var bytes: [UInt8] = []
    private static let lowerHex: [UInt8] = Array("0123456789abcdef".utf8)
    private static let upperHex: [UInt8] = Array("0123456789ABCDEF".utf8)

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    /// Appends literal JSON punctuation or a key written by the caller (never user data).
    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends `"key":` (the key is a literal chosen by the caller).
    mutating func key(_ k: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(k)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends a JSON string, escaped.
    mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Self.lowerHex
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func int(_ n: Int) {
        guard n != 0 else { bytes.append(UInt8(ascii: "0")); return }
        if n < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = n.magnitude, digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                                      UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var k = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while m > 0 { d[k] = UInt8(48 + m % 10); m /= 10; k += 1 }
            for i in stride(from: k - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }

    /// A finite number in its shortest round-trip form (`102.9005`, `24`).
    mutating func double(_ d: Double) {
        if d == d.rounded(), abs(d) < 1e15 { int(Int(d)) } else { bytes.append(contentsOf: d.description.utf8) }
    }

    /// A coordinate stored in micro-degrees as its exact decimal (`24.670001`, `102.9`, `24`):
    /// the shortest text of the `Double` `e6 / 1e6`, as `double` writes it for every value whose
    /// magnitude is at least 1e-4 (smaller ones `JSONEncoder` writes in exponent form; both are
    /// the same JSON number).
    mutating func micro(_ e6: Int64) {
        if e6 < 0 { bytes.append(UInt8(ascii: "-")) }
        let m = e6.magnitude
        int(Int(m / 1_000_000))
        var frac = Int(m % 1_000_000)
        guard frac != 0 else { return }
        bytes.append(UInt8(ascii: "."))
        var digits = 6
        while frac % 10 == 0 { frac /= 10; digits -= 1 }
        var div = 1
        for _ in 1..<digits { div *= 10 }
        while div > 0 { bytes.append(UInt8(48 + frac / div % 10)); div /= 10 }
    }

    mutating func bool(_ b: Bool) { if b { raw("true") } else { raw("false") } }

    mutating func uuid(_ u: UUID) {
        let hex = Self.upperHex
        bytes.append(UInt8(ascii: "\""))
        withUnsafeBytes(of: u.uuid) { raw in
            for (i, b) in raw.enumerated() {
                if i == 4 || i == 6 || i == 8 || i == 10 { bytes.append(UInt8(ascii: "-")) }
                bytes.append(hex[Int(b >> 4)])
                bytes.append(hex[Int(b & 0xF)])
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// `"YYYY-MM-DDTHH:MM:SSZ"`, the instant in UTC truncated to the second (what
    /// `JSONEncoder.DateEncodingStrategy.iso8601` writes). Civil date from days since the epoch
    /// by H. Hinnant's `civil_from_days` (proleptic Gregorian).
    mutating func date(_ d: Date) {
        let t = Int(d.timeIntervalSince1970.rounded(.down))
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = t - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ n: Int) { bytes.append(UInt8(48 + n / 10)); bytes.append(UInt8(48 + n % 10)) }
        bytes.append(UInt8(ascii: "\""))
        let y = min(max(year, 0), 9999)
        two(y / 100); two(y % 100)
        bytes.append(UInt8(ascii: "-")); two(month); bytes.append(UInt8(ascii: "-")); two(day)
        bytes.append(UInt8(ascii: "T")); two(secs / 3600); bytes.append(UInt8(ascii: ":")); two(secs / 60 % 60)
        bytes.append(UInt8(ascii: ":")); two(secs % 60); bytes.append(UInt8(ascii: "Z"))
        bytes.append(UInt8(ascii: "\""))
    }

    /// The bytes as an `application/json` response.
    func response(status: HTTPResponseStatus = .ok) -> Response {
        let res = Response(status: status)
        res.headers.contentType = .json
        res.body = .init(buffer: ByteBuffer(bytes: bytes))
        return res
    }
}
