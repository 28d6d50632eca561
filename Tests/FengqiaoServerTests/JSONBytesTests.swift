@testable import FengqiaoServer
@testable import FengqiaoStore
import FengqiaoCore
import Foundation
import Testing

/// `JSONBytes` writes the map answer byte for byte as `JSONOut` encodes the documented shape.
@Suite("JSONBytes")
struct JSONBytesTests {
    static func row(_ i: Int, at t: TimeInterval, lat: Double, lon: Double, category: HazardCategory = .fire) -> MapEventRow {
        MapEventRow(id: UUID(), gridID: UUID(), category: category, state: i % 2 == 0 ? .reported : .inProgress,
                    latE6: Int64((lat * 1_000_000).rounded()), lonE6: Int64((lon * 1_000_000).rounded()), createdAt: Date(timeIntervalSince1970: t))
    }

    @Test("the map answer equals JSONOut's encoding of EventMapAPIController.Out (dates across leap days, centuries and before 1970; whole and fractional degrees; truncation)")
    func mapAnswerMatchesEncoder() throws {
        let now = Date(timeIntervalSince1970: 1_796_000_000)
        let instants: [TimeInterval] = [0, -1, -86_400 * 365 * 30 - 17, 951_782_400 /* 2000-02-29 */, 1_709_251_199 /* 2024-02-29T23:59:59Z */,
                                        1_709_251_200, 1_796_000_000 - 7_201, 4_102_444_800 /* 2100-01-01 */, 1_700_000_000.999]
        var rows: [MapEventRow] = []
        for (i, t) in instants.enumerated() {
            rows.append(Self.row(i, at: t, lat: [24.0, 24.670001, -33.5, 0.0001][i % 4], lon: [102.9005, 103.0, -0.25, 179.999999][i % 4],
                                 category: HazardCategory.allCases[i % HazardCategory.allCases.count]))
        }
        for limit in [rows.count, rows.count - 2] {
            let expected = try JSONOut.encoder.encode(EventMapAPIController.out(rows, limit: limit, now: now))
            let got = Data(EventMapAPIController.body(rows, limit: limit, now: now).bytes)
            #expect(String(decoding: got, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    @Test("strings are escaped per RFC 8259 and read back unchanged")
    func escaping() throws {
        let s = "引号\"反斜杠\\换行\n回车\r制表\t响铃\u{07}斜杠/"
        var j = JSONBytes()
        j.raw("{"); j.key("s"); j.string(s); j.raw("}")
        let back = try JSONSerialization.jsonObject(with: Data(j.bytes)) as? [String: String]
        #expect(back?["s"] == s)
        #expect(!String(decoding: j.bytes, as: UTF8.self).contains("\n"))
    }

    @Test("integers as their decimal text, including 0, negatives and the extremes")
    func integers() {
        for n in [0, 7, 10, -12, 1_000_000, Int.max, Int.min] {
            var j = JSONBytes()
            j.int(n)
            #expect(String(decoding: j.bytes, as: UTF8.self) == String(n))
        }
    }

    @Test("micro-degrees print as the same number as the Double, also below 1e-4 where JSONEncoder uses an exponent")
    func microDegrees() throws {
        for e6: Int64 in [0, 1, -1, 9, 10, 99, 100, 24_670_001, -33_500_000, 102_900_500, 179_999_999, -180_000_000, 90_000_000, 123_456] {
            var j = JSONBytes()
            j.micro(e6)
            let text = String(decoding: j.bytes, as: UTF8.self)
            #expect(Double(text) == Double(e6) / 1_000_000, "\(e6) → \(text)")
            if abs(e6) >= 100 {
                #expect(text == String(decoding: try JSONOut.encoder.encode([Double(e6) / 1_000_000]).dropFirst().dropLast(), as: UTF8.self), "\(e6)")
            }
        }
    }
}
