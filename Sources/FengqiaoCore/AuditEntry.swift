import Crypto
import Foundation

/// What an audit record says happened (domain spec §7.3 `action`).
public enum AuditAction: String, CaseIterable, Codable, Sendable {
    case read, create, update, delete, export, print
    case maskReveal = "mask-reveal"
    case login
    case loginFail = "login-fail"
    case logout
    case permissionChange = "permission-change"
    case lockout
    case tokenIssue = "token-issue"
    case tokenRevoke = "token-revoke"
}

/// The outcome recorded with an audit action.
public enum AuditResult: String, Codable, Sendable {
    case success, denied, error
}

/// One append-only audit record (审计记录), domain spec §7.3; GB/T 22239-2019 8.1.4.3 安全审计
/// (date and time, user, event type, success or failure; protected against change).
///
/// Records form a hash chain: `hash = SHA-256(prevHash ‖ canonical fields)`, hex, so changing,
/// removing or reordering any row breaks every later link. The first row's `prevHash` is 64 zeros.
public struct AuditEntry: Sendable, Equatable, Codable {
    /// Position in the chain, 1-based, gap-free.
    public var seq: Int64
    /// UTC instant, stored to the millisecond.
    public var at: Date
    public var actorID: UUID?
    public var actorName: String?
    public var actorRole: String?
    /// The actor's territory scope as `level:uuid` (`city` has no id).
    public var actorScope: String?
    public var action: AuditAction
    public var objectType: String?
    public var objectID: String?
    /// Fields revealed or changed (names only, never values).
    public var fields: [String]
    /// The stated purpose (required for `mask-reveal` and `export`).
    public var purpose: String?
    /// The legal basis (PIPL Art. 13), e.g. `statutoryDuty`.
    public var legalBasis: String?
    public var result: AuditResult
    public var clientIP: String?
    public var userAgent: String?
    public var requestID: String?
    /// Free text without personal data (e.g. "role grid-worker → mediator").
    public var detail: String?
    public var prevHash: String
    public var hash: String

    public static let genesisHash = String(repeating: "0", count: 64)

    public init(
        seq: Int64, at: Date, actorID: UUID?, actorName: String?, actorRole: String?, actorScope: String?,
        action: AuditAction, objectType: String?, objectID: String?, fields: [String] = [],
        purpose: String? = nil, legalBasis: String? = nil, result: AuditResult,
        clientIP: String? = nil, userAgent: String? = nil, requestID: String? = nil, detail: String? = nil,
        prevHash: String, hash: String = ""
    ) {
        self.seq = seq
        self.at = Date(timeIntervalSince1970: (at.timeIntervalSince1970 * 1000).rounded() / 1000)
        self.actorID = actorID
        self.actorName = actorName
        self.actorRole = actorRole
        self.actorScope = actorScope
        self.action = action
        self.objectType = objectType
        self.objectID = objectID
        self.fields = fields
        self.purpose = purpose
        self.legalBasis = legalBasis
        self.result = result
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.requestID = requestID
        self.detail = detail
        self.prevHash = prevHash
        self.hash = hash
    }

    /// The canonical byte string the hash covers: every field, length-prefixed so no two
    /// different records serialise alike.
    public var canonical: String {
        let millis = Int64((at.timeIntervalSince1970 * 1000).rounded())
        let parts: [String?] = [
            String(seq), String(millis), actorID?.uuidString.lowercased(), actorName, actorRole, actorScope,
            action.rawValue, objectType, objectID, fields.map { "\($0.utf8.count):\($0)" }.joined(separator: ";") + "#\(fields.count)", purpose, legalBasis,
            result.rawValue, clientIP, userAgent, requestID, detail, prevHash,
        ]
        return parts.map { p in p.map { "\($0.utf8.count):\($0)" } ?? "-" }.joined(separator: "|")
    }

    /// The hash this record should carry given its fields and `prevHash`.
    public func computedHash() -> String {
        Hex.lowercase(SHA256.hash(data: Data(canonical.utf8)))
    }

    /// A copy with `hash` filled in.
    public func sealed() -> AuditEntry {
        var copy = self
        copy.hash = computedHash()
        return copy
    }
}

/// The result of walking the chain (`fengqiao audit verify`).
public enum AuditChainVerdict: Equatable, Sendable {
    /// Every row links to the previous one and carries its own hash.
    case intact(rows: Int64)
    /// The first broken row and why.
    case broken(seq: Int64, reason: String)
}

/// Walks audit records in `seq` order and names the first broken link.
///
/// Feed rows in ascending `seq`; call `finish()` at the end. Memory stays constant, so it can
/// stream millions of rows.
public struct AuditChainVerifier: Sendable {
    private var expectedPrev = AuditEntry.genesisHash
    private var expectedSeq: Int64 = 1
    public private(set) var verdict: AuditChainVerdict?

    public init() {}

    /// Checks the next row. After the first break, later rows are ignored.
    public mutating func check(_ e: AuditEntry) {
        guard verdict == nil else { return }
        if e.seq != expectedSeq {
            verdict = .broken(seq: e.seq, reason: "sequence gap: expected \(expectedSeq)")
        } else if e.prevHash != expectedPrev {
            verdict = .broken(seq: e.seq, reason: "previous-hash link does not match row \(e.seq - 1)")
        } else if e.computedHash() != e.hash {
            verdict = .broken(seq: e.seq, reason: "row content does not match its hash")
        } else {
            expectedPrev = e.hash
            expectedSeq += 1
        }
    }

    public func finish() -> AuditChainVerdict {
        verdict ?? .intact(rows: expectedSeq - 1)
    }
}

/// The digest an audit record carries for the set of records it names without one object id
/// (a bulk-import batch, a page of search results): SHA-256 over each list's ids, each list
/// sorted, every id lower-case and newline-terminated, as lower-case hex. The record's chained
/// hash covers the digest, so the set can be checked against the tables that link back to it.
public enum AuditIDsDigest {
    public static func of(_ lists: [String]...) -> String {
        var hasher = SHA256()
        for list in lists {
            for id in list.map({ $0.lowercased() }).sorted() { hasher.update(data: Data((id + "\n").utf8)) }
        }
        return Hex.lowercase(hasher.finalize())
    }
}
