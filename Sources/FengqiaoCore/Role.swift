/// An account's role (角色): the field positions of a community police office and its grid
/// governance, plus the three separate administrator powers (三员: 系统管理员, 安全管理员,
/// 审计管理员) that GB/T 22239-2019 level 3 (8.1.4 访问控制, 安全管理中心) expects.
///
/// Raw values are stable identifiers stored in the database and used in the API and CLI.
/// Each account holds exactly one role; a person with two jobs holds two accounts.
public enum Role: String, CaseIterable, Codable, Sendable, Hashable {
    /// 系统管理员: account lifecycle, territories, configuration. Never grants roles.
    case sysadmin
    /// 安全管理员: grants roles and territory scopes, unlocks accounts, resets second factors.
    case securityAdmin = "security-admin"
    /// 审计管理员: reads and verifies the audit trail of everyone but themselves.
    case auditAdmin = "audit-admin"
    /// 派出所所长/教导员: the station's leadership, sees every community of the station.
    case stationLeader = "station-leader"
    /// 社区民警: officer responsible for a community beat (警务区).
    case communityPoliceOfficer = "community-police-officer"
    /// 综治中心工作人员: staff of the governance centre (社会治安综合治理中心).
    case governanceCenterStaff = "governance-center-staff"
    /// 网格员: collects information, reports events and mediates first in one grid.
    case gridWorker = "grid-worker"
    /// 群防群治志愿者（红袖标）: volunteer patroller.
    case volunteer
    /// 人民调解员: mediator of the community's mediation committee (人民调解法 Ch. 3).
    case mediator
    /// 部门/物业联系人: the responsible contact that answers a whistle (吹哨报到).
    case departmentContact = "department-contact"
    /// 旅馆经营者: hotel operator registering guests (旅馆业治安管理办法 Art. 6).
    case hotelOperator = "hotel-operator"

    /// The three administrator roles (三员), whose powers are kept apart.
    public static let administrators: Set<Role> = [.sysadmin, .securityAdmin, .auditAdmin]

    /// Whether this is one of the three administrator roles.
    public var isAdministrator: Bool { Role.administrators.contains(self) }

    /// Privileged roles get the shorter idle timeout (15 min instead of 30 min, domain spec §7.2).
    public var isPrivileged: Bool {
        switch self {
        case .sysadmin, .securityAdmin, .auditAdmin, .stationLeader: true
        default: false
        }
    }

    /// Staff roles must enrol a second factor (TOTP) by default (GB/T 22239-2019 8.1.4.1 d,
    /// "two or more authentication techniques"). Volunteers, contacts and hotel operators
    /// may, but need not; the set is configurable (`FENGQIAO_TOTP_ROLES`).
    public var isStaff: Bool {
        switch self {
        case .volunteer, .departmentContact, .hotelOperator: false
        default: true
        }
    }

    /// The permissions this role carries. The mapping is the product's default and is kept in
    /// one place so the route table, the web UI and the API agree.
    public var permissions: Set<Permission> {
        switch self {
        case .sysadmin:
            [.territoryRead, .territoryWrite, .accountRead, .accountManage, .eventConfigure, .eventSupervise]
        case .securityAdmin:
            [.territoryRead, .accountRead, .accountManage, .roleGrant, .auditRead]
        case .auditAdmin:
            [.auditRead, .auditVerify]
        case .stationLeader:
            [.territoryRead, .accountRead, .personRead, .exportApprove, .eventRead, .subsidyReview, .eventSupervise, .disputeRead, .incidentRead]
        case .governanceCenterStaff:
            [.territoryRead, .accountRead, .personRead, .eventRead, .eventReport, .eventManage, .subsidyReview, .eventSupervise, .disputeRead, .disputeWrite, .incidentRead]
        case .communityPoliceOfficer:
            [.territoryRead, .accountRead, .personRead, .exportApprove, .personWrite, .piiReveal, .eventRead, .eventReport, .eventManage, .subsidyReview, .eventSupervise, .disputeRead, .disputeWrite, .incidentRead, .incidentWrite]
        case .gridWorker:
            [.territoryRead, .personRead, .personWrite, .piiReveal, .eventRead, .eventReport, .eventManage, .subsidyClaim, .disputeRead, .disputeWrite, .incidentRead]
        case .mediator:
            [.territoryRead, .disputeRead, .disputeWrite]
        case .departmentContact:
            [.eventRead, .eventRespond]
        case .volunteer, .hotelOperator:
            [.territoryRead]
        }
    }

    /// Simplified-Chinese name as used in the field.
    public var nameZH: String {
        switch self {
        case .sysadmin: "系统管理员"
        case .securityAdmin: "安全管理员"
        case .auditAdmin: "审计管理员"
        case .stationLeader: "派出所领导"
        case .communityPoliceOfficer: "社区民警"
        case .governanceCenterStaff: "综治中心工作人员"
        case .gridWorker: "网格员"
        case .volunteer: "群防群治志愿者"
        case .mediator: "人民调解员"
        case .departmentContact: "部门/物业联系人"
        case .hotelOperator: "旅馆经营者"
        }
    }

    /// English name.
    public var nameEN: String {
        switch self {
        case .sysadmin: "System administrator"
        case .securityAdmin: "Security administrator"
        case .auditAdmin: "Audit administrator"
        case .stationLeader: "Station leader"
        case .communityPoliceOfficer: "Community police officer"
        case .governanceCenterStaff: "Governance-centre staff"
        case .gridWorker: "Grid worker"
        case .volunteer: "Volunteer patroller"
        case .mediator: "Mediator"
        case .departmentContact: "Department / property contact"
        case .hotelOperator: "Hotel operator"
        }
    }
}
