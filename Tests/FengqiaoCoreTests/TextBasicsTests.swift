import FengqiaoCore
import Foundation
import Testing

@Suite("text basics")
struct TextBasicsTests {
    @Test("hex is lowercase, two characters per byte, and matches String(format:)")
    func hex() {
        let bytes: [UInt8] = [0, 1, 0x0f, 0x10, 0xab, 0xff]
        #expect(Hex.lowercase(bytes) == "00010f10abff")
        #expect(Hex.lowercase(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        #expect(Hex.lowercase([UInt8]()) == "")
    }

    @Test("trimmed removes white space and line breaks at both ends only")
    func trimmed() {
        #expect("  张三\t\r\n".trimmed == "张三")
        #expect("\u{3000}凤麓路 3号\u{3000}".trimmed == "凤麓路 3号")
        #expect(" \n ".trimmed == "")
        #expect("abc".trimmed == "abc")
    }

    @Test("time-ordered UUIDs carry version 7 and the RFC 9562 variant, and sort by creation time")
    func timeOrdered() {
        let t = Date(timeIntervalSince1970: 1_764_000_000)
        let a = UUID.timeOrdered(at: t), b = UUID.timeOrdered(at: t.addingTimeInterval(0.002))
        #expect(a.uuid.6 >> 4 == 7)
        #expect(a.uuid.8 >> 6 == 0b10)
        #expect(a.uuidString.lowercased() < b.uuidString.lowercased())
        // The first 48 bits are the Unix time in milliseconds.
        let ms = [a.uuid.0, a.uuid.1, a.uuid.2, a.uuid.3, a.uuid.4, a.uuid.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(ms == 1_764_000_000_000)
        #expect(Set((0..<1000).map { _ in UUID.timeOrdered(at: t) }).count == 1000)
    }

    @Test("ifFound maps only notFound to nil; other errors are rethrown")
    func ifFoundRule() async throws {
        #expect(try await ifFound { 7 } == 7)
        #expect(try await ifFound { () async throws -> Int in throw DomainError.notFound(kind: "grid") } == nil)
        await #expect(throws: DomainError.self) {
            _ = try await ifFound { () async throws -> Int in throw DomainError.invalidField(field: "x", reason: "y") }
        }
    }

    @Test("oneDecimal: one decimal, rounded half away from zero, as %.1f prints away from binary ties")
    func oneDecimal() {
        #expect(4.0.oneDecimal == "4.0")
        #expect(2.26.oneDecimal == "2.3")
        #expect(12.34.oneDecimal == "12.3")
        #expect(0.04.oneDecimal == "0.0")
        #expect((-1.26).oneDecimal == "-1.3")
        for v in [0.0, 1.5, 3.14159, 57.78, 1234.56, 0.96] {
            #expect(v.oneDecimal == String(format: "%.1f", v), "\(v)")
        }
    }
}
