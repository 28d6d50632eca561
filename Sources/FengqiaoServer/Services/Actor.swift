import FengqiaoCore
import FengqiaoStore
import Foundation

/// Who is acting, and from where: everything an audit record needs about the caller.
public struct Actor: Sendable {
    public var id: UUID?
    public var name: String
    public var role: Role?
    public var scope: TerritoryScope?
    public var clientIP: String?
    public var userAgent: String?
    public var requestID: String?

    public init(id: UUID?, name: String, role: Role?, scope: TerritoryScope?, clientIP: String? = nil, userAgent: String? = nil, requestID: String? = nil) {
        self.id = id
        self.name = name
        self.role = role
        self.scope = scope
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.requestID = requestID
    }

    /// The server operator at the command line (the root of trust for first setup).
    public static func commandLine() -> Actor {
        let user = ProcessInfo.processInfo.environment["USER"] ?? "operator"
        return Actor(id: nil, name: "cli:\(user)", role: nil, scope: .city, requestID: UUID().uuidString.lowercased())
    }

    /// An audit draft for an action by this actor.
    public func draft(
        _ action: AuditAction, objectType: String? = nil, objectID: String? = nil, fields: [String] = [],
        purpose: String? = nil, result: AuditResult = .success, detail: String? = nil
    ) -> AuditDraft {
        AuditDraft(
            actorID: id, actorName: name, actorRole: role?.rawValue, actorScope: scope?.description, action: action,
            objectType: objectType, objectID: objectID, fields: fields, purpose: purpose,
            legalBasis: "statutoryDuty", result: result, clientIP: clientIP, userAgent: userAgent,
            requestID: requestID, detail: detail)
    }
}

/// A signed-in caller: the account, its permissions and the territory it may see.
public struct Principal: Sendable {
    public var account: Account
    public var permissions: Set<Permission>
    public var visible: VisibleTerritory
    /// The web session, when signed in by cookie.
    public var sessionID: UUID?
    /// The API token, when signed in by bearer token.
    public var tokenID: UUID?
    /// Whether the session has finished signing in (second factor, forced password change).
    public var fullySignedIn: Bool
    /// The session still waits for its second factor (check or enrolment).
    public var secondFactorPending: Bool = false
    public var csrfToken: String?

    public var id: UUID { account.id }
    public var role: Role { account.role }
    public func has(_ p: Permission) -> Bool { permissions.contains(p) }
}
