import Crypto
import Foundation

/// The generic webhook signature (issue 5 "a generic HMAC-signed JSON webhook"): HMAC-SHA-256
/// (RFC 2104, FIPS 198-1) over `"<timestamp>.<body>"` with the secret shared with the receiver,
/// sent as `X-Fengqiao-Signature: sha256=<lower-case hex>` beside `X-Fengqiao-Timestamp: <unix
/// seconds>`. Signing the timestamp lets a receiver refuse replays older than its tolerance.
public enum WebhookSignature {
    public static func sign(secret: String, timestamp: Int, body: Data) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Hex.lowercase(mac)
    }

    /// Constant-time check of a received signature header.
    public static func verify(_ header: String, secret: String, timestamp: Int, body: Data) -> Bool {
        let expected = Array(sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let got = Array(header.utf8)
        guard expected.count == got.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(expected, got) { diff |= a ^ b }
        return diff == 0
    }
}

/// Retries of the notification outbox: exponential backoff from `base` seconds, doubling per failed
/// attempt up to `cap`, and giving up (state `failed`, visible to administrators) after
/// `maxAttempts` [P].
public struct OutboxRetryPolicy: Sendable, Hashable, Codable {
    public var base: TimeInterval
    public var cap: TimeInterval
    public var maxAttempts: Int

    public init(base: TimeInterval = 30, cap: TimeInterval = 3600, maxAttempts: Int = 12) {
        self.base = base
        self.cap = cap
        self.maxAttempts = maxAttempts
    }

    /// Seconds to wait after the `attempts`-th failed attempt (1-based): 30 s, 60 s, 120 s, … ≤ cap.
    public func delay(afterAttempt attempts: Int) -> TimeInterval {
        min(cap, base * pow(2, Double(max(attempts, 1) - 1)))
    }

    /// Whether to stop after `attempts` failed attempts.
    public func givesUp(after attempts: Int) -> Bool { attempts >= maxAttempts }
}
