import Crypto
import Foundation

/// Field-level encryption of sensitive values at rest (数据保密性, GB/T 22239-2019 8.1.4.8;
/// PIPL Art. 51): AES-256-GCM with a key identifier stored beside every value so keys can rotate.
///
/// Stored form: `fq1:<keyID>:<base64(nonce ‖ ciphertext ‖ tag)>`. Old values stay readable as long
/// as their key is in the ring; new values always use `currentKeyID`. A keyed hash (HMAC-SHA-256,
/// "blind index") lets exact-value search work without decrypting.
public struct FieldCipher: Sendable {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed
        case unknownKey(String)
        case authenticationFailed

        public var description: String {
            switch self {
            case .malformed: "encrypted value is malformed"
            case .unknownKey(let k): "no key with id \(k) in the key ring"
            case .authenticationFailed: "encrypted value failed authentication (wrong key or altered data)"
            }
        }
    }

    public let currentKeyID: String
    // SymmetricKey is not marked Sendable, but its bytes never change after init: shared
    // read-only, as the HMAC below.
    private nonisolated(unsafe) let keys: [String: SymmetricKey]
    private nonisolated(unsafe) let currentKey: SymmetricKey
    /// HMAC-SHA-256 with the index key already absorbed; each blind index works on a copy
    /// (a value type whose hash states are copied on write), which spares two of the four
    /// SHA-256 blocks of a short value.
    private nonisolated(unsafe) let indexMAC: HMAC<SHA256>

    /// - Parameters:
    ///   - keys: key id → 32 raw key bytes.
    ///   - currentKeyID: the id used for new values; must be in `keys`.
    ///   - indexKey: 32 bytes for the blind index; it never rotates (rotating it would
    ///     require recomputing every index), so it is kept apart from the encryption keys.
    public init(keys: [String: [UInt8]], currentKeyID: String, indexKey: [UInt8]) throws(DomainError) {
        guard keys[currentKeyID] != nil else {
            throw .invalidField(field: "FENGQIAO_KEY_ID", reason: "current key \(currentKeyID) is not in the key ring")
        }
        for id in keys.keys where id.isEmpty || id.contains(":") || id.count > 32 {
            throw .invalidField(field: "key id \(id)", reason: "must be 1–32 characters without ':'")
        }
        for (id, k) in keys where k.count != 32 {
            throw .invalidField(field: "key \(id)", reason: "must be 32 bytes (has \(k.count))")
        }
        self.keys = keys.mapValues { SymmetricKey(data: $0) }
        self.currentKeyID = currentKeyID
        self.currentKey = self.keys[currentKeyID]!
        guard indexKey.count == 32 else {
            throw .invalidField(field: "index key", reason: "must be 32 bytes (has \(indexKey.count))")
        }
        self.indexMAC = HMAC<SHA256>(key: HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: indexKey), info: Data("fengqiao blind index v1".utf8), outputByteCount: 32))
    }

    /// A fresh random 32-byte key.
    public static func generateKey() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Encrypts `plaintext` with the current key.
    public func seal(_ plaintext: String) -> String {
        // AES-GCM sealing only fails for invalid key sizes, which init excludes.
        let box = try! AES.GCM.seal(Data(plaintext.utf8), using: currentKey)
        return "fq1:\(currentKeyID):" + box.combined!.base64EncodedString()
    }

    /// Decrypts a value produced by `seal`.
    /// - Throws: `FieldCipher.Failure`.
    public func open(_ stored: String) throws(Failure) -> String {
        let parts = stored.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "fq1", let data = Data(base64Encoded: String(parts[2])) else { throw .malformed }
        guard let key = keys[String(parts[1])] else { throw .unknownKey(String(parts[1])) }
        do {
            let box = try AES.GCM.SealedBox(combined: data)
            return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
        } catch {
            throw .authenticationFailed
        }
    }

    /// The blind index of a normalised value (hex HMAC-SHA-256), for exact-match search.
    public func blindIndex(_ normalised: String) -> String {
        var mac = indexMAC
        var s = normalised
        s.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return Hex.lowercase(mac.finalize())
    }
}
