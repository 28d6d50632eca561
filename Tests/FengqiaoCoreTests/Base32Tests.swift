import Testing
@testable import FengqiaoCore

@Suite("Base32 (RFC 4648 §10)")
struct Base32Tests {
    /// RFC 4648 §10 test vectors; the project encodes without padding.
    static let vectors: [(String, String, String)] = [
        ("", "", ""),
        ("f", "MY", "MY======"),
        ("fo", "MZXQ", "MZXQ===="),
        ("foo", "MZXW6", "MZXW6==="),
        ("foob", "MZXW6YQ", "MZXW6YQ="),
        ("fooba", "MZXW6YTB", "MZXW6YTB"),
        ("foobar", "MZXW6YTBOI", "MZXW6YTBOI======"),
    ]

    @Test("encodes RFC 4648 vectors without padding", arguments: vectors)
    func encode(_ v: (String, String, String)) {
        #expect(Base32.encode(Array(v.0.utf8)) == v.1)
    }

    @Test("decodes unpadded, padded and lower-case forms", arguments: vectors)
    func decode(_ v: (String, String, String)) {
        let bytes = Array(v.0.utf8)
        #expect(Base32.decode(v.1) == bytes)
        #expect(Base32.decode(v.2) == bytes)
        #expect(Base32.decode(v.1.lowercased()) == bytes)
        #expect(Base32.decode(v.2.lowercased()) == bytes)
    }

    @Test("ignores spaces and hyphens as authenticator apps display them")
    func decodeGrouped() {
        #expect(Base32.decode("MZXW 6YTB OI") == Array("foobar".utf8))
        #expect(Base32.decode("mzxw-6ytb-oi") == Array("foobar".utf8))
        #expect(Base32.decode("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ") == Array("12345678901234567890".utf8))
    }

    @Test("refuses characters outside the alphabet", arguments: ["MZXW0", "MZXW1", "MZXW8", "MZXW9", "MZ!W6", "MZXW6_", "ÄBC", "MZ\tXQ"])
    func decodeInvalid(_ s: String) {
        #expect(Base32.decode(s) == nil)
    }

    @Test("the RFC 6238 seed encodes as authenticator apps expect")
    func rfcSeed() {
        #expect(Base32.encode(Array("12345678901234567890".utf8)) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ")
    }

    @Test("encode uses only the RFC 4648 alphabet and round-trips every length")
    func roundTrip() {
        let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var rng = SystemRandomNumberGenerator()
        for length in 0...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let text = Base32.encode(bytes)
            #expect(text.allSatisfy { alphabet.contains($0) })
            #expect(text.count == (length * 8 + 4) / 5)
            #expect(Base32.decode(text) == bytes, "length \(length)")
        }
        let all = (0...255).map(UInt8.init)
        #expect(Base32.decode(Base32.encode(all)) == all)
        #expect(Base32.encode([0xFF, 0xFF, 0xFF, 0xFF, 0xFF]) == "77777777")
        #expect(Base32.encode([0, 0, 0, 0, 0]) == "AAAAAAAA")
    }
}
