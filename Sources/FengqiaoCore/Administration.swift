import Foundation

/// The audit rows a reader may see (`AdministrationPolicy.auditVisibility`).
public struct AuditVisibility: Sendable, Equatable {
    public var excludedActorID: UUID
    public var onlyActorRole: Role?
    public var exceptActorRole: Role?
}

/// Who may do what to an account: the separation of the three administrator powers
/// (三权分立, GB/T 22239-2019 8.1.4.2 访问控制 and 8.1.5 安全管理中心; domain spec §7.2).
///
/// - The system administrator manages account lifecycle and territories but grants no roles.
/// - The security administrator grants roles and scopes, unlocks accounts, resets second factors.
/// - The audit administrator reads the trail of everyone but themselves.
/// - Nobody changes their own role or scope, or audits their own actions.
public enum AdministrationPolicy {
    /// Whether `actor` may create an account with `role`.
    /// - Throws: `DomainError.forbidden` naming the rule.
    public static func checkCreate(actor: Role, role: Role) throws(DomainError) {
        switch actor {
        case .sysadmin:
            if role.isAdministrator {
                throw .forbidden(reason: "administrator accounts are created by the security administrator or on the server's command line")
            }
        case .securityAdmin:
            break
        default:
            throw .forbidden(reason: "only the system or security administrator creates accounts")
        }
    }

    /// Whether `actor` may change `target`'s role or scope.
    public static func checkGrant(actorID: UUID, actor: Role, targetID: UUID) throws(DomainError) {
        guard actor == .securityAdmin else {
            throw .forbidden(reason: "only the security administrator grants roles and scopes")
        }
        guard actorID != targetID else {
            throw .forbidden(reason: "nobody may change their own role or scope")
        }
    }

    /// Whether `actor` may disable, enable or reset the password of `target`.
    public static func checkLifecycle(actorID: UUID, actor: Role, targetID: UUID, targetRole: Role) throws(DomainError) {
        guard actor == .sysadmin || actor == .securityAdmin else {
            throw .forbidden(reason: "only the system or security administrator manages accounts")
        }
        guard actorID != targetID else {
            throw .forbidden(reason: "use the password page to change your own password")
        }
        if actor == .sysadmin, targetRole.isAdministrator {
            throw .forbidden(reason: "the system administrator does not manage administrator accounts")
        }
    }

    /// Whether an audit reader may see a row written by `rowActorRole`/`rowActorID`.
    /// The audit administrator sees everyone's rows but their own and other audit
    /// administrators'; those are read by the security administrator.
    public static func canRead(auditRowActorID: UUID?, auditRowActorRole: String?, reader: UUID, readerRole: Role) -> Bool {
        guard let v = auditVisibility(reader: reader, readerRole: readerRole), auditRowActorID != v.excludedActorID else { return false }
        if let only = v.onlyActorRole { return auditRowActorRole == only.rawValue }
        if let not = v.exceptActorRole { return auditRowActorRole != not.rawValue }
        return true
    }

    /// Which audit rows a reader may see, as filters a query can apply: never the reader's own
    /// rows; the audit administrator sees every role but audit administrators, the security
    /// administrator only audit administrators. `nil`: no audit rows at all.
    public static func auditVisibility(reader: UUID, readerRole: Role) -> AuditVisibility? {
        switch readerRole {
        case .auditAdmin: AuditVisibility(excludedActorID: reader, onlyActorRole: nil, exceptActorRole: .auditAdmin)
        case .securityAdmin: AuditVisibility(excludedActorID: reader, onlyActorRole: .auditAdmin, exceptActorRole: nil)
        default: nil
        }
    }

    /// The default scope level for a role.
    public static func defaultScopeLevel(for role: Role) -> ScopeLevel {
        switch role {
        case .sysadmin, .securityAdmin, .auditAdmin: .city
        case .stationLeader: .station
        case .communityPoliceOfficer, .governanceCenterStaff, .mediator, .departmentContact, .hotelOperator: .community
        case .gridWorker, .volunteer: .grid
        }
    }
}
