/// A single right that a route, a service call or an API token may require.
///
/// Raw values are stable and appear in API token scopes (`territory:read` …).
public enum Permission: String, CaseIterable, Codable, Sendable, Hashable {
    /// Read territories (stations, communities, groups, grids, buildings) inside one's scope.
    case territoryRead = "territory:read"
    /// Create and edit territories inside one's scope.
    case territoryWrite = "territory:write"
    /// List accounts inside one's scope.
    case accountRead = "account:read"
    /// Create, disable, enable accounts and reset passwords.
    case accountManage = "account:manage"
    /// Change an account's role and territory scope, unlock it, reset its second factor.
    case roleGrant = "role:grant"
    /// Read the audit trail (never one's own rows, GB/T 22239 三权分立).
    case auditRead = "audit:read"
    /// Walk the audit hash chain.
    case auditVerify = "audit:verify"
    /// Read persons (实有人口) and standard addresses inside one's scope, masked.
    case personRead = "person:read"
    /// Register persons and standard addresses inside one's scope.
    case personWrite = "person:write"
    /// Reveal one masked personal value (ID number, phone) with a stated purpose; audited
    /// (domain spec §7.3).
    case piiReveal = "pii:reveal"
    /// Approve or reject others' exports of personal data inside one's scope (domain spec §7.3).
    case exportApprove = "export:approve"
    /// Read grid events and hazards (网格事件) and their photos: staff within their scope, a
    /// department/property contact only the events dispatched to them (issue 5).
    case eventRead = "event:read"
    /// Report a grid event (上报) inside one's scope.
    case eventReport = "event:report"
    /// Verify, file, void, dispatch/whistle (吹哨), check and close events inside one's scope (§4.2).
    case eventManage = "event:manage"
    /// As the dispatched contact: acknowledge (报到), return with a reason, submit the result (§4.3).
    case eventRespond = "event:respond"
    /// Edit the responsible-contact mapping and the subsidy tariff (administrator).
    case eventConfigure = "event:configure"
    /// Claim a per-case subsidy (一事一案一补, §4.4).
    case subsidyClaim = "subsidy:claim"
    /// Review per-case subsidy claims (never one's own, §4.4 separation of duties).
    case subsidyReview = "subsidy:review"
    /// Supervise grid events (domain spec §4.2 "escalate to supervisor"): the overdue work list,
    /// starting an escalation sweep, subsidy totals and their export for one's scope.
    case eventSupervise = "event:supervise"
    /// Read disputes (矛盾纠纷) in one's scope: mediators only their assigned cases; reading the
    /// parties is audited (issue 4, domain spec §7.3).
    case disputeRead = "dispute:read"
    /// Register disputes and advance them through the mediation workflow (§4.1).
    case disputeWrite = "dispute:write"
    /// Read police incidents (警情) in one's scope.
    case incidentRead = "incident:read"
    /// Receive police incidents and record their handling (§4.6).
    case incidentWrite = "incident:write"
}

/// The access rule every route declares. A route without one is a defect that a test finds.
public enum AccessRule: Sendable, Equatable, CustomStringConvertible {
    /// Open to anyone, signed in or not (login page, health check, static assets).
    case anonymous
    /// A session that has passed the password but not yet the second factor or a forced
    /// password change: only the pages that finish signing in.
    case signingIn
    /// Any fully signed-in account.
    case authenticated
    /// A signed-in account holding the permission (or a token scoped to it).
    case permission(Permission)

    public var description: String {
        switch self {
        case .anonymous: "anonymous"
        case .signingIn: "signing-in"
        case .authenticated: "authenticated"
        case .permission(let p): "permission(\(p.rawValue))"
        }
    }
}
