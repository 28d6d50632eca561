import Foundation
import Testing
@testable import FengqiaoCore

@Suite("TOTP / HOTP (RFC 6238, RFC 4226)")
struct TOTPTests {
    static let seed1 = [UInt8](ascii: "12345678901234567890")
    static let seed256 = [UInt8](ascii: "12345678901234567890123456789012")
    static let seed512 = [UInt8](ascii: "1234567890123456789012345678901234567890123456789012345678901234")

    struct Vector: Sendable, CustomTestStringConvertible {
        let time: Double
        let sha1: String
        let sha256: String
        let sha512: String
        var testDescription: String { "T=\(Int64(time))" }
    }

    /// RFC 6238 Appendix B.
    static let rfc6238: [Vector] = [
        Vector(time: 59, sha1: "94287082", sha256: "46119246", sha512: "90693936"),
        Vector(time: 1_111_111_109, sha1: "07081804", sha256: "68084774", sha512: "25091201"),
        Vector(time: 1_111_111_111, sha1: "14050471", sha256: "67062674", sha512: "99943326"),
        Vector(time: 1_234_567_890, sha1: "89005924", sha256: "91819424", sha512: "93441116"),
        Vector(time: 2_000_000_000, sha1: "69279037", sha256: "90698825", sha512: "38618901"),
        Vector(time: 20_000_000_000, sha1: "65353130", sha256: "77737706", sha512: "47863826"),
    ]

    @Test("RFC 6238 Appendix B, SHA1", arguments: rfc6238)
    func rfc6238SHA1(_ v: Vector) {
        let totp = TOTP(secret: Self.seed1, digits: 8, period: 30, algorithm: .sha1)
        #expect(totp.code(at: Date(timeIntervalSince1970: v.time)) == v.sha1)
    }

    @Test("RFC 6238 Appendix B, SHA256 (32-byte seed)", arguments: rfc6238)
    func rfc6238SHA256(_ v: Vector) {
        let totp = TOTP(secret: Self.seed256, digits: 8, period: 30, algorithm: .sha256)
        #expect(totp.code(at: Date(timeIntervalSince1970: v.time)) == v.sha256)
    }

    @Test("RFC 6238 Appendix B, SHA512 (64-byte seed)", arguments: rfc6238)
    func rfc6238SHA512(_ v: Vector) {
        let totp = TOTP(secret: Self.seed512, digits: 8, period: 30, algorithm: .sha512)
        #expect(totp.code(at: Date(timeIntervalSince1970: v.time)) == v.sha512)
    }

    @Test("RFC 6238 Appendix B time-step counters")
    func counters() {
        let totp = TOTP(secret: Self.seed1)
        let expected: [(Double, UInt64)] = [
            (59, 0x1), (1_111_111_109, 0x23523EC), (1_111_111_111, 0x23523ED),
            (1_234_567_890, 0x273EF07), (2_000_000_000, 0x3F940AA), (20_000_000_000, 0x27BC86AA),
        ]
        for (t, c) in expected {
            #expect(totp.counter(at: Date(timeIntervalSince1970: t)) == c, "T=\(t)")
        }
        #expect(totp.counter(at: Date(timeIntervalSince1970: 0)) == 0)
        #expect(totp.counter(at: Date(timeIntervalSince1970: 29.999)) == 0)
        #expect(totp.counter(at: Date(timeIntervalSince1970: 30)) == 1)
        let sixty = TOTP(secret: Self.seed1, period: 60)
        #expect(sixty.counter(at: Date(timeIntervalSince1970: 119)) == 1)
        #expect(sixty.counter(at: Date(timeIntervalSince1970: 120)) == 2)
    }

    /// RFC 4226 Appendix D, counters 0–9.
    static let rfc4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

    @Test("RFC 4226 Appendix D HOTP values", arguments: Array(rfc4226.enumerated()))
    func rfc4226HOTP(_ pair: (offset: Int, element: String)) {
        let hotp = TOTP(secret: Self.seed1, digits: 6)
        #expect(hotp.code(counter: UInt64(pair.offset)) == pair.element)
    }

    @Test("defaults are SHA1, 6 digits, 30 s")
    func defaults() {
        let totp = TOTP(secret: Self.seed1)
        #expect(totp.digits == 6)
        #expect(totp.period == 30)
        #expect(totp.algorithm == .sha1)
        // T=59 → counter 1 → RFC 4226 value for counter 1.
        #expect(totp.code(at: Date(timeIntervalSince1970: 59)) == "287082")
    }

    @Test("codes keep leading zeros")
    func leadingZeros() {
        let totp = TOTP(secret: Self.seed1, digits: 8)
        let code = totp.code(at: Date(timeIntervalSince1970: 1_111_111_109))
        #expect(code == "07081804")
        #expect(code.count == 8)
        // Every code has exactly `digits` ASCII digits.
        let six = TOTP(secret: Self.seed1)
        for c in UInt64(0)..<500 {
            let s = six.code(counter: c)
            #expect(s.count == 6 && s.allSatisfy { $0.isASCII && $0.isNumber }, "counter \(c): \(s)")
        }
    }

    // MARK: verify

    static let now = Date(timeIntervalSince1970: 1_000_000_005)   // counter 33_333_333
    static let totp = TOTP(secret: seed1)
    static var c: UInt64 { totp.counter(at: now) }

    @Test("accepts the current code and returns its counter")
    func verifyCurrent() {
        let t = Self.totp
        #expect(Self.c == 33_333_333)
        #expect(t.verify(t.code(counter: Self.c), at: Self.now) == Self.c)
    }

    @Test("window of ±1 step by default")
    func verifyWindow() {
        let t = Self.totp, c = Self.c
        // Sanity: the neighbouring codes differ from the current one, so acceptance is real.
        #expect(Set([c - 2, c - 1, c, c + 1, c + 2].map { t.code(counter: $0) }).count == 5)
        #expect(t.verify(t.code(counter: c - 1), at: Self.now) == c - 1)
        #expect(t.verify(t.code(counter: c + 1), at: Self.now) == c + 1)
        #expect(t.verify(t.code(counter: c - 2), at: Self.now) == nil)
        #expect(t.verify(t.code(counter: c + 2), at: Self.now) == nil)
    }

    @Test("window 0 accepts only the current step; window 2 widens it")
    func verifyWindowSizes() {
        let t = Self.totp, c = Self.c
        #expect(t.verify(t.code(counter: c), at: Self.now, window: 0) == c)
        #expect(t.verify(t.code(counter: c - 1), at: Self.now, window: 0) == nil)
        #expect(t.verify(t.code(counter: c + 1), at: Self.now, window: 0) == nil)
        #expect(t.verify(t.code(counter: c - 2), at: Self.now, window: 2) == c - 2)
        #expect(t.verify(t.code(counter: c + 2), at: Self.now, window: 2) == c + 2)
        #expect(t.verify(t.code(counter: c + 3), at: Self.now, window: 2) == nil)
    }

    @Test("a code is refused once its counter has been used (replay)")
    func verifyReplay() {
        let t = Self.totp, c = Self.c
        let code = t.code(counter: c)
        let first = t.verify(code, at: Self.now)
        #expect(first == c)
        // Second attempt with the same code, same step: refused.
        #expect(t.verify(code, at: Self.now, notAfterCounter: first) == nil)
        // Still refused a few seconds later, inside the window.
        #expect(t.verify(code, at: Self.now.addingTimeInterval(30), notAfterCounter: first) == nil)
        // An older code inside the window is refused too once a newer one was accepted.
        #expect(t.verify(t.code(counter: c - 1), at: Self.now, notAfterCounter: c) == nil)
        // The next step's code is accepted after the last one.
        #expect(t.verify(t.code(counter: c + 1), at: Self.now, notAfterCounter: c) == c + 1)
        // A last-used counter before the window does not block the current code.
        #expect(t.verify(code, at: Self.now, notAfterCounter: c - 1) == c)
    }

    @Test("malformed codes are refused", arguments: [
        "", "12345", "1234567", "12a456", "abcdef", "-12345", "+12345", "12.456",
        "１２３４５６", // full-width digits
        "١٢٣٤٥٦", // Arabic-Indic digits
    ])
    func verifyMalformed(_ code: String) {
        #expect(Self.totp.verify(code, at: Self.now) == nil)
    }

    @Test("spaces inside an otherwise valid code are ignored")
    func verifyWhitespace() {
        let t = Self.totp, c = Self.c
        let code = t.code(counter: c)
        let spaced = String(code.prefix(3)) + " " + String(code.suffix(3))
        #expect(t.verify(spaced, at: Self.now) == c)
        #expect(t.verify(" \(code)\n", at: Self.now) == c)
    }

    @Test("a wrong code of the right shape is refused")
    func verifyWrong() {
        let t = Self.totp, c = Self.c
        let valid = Set((c - 1...c + 1).map { t.code(counter: $0) })
        let wrong = ["000000", "123456", "999999", "287082"].filter { !valid.contains($0) }
        #expect(!wrong.isEmpty)
        for w in wrong { #expect(t.verify(w, at: Self.now) == nil, "\(w)") }
        // A code from another secret is refused.
        let other = TOTP(secret: [UInt8](ascii: "abcdefghijabcdefghij"))
        let foreign = other.code(at: Self.now)
        if !valid.contains(foreign) { #expect(t.verify(foreign, at: Self.now) == nil) }
    }

    @Test("near the epoch the window does not underflow")
    func verifyAtEpoch() {
        let t = TOTP(secret: Self.seed1)
        let at = Date(timeIntervalSince1970: 10)
        #expect(t.verify("755224", at: at) == 0)
        #expect(t.verify("287082", at: at) == 1)
        #expect(t.verify("359152", at: at) == nil)
    }

    @Test("8-digit verification uses 8 digits")
    func verifyEightDigits() {
        let t = TOTP(secret: Self.seed1, digits: 8)
        let at = Date(timeIntervalSince1970: 59)
        #expect(t.verify("94287082", at: at) == 1)
        #expect(t.verify("287082", at: at) == nil)
    }

    // MARK: secrets and URI

    @Test("generated secrets are 160 bits and random")
    func generateSecret() {
        let a = TOTP.generateSecret(), b = TOTP.generateSecret()
        #expect(a.count == 20)
        #expect(b.count == 20)
        #expect(a != b)
    }

    @Test("provisioning URI follows the key-URI format")
    func provisioningURI() {
        let t = TOTP(secret: Self.seed1)
        let uri = t.provisioningURI(account: "zhang.san", issuer: "Fengqiao")
        #expect(uri == "otpauth://totp/Fengqiao:zhang%2Esan?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Fengqiao&algorithm=SHA1&digits=6&period=30")
        let u2 = TOTP(secret: Self.seed256, digits: 8, period: 60, algorithm: .sha256)
            .provisioningURI(account: "a b@x", issuer: "My Org")
        #expect(u2.hasPrefix("otpauth://totp/My%20Org:a%20b%40x?secret="))
        #expect(u2.hasSuffix("&issuer=My%20Org&algorithm=SHA256&digits=8&period=60"))
        // The secret in the URI decodes back to the key.
        let secret = URLComponents(string: u2)?.queryItems?.first { $0.name == "secret" }?.value
        #expect(secret.flatMap(Base32.decode) == Self.seed256)
    }

    @Test("provisioning URI is ASCII even for a Chinese issuer or account")
    func provisioningURINonASCII() {
        let uri = TOTP(secret: Self.seed1).provisioningURI(account: "张三", issuer: "枫桥")
        #expect(uri.allSatisfy { $0.isASCII }, "\(uri)")
        #expect(URLComponents(string: uri) != nil)
    }

    @Test("constantTimeEquals compares whole strings")
    func constantTime() {
        #expect(constantTimeEquals("123456", "123456"))
        #expect(!constantTimeEquals("123456", "123457"))
        #expect(!constantTimeEquals("123456", "023456"))
        #expect(!constantTimeEquals("123456", "12345"))
        #expect(!constantTimeEquals("12345", "123456"))
        #expect(constantTimeEquals("", ""))
    }
}
