import Crypto
import Foundation

/// Time-based one-time passwords, RFC 6238 (on HOTP, RFC 4226): the second authentication
/// factor required for staff roles (GB/T 22239-2019 8.1.4.1 d).
///
/// Defaults follow what every authenticator app understands: HMAC-SHA1, 6 digits, 30 s steps.
public struct TOTP: Sendable {
    public enum Algorithm: String, Sendable { case sha1 = "SHA1", sha256 = "SHA256", sha512 = "SHA512" }

    public let secret: [UInt8]
    public let digits: Int
    public let period: Double
    public let algorithm: Algorithm

    public init(secret: [UInt8], digits: Int = 6, period: Double = 30, algorithm: Algorithm = .sha1) {
        self.secret = secret
        self.digits = digits
        self.period = period
        self.algorithm = algorithm
    }

    /// A new random 160-bit secret (RFC 4226 §4 recommends 160 bits).
    public static func generateSecret() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// The HOTP value for a counter (RFC 4226 §5.3, dynamic truncation).
    public func code(counter: UInt64) -> String {
        var c = counter.bigEndian
        let message = withUnsafeBytes(of: &c) { Data($0) }
        let key = SymmetricKey(data: secret)
        let mac: [UInt8]
        switch algorithm {
        case .sha1: mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
        case .sha256: mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        case .sha512: mac = Array(HMAC<SHA512>.authenticationCode(for: message, using: key))
        }
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var mod: UInt32 = 1
        for _ in 0..<digits { mod *= 10 }
        let value = binary % mod
        let s = String(value)
        return String(repeating: "0", count: max(0, digits - s.count)) + s
    }

    /// The time step containing `date`.
    public func counter(at date: Date) -> UInt64 {
        UInt64(floor(date.timeIntervalSince1970 / period))
    }

    /// The code valid at `date`.
    public func code(at date: Date) -> String { code(counter: counter(at: date)) }

    /// Verifies a code, allowing `window` steps of clock drift either side (RFC 6238 §5.2).
    /// - Parameter notAfterCounter: the counter of the last accepted code; a code at or before
    ///   it is refused so one code cannot be replayed (RFC 6238 §5.2, "MUST NOT accept the
    ///   second attempt of the same OTP").
    /// - Returns: the matched counter, or `nil`.
    public func verify(_ code: String, at date: Date, window: Int = 1, notAfterCounter: UInt64? = nil) -> UInt64? {
        let trimmed = code.filter { !$0.isWhitespace }
        guard trimmed.count == digits, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) else { return nil }
        let now = Int64(counter(at: date))
        for delta in -window...window {
            let c = now + Int64(delta)
            guard c >= 0 else { continue }
            if let last = notAfterCounter, UInt64(c) <= last { continue }
            if constantTimeEquals(self.code(counter: UInt64(c)), trimmed) { return UInt64(c) }
        }
        return nil
    }

    /// The `otpauth://` URI that authenticator apps scan (Google Authenticator key-URI format).
    public func provisioningURI(account: String, issuer: String) -> String {
        func esc(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
        }
        return "otpauth://totp/\(esc(issuer)):\(esc(account))?secret=\(Base32.encode(secret))"
            + "&issuer=\(esc(issuer))&algorithm=\(algorithm.rawValue)&digits=\(digits)&period=\(Int(period))"
    }
}

/// Compares two strings in time independent of where they first differ.
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}
