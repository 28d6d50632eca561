import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Separation of administrator powers (三权分立)")
struct AdministrationPolicyTests {
    let me = UUID(), other = UUID(), third = UUID()

    // MARK: create

    @Test("the system administrator cannot create administrator accounts", arguments: [Role.sysadmin, .securityAdmin, .auditAdmin])
    func sysadminCreatesNoAdmins(_ role: Role) {
        #expect(isForbidden { try AdministrationPolicy.checkCreate(actor: .sysadmin, role: role) })
    }

    @Test("the system administrator creates field accounts", arguments: Role.allCases.filter { !$0.isAdministrator })
    func sysadminCreatesFieldAccounts(_ role: Role) throws {
        try AdministrationPolicy.checkCreate(actor: .sysadmin, role: role)
    }

    @Test("the security administrator may create any account", arguments: Role.allCases)
    func securityAdminCreates(_ role: Role) throws {
        try AdministrationPolicy.checkCreate(actor: .securityAdmin, role: role)
    }

    @Test("nobody else creates accounts", arguments: Role.allCases.filter { $0 != .sysadmin && $0 != .securityAdmin })
    func othersCannotCreate(_ actor: Role) {
        for role in Role.allCases {
            #expect(isForbidden { try AdministrationPolicy.checkCreate(actor: actor, role: role) }, "\(actor) → \(role)")
        }
    }

    // MARK: grant

    @Test("only the security administrator grants roles and scopes", arguments: Role.allCases)
    func onlySecurityAdminGrants(_ actor: Role) {
        let forbidden = isForbidden { try AdministrationPolicy.checkGrant(actorID: me, actor: actor, targetID: other) }
        #expect(forbidden == (actor != .securityAdmin))
    }

    @Test("nobody grants to themselves", arguments: Role.allCases)
    func noSelfGrant(_ actor: Role) {
        #expect(isForbidden { try AdministrationPolicy.checkGrant(actorID: me, actor: actor, targetID: me) })
    }

    // MARK: lifecycle

    @Test("account lifecycle is managed by the system or security administrator")
    func lifecycle() throws {
        try AdministrationPolicy.checkLifecycle(actorID: me, actor: .sysadmin, targetID: other, targetRole: .gridWorker)
        try AdministrationPolicy.checkLifecycle(actorID: me, actor: .securityAdmin, targetID: other, targetRole: .gridWorker)
        try AdministrationPolicy.checkLifecycle(actorID: me, actor: .securityAdmin, targetID: other, targetRole: .auditAdmin)
        try AdministrationPolicy.checkLifecycle(actorID: me, actor: .securityAdmin, targetID: other, targetRole: .sysadmin)
        for target in Role.administrators {
            #expect(isForbidden { try AdministrationPolicy.checkLifecycle(actorID: me, actor: .sysadmin, targetID: other, targetRole: target) }, "\(target)")
        }
        for actor in Role.allCases where actor != .sysadmin && actor != .securityAdmin {
            #expect(isForbidden { try AdministrationPolicy.checkLifecycle(actorID: me, actor: actor, targetID: other, targetRole: .volunteer) }, "\(actor)")
        }
        for actor in [Role.sysadmin, .securityAdmin] {
            #expect(isForbidden { try AdministrationPolicy.checkLifecycle(actorID: me, actor: actor, targetID: me, targetRole: .gridWorker) })
        }
    }

    // MARK: audit reading

    @Test("the audit administrator reads everyone's rows but not their own")
    func auditAdminReads() {
        for role in Role.allCases where role != .auditAdmin {
            #expect(AdministrationPolicy.canRead(auditRowActorID: other, auditRowActorRole: role.rawValue, reader: me, readerRole: .auditAdmin), "\(role)")
        }
        // Anonymous rows (failed logins, system jobs).
        #expect(AdministrationPolicy.canRead(auditRowActorID: nil, auditRowActorRole: nil, reader: me, readerRole: .auditAdmin))
        // Own rows: no, whatever the recorded role says.
        #expect(!AdministrationPolicy.canRead(auditRowActorID: me, auditRowActorRole: Role.auditAdmin.rawValue, reader: me, readerRole: .auditAdmin))
        #expect(!AdministrationPolicy.canRead(auditRowActorID: me, auditRowActorRole: Role.gridWorker.rawValue, reader: me, readerRole: .auditAdmin))
        #expect(!AdministrationPolicy.canRead(auditRowActorID: me, auditRowActorRole: nil, reader: me, readerRole: .auditAdmin))
    }

    @Test("the audit administrator cannot read other audit administrators' rows")
    func auditAdminNotPeers() {
        #expect(!AdministrationPolicy.canRead(auditRowActorID: other, auditRowActorRole: Role.auditAdmin.rawValue, reader: me, readerRole: .auditAdmin))
        #expect(!AdministrationPolicy.canRead(auditRowActorID: nil, auditRowActorRole: Role.auditAdmin.rawValue, reader: me, readerRole: .auditAdmin))
    }

    @Test("the security administrator reads the audit administrators' rows only")
    func securityAdminReadsAuditors() {
        #expect(AdministrationPolicy.canRead(auditRowActorID: other, auditRowActorRole: Role.auditAdmin.rawValue, reader: me, readerRole: .securityAdmin))
        for role in Role.allCases where role != .auditAdmin {
            #expect(!AdministrationPolicy.canRead(auditRowActorID: other, auditRowActorRole: role.rawValue, reader: me, readerRole: .securityAdmin), "\(role)")
        }
        #expect(!AdministrationPolicy.canRead(auditRowActorID: nil, auditRowActorRole: nil, reader: me, readerRole: .securityAdmin))
        #expect(!AdministrationPolicy.canRead(auditRowActorID: me, auditRowActorRole: Role.securityAdmin.rawValue, reader: me, readerRole: .securityAdmin))
    }

    @Test("no other role reads audit rows", arguments: Role.allCases.filter { $0 != .auditAdmin && $0 != .securityAdmin })
    func othersReadNothing(_ reader: Role) {
        for role in Role.allCases {
            #expect(!AdministrationPolicy.canRead(auditRowActorID: other, auditRowActorRole: role.rawValue, reader: me, readerRole: reader))
        }
        #expect(!AdministrationPolicy.canRead(auditRowActorID: nil, auditRowActorRole: nil, reader: me, readerRole: reader))
    }

    @Test("every audit row is readable by exactly one of the audit and security administrators")
    func everyRowReadable() {
        // Rows of every role, including audit administrators, are readable by someone: no blind spot.
        let roles: [String?] = Role.allCases.map { $0.rawValue } + [nil]
        for role in roles {
            let readers = [Role.auditAdmin, .securityAdmin].filter {
                AdministrationPolicy.canRead(auditRowActorID: other, auditRowActorRole: role, reader: third, readerRole: $0)
            }
            #expect(readers.count == 1, "\(role ?? "nil")")
        }
    }

    @Test("default scope levels")
    func defaultScopes() {
        #expect(AdministrationPolicy.defaultScopeLevel(for: .sysadmin) == .city)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .securityAdmin) == .city)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .auditAdmin) == .city)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .stationLeader) == .station)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .communityPoliceOfficer) == .community)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .mediator) == .community)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .hotelOperator) == .community)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .gridWorker) == .grid)
        #expect(AdministrationPolicy.defaultScopeLevel(for: .volunteer) == .grid)
    }
}

@Suite("Roles and permissions")
struct RoleTests {
    @Test("raw values are stable identifiers")
    func rawValues() {
        #expect(Role.allCases.map(\.rawValue) == [
            "sysadmin", "security-admin", "audit-admin", "station-leader", "community-police-officer",
            "governance-center-staff", "grid-worker", "volunteer", "mediator", "department-contact", "hotel-operator",
        ])
        #expect(Role(rawValue: "security-admin") == .securityAdmin)
        #expect(Role(rawValue: "securityAdmin") == nil)
    }

    @Test("the three administrators")
    func administrators() {
        #expect(Role.administrators == [.sysadmin, .securityAdmin, .auditAdmin])
        #expect(Role.allCases.filter(\.isAdministrator).count == 3)
        #expect(Role.allCases.filter(\.isPrivileged) == [.sysadmin, .securityAdmin, .auditAdmin, .stationLeader])
        #expect(Set(Role.allCases.filter { !$0.isStaff }) == [.volunteer, .departmentContact, .hotelOperator])
    }

    @Test("powers are kept apart")
    func separation() {
        let grant = Role.allCases.filter { $0.permissions.contains(.roleGrant) }
        #expect(grant == [.securityAdmin])
        let verify = Role.allCases.filter { $0.permissions.contains(.auditVerify) }
        #expect(verify == [.auditAdmin])
        let manage = Role.allCases.filter { $0.permissions.contains(.accountManage) }
        #expect(Set(manage) == [.sysadmin, .securityAdmin])
        let write = Role.allCases.filter { $0.permissions.contains(.territoryWrite) }
        #expect(write == [.sysadmin])
        #expect(!Role.sysadmin.permissions.contains(.auditRead))
        #expect(Role.auditAdmin.permissions == [.auditRead, .auditVerify])
        // Persons (一标三实): field roles read and write in their scope; administrators never.
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.personWrite) }) == [.gridWorker, .communityPoliceOfficer])
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.piiReveal) }) == [.gridWorker, .communityPoliceOfficer])
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.personRead) }) == [.gridWorker, .communityPoliceOfficer, .governanceCenterStaff, .stationLeader])
        // Exports of personal data are approved by police (§7.3), never by the grid worker who asks.
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.exportApprove) }) == [.communityPoliceOfficer, .stationLeader])
        // Grid events and subsidies (issue 5): field roles in their scope; the contact only answers whistles.
        let hazard: Set<Permission> = [.eventRead, .eventReport, .eventManage, .eventRespond, .subsidyClaim, .subsidyReview, .eventSupervise]
        // Supervisors of overdue events (§4.2 escalation): officer, governance centre, station leader; the administrator only starts a sweep.
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.eventSupervise) }) == [.communityPoliceOfficer, .governanceCenterStaff, .stationLeader, .sysadmin])
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.eventManage) }) == [.gridWorker, .communityPoliceOfficer, .governanceCenterStaff])
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.eventRespond) }) == [.departmentContact])
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.eventConfigure) }) == [.sysadmin])
        #expect(Role.allCases.filter { $0.permissions.contains(.subsidyClaim) && $0.permissions.contains(.subsidyReview) }.isEmpty, "no role reviews what it claims")
        #expect(Role.departmentContact.permissions == [.eventRead, .eventRespond], "the contact account has the narrowest rights")
        // Disputes and police incidents (issue 4): field roles and mediators; only officers receive incidents.
        let disputes: Set<Permission> = [.disputeRead, .disputeWrite, .incidentRead, .incidentWrite]
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.disputeWrite) }) == [.gridWorker, .communityPoliceOfficer, .governanceCenterStaff, .mediator])
        #expect(Set(Role.allCases.filter { $0.permissions.contains(.incidentWrite) }) == [.communityPoliceOfficer])
        #expect(Role.allCases.filter { $0.isAdministrator && !$0.permissions.isDisjoint(with: disputes) }.isEmpty, "administrators never read cases")
        for role in Role.allCases where !role.isAdministrator {
            #expect(role.permissions.subtracting(hazard).subtracting(disputes).isSubset(of: [.territoryRead, .accountRead, .personRead, .personWrite, .piiReveal, .exportApprove]), "\(role)")
            #expect(role.permissions.contains(.territoryRead) || role == .departmentContact, "\(role)")
        }
    }

    @Test("every role has Chinese and English names")
    func names() {
        #expect(Role.gridWorker.nameZH == "网格员")
        #expect(Role.auditAdmin.nameZH == "审计管理员")
        #expect(Set(Role.allCases.map(\.nameZH)).count == Role.allCases.count)
        #expect(Set(Role.allCases.map(\.nameEN)).count == Role.allCases.count)
    }

    @Test("permission raw values and access-rule descriptions")
    func permissions() {
        #expect(Permission.territoryRead.rawValue == "territory:read")
        #expect(Permission.roleGrant.rawValue == "role:grant")
        #expect(Set(Permission.allCases.map(\.rawValue)).count == Permission.allCases.count, "raw values are unique")
        #expect(Permission.allCases.allSatisfy { $0.rawValue.wholeMatch(of: /[a-z]+:[a-z]+/) != nil })
        #expect(Permission.eventRespond.rawValue == "event:respond" && Permission.subsidyReview.rawValue == "subsidy:review")
        #expect(Permission.piiReveal.rawValue == "pii:reveal")
        #expect(AccessRule.permission(.auditRead).description == "permission(audit:read)")
        #expect(AccessRule.anonymous.description == "anonymous")
        #expect(AccessRule.authenticated.description == "authenticated")
    }

    @Test("domain errors describe themselves")
    func errors() {
        #expect(DomainError.invalidField(field: "name", reason: "is required").description == "name: is required")
        #expect(DomainError.notFound(kind: "grid").description == "grid not found")
        #expect(DomainError.forbidden(reason: "x").description == "forbidden: x")
        #expect(DomainError.conflict(field: "username", reason: "taken").description == "username: taken")
    }
}
