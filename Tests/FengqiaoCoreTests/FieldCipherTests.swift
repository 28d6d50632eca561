import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Field-level encryption (AES-256-GCM) and blind index")
struct FieldCipherTests {
    static let k1 = [UInt8](repeating: 0x11, count: 32)
    static let k2 = [UInt8](repeating: 0x22, count: 32)
    static let ix = [UInt8](repeating: 0x33, count: 32)

    static func cipher(_ keys: [String: [UInt8]] = ["k1": k1], current: String = "k1", index: [UInt8] = ix) throws -> FieldCipher {
        try FieldCipher(keys: keys, currentKeyID: current, indexKey: index)
    }

    /// The raw nonce ‖ ciphertext ‖ tag of a stored value.
    static func payload(_ stored: String) -> Data? {
        Data(base64Encoded: String(stored.split(separator: ":", maxSplits: 2)[2]))
    }

    static func replacePayload(_ stored: String, _ data: Data) -> String {
        let parts = stored.split(separator: ":", maxSplits: 2)
        return "\(parts[0]):\(parts[1]):" + data.base64EncodedString()
    }

    /// The `FieldCipher.Failure` thrown by `body`, or `nil` if it succeeds or throws something else.
    static func failure(_ body: () throws -> Void) -> FieldCipher.Failure? {
        do { try body(); return nil } catch { return error as? FieldCipher.Failure }
    }

    @Test("round trip", arguments: ["530481199001010011", "", "张三", "13800138000", "a:b:c", String(repeating: "x", count: 10_000), "👮‍♀️ emoji"])
    func roundTrip(_ text: String) throws {
        let c = try Self.cipher()
        let sealed = c.seal(text)
        #expect(sealed.hasPrefix("fq1:k1:"))
        if text.count >= 4 { #expect(!sealed.dropFirst(7).contains(text)) }
        #expect(try c.open(sealed) == text)
    }

    @Test("stored form is fq1:<key>:base64(12-byte nonce ‖ ciphertext ‖ 16-byte tag)")
    func storedForm() throws {
        let c = try Self.cipher()
        let sealed = c.seal("hello")
        let data = try #require(Self.payload(sealed))
        #expect(data.count == 12 + 5 + 16)
        #expect(c.currentKeyID == "k1")
    }

    @Test("two seals of the same plaintext differ (random nonce)")
    func randomNonce() throws {
        let c = try Self.cipher()
        let a = c.seal("530481199001010011"), b = c.seal("530481199001010011")
        #expect(a != b)
        #expect(Self.payload(a)?.prefix(12) != Self.payload(b)?.prefix(12))
        #expect(try c.open(a) == c.open(b))
    }

    @Test("any altered byte fails authentication", arguments: [0, 5, 11, 12, 15, 20, 28, 32, 40])
    func tampered(_ index: Int) throws {
        let c = try Self.cipher()
        let sealed = c.seal("530481199001010011") // 12 + 18 + 16 = 46 bytes
        var data = try #require(Self.payload(sealed))
        #expect(data.count == 46)
        data[data.startIndex + index] ^= 0x01
        let altered = Self.replacePayload(sealed, data)
        #expect(Self.failure { _ = try c.open(altered) } == .authenticationFailed)
    }

    @Test("a truncated or extended payload fails authentication")
    func truncated() throws {
        let c = try Self.cipher()
        let sealed = c.seal("secret")
        let data = try #require(Self.payload(sealed))
        #expect(Self.failure { _ = try c.open(Self.replacePayload(sealed, data.dropLast())) } == .authenticationFailed)
        #expect(Self.failure { _ = try c.open(Self.replacePayload(sealed, data + Data([0]))) } == .authenticationFailed)
        #expect(Self.failure { _ = try c.open(Self.replacePayload(sealed, Data([1, 2, 3]))) } == .authenticationFailed)
    }

    @Test("a different key under the same id fails authentication")
    func wrongKey() throws {
        let sealed = try Self.cipher().seal("secret")
        let other = try Self.cipher(["k1": Self.k2])
        #expect(Self.failure { _ = try other.open(sealed) } == .authenticationFailed)
    }

    @Test("relabelling a value with another key id fails authentication")
    func relabelled() throws {
        let c = try Self.cipher(["k1": Self.k1, "k2": Self.k2], current: "k1")
        let sealed = c.seal("secret")
        let relabelled = sealed.replacingOccurrences(of: "fq1:k1:", with: "fq1:k2:")
        #expect(Self.failure { _ = try c.open(relabelled) } == .authenticationFailed)
    }

    @Test("an unknown key id is reported by name")
    func unknownKey() throws {
        let c = try Self.cipher(["k1": Self.k1, "k2": Self.k2], current: "k2")
        let sealed = c.seal("secret")
        let old = try Self.cipher()
        #expect(Self.failure { _ = try old.open(sealed) } == .unknownKey("k2"))
    }

    @Test("malformed values", arguments: ["", "plain text", "fq1:k1", "fq2:k1:AAAA", "FQ1:k1:AAAA", "fq1:k1:***not base64***", ":k1:AAAA"])
    func malformed(_ stored: String) throws {
        let c = try Self.cipher()
        #expect(Self.failure { _ = try c.open(stored) } == .malformed)
    }

    @Test("rotation: old values open after a new current key is added; new values use it")
    func rotation() throws {
        let before = try Self.cipher(["k1": Self.k1], current: "k1")
        let old = before.seal("530481199001010011")
        let after = try Self.cipher(["k1": Self.k1, "k2": Self.k2], current: "k2")
        #expect(after.currentKeyID == "k2")
        #expect(try after.open(old) == "530481199001010011")
        let new = after.seal("530481199001010011")
        #expect(new.hasPrefix("fq1:k2:"))
        #expect(try after.open(new) == "530481199001010011")
        // Once k1 is retired, old values are reported as needing it.
        let retired = try Self.cipher(["k2": Self.k2], current: "k2")
        #expect(Self.failure { _ = try retired.open(old) } == .unknownKey("k1"))
        #expect(try retired.open(new) == "530481199001010011")
    }

    @Test("blind index is deterministic and independent of the encryption keys")
    func blindIndex() throws {
        let a = try Self.cipher(["k1": Self.k1], current: "k1")
        let b = try Self.cipher(["k1": Self.k1, "k2": Self.k2], current: "k2")
        let c = try Self.cipher(["other": FieldCipher.generateKey()], current: "other")
        let v = "530481199001010011"
        let i = a.blindIndex(v)
        #expect(i.count == 64)
        #expect(i.allSatisfy { "0123456789abcdef".contains($0) })
        #expect(a.blindIndex(v) == i)
        #expect(b.blindIndex(v) == i)
        #expect(c.blindIndex(v) == i)
        #expect(a.blindIndex("530481199001010012") != i)
        #expect(a.blindIndex("") != i)
        // It reveals neither the value nor an unkeyed hash of it.
        #expect(!i.contains(v))
    }

    @Test("blind index depends on the index key")
    func blindIndexKeyed() throws {
        let a = try Self.cipher(index: Self.ix)
        let b = try Self.cipher(index: [UInt8](repeating: 0x34, count: 32))
        #expect(a.blindIndex("x") != b.blindIndex("x"))
    }

    @Test("init refuses a current key outside the ring")
    func missingCurrent() {
        #expect(invalidFieldName { _ = try FieldCipher(keys: ["k1": Self.k1], currentKeyID: "k2", indexKey: Self.ix) } == "FENGQIAO_KEY_ID")
        #expect(invalidFieldName { _ = try FieldCipher(keys: [:], currentKeyID: "k1", indexKey: Self.ix) } == "FENGQIAO_KEY_ID")
    }

    @Test("init refuses wrong key sizes", arguments: [0, 16, 24, 31, 33, 64])
    func wrongKeySize(_ size: Int) {
        let bad = [UInt8](repeating: 7, count: size)
        #expect(invalidFieldName { _ = try FieldCipher(keys: ["k1": bad], currentKeyID: "k1", indexKey: Self.ix) } == "key k1")
        #expect(invalidFieldName { _ = try FieldCipher(keys: ["k1": Self.k1, "old": bad], currentKeyID: "k1", indexKey: Self.ix) } == "key old")
        #expect(invalidFieldName { _ = try FieldCipher(keys: ["k1": Self.k1], currentKeyID: "k1", indexKey: bad) } == "index key")
    }

    @Test("generated keys are 32 random bytes")
    func generateKey() {
        let a = FieldCipher.generateKey(), b = FieldCipher.generateKey()
        #expect(a.count == 32)
        #expect(a != b)
    }

    @Test("a key id containing ':' is refused at init (it could never be opened)")
    func colonInKeyID() throws {
        #expect(throws: DomainError.self) {
            try FieldCipher(keys: ["2024:01": Self.k1], currentKeyID: "2024:01", indexKey: Self.ix)
        }
    }

    @Test("failures describe themselves")
    func descriptions() {
        #expect(FieldCipher.Failure.unknownKey("k9").description.contains("k9"))
        #expect(FieldCipher.Failure.malformed.description == "encrypted value is malformed")
    }
}
