import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// Display-ready, masked views of 一标三实 records for the Leaf pages. Identity numbers and phones
/// are masked here and nowhere un-masked (the reveal page adds one clear value by itself).
enum PopulationViews {
    static let shanghai = TimeZone(identifier: "Asia/Shanghai") ?? .current

    static func day(_ d: Date) -> String { CalendarDate(d, timeZone: shanghai).description }

    /// A resident as a page shows it.
    struct Resident: Encodable {
        var id: String
        var name: String
        var sex: String
        var birthDate: String
        var idDocType: String
        var idNumber: String
        var legacy15: Bool
        var populationType: String
        var hukouSeparated: String
        var ethnicity: String?
        var hukouAddress: String?
        var residenceReason: String
        var residenceReasonCode: String
        var housingRelation: String
        var housingRelationCode: String
        var employer: String?
        var phone: String?
        var registeredAt: String
        var deregisteredAt: String?
        var deregistrationReason: String?
        var addressID: String
        var gridID: String
    }

    static func resident(_ r: ActualResident, _ t: [String: String]) -> Resident {
        Resident(
            id: r.id.uuidString.lowercased(), name: r.name, sex: t["pop.sex.\(r.sex.rawValue)"] ?? r.sex.chineseName, birthDate: r.maskedBirthDate,
            idDocType: r.idDocType.chineseName, idNumber: r.maskedIDNumber, legacy15: r.idNumberLegacy15,
            populationType: t["pop.type.\(r.populationType.rawValue)"] ?? r.populationType.rawValue,
            hukouSeparated: r.hukouSeparated ? t["common.yes"]! : t["common.no"]!, ethnicity: r.ethnicity.map { c in Ethnicity.name(ofCode: c).map { "\(c) \($0)" } ?? c }, hukouAddress: r.hukouAddress,
            residenceReason: t["pop.reason.\(r.residenceReason.rawValue)"] ?? r.residenceReason.rawValue, residenceReasonCode: r.residenceReason.rawValue,
            housingRelation: t["pop.housing.\(r.housingRelation.rawValue)"] ?? r.housingRelation.rawValue, housingRelationCode: r.housingRelation.rawValue,
            employer: r.employer, phone: r.maskedPhone, registeredAt: r.registeredAt.description, deregisteredAt: r.deregisteredAt?.description,
            deregistrationReason: r.deregistrationReason, addressID: r.residenceAddressID.uuidString.lowercased(), gridID: r.gridID.uuidString.lowercased())
    }

    /// A record's 核采 state as a page shows it.
    struct Verification: Encodable {
        var lastVerified: String?
        var by: String?
        var outcome: String?
        var lastChecked: String
        var dueAt: String
        var overdue: Bool
    }

    static func verification(_ s: VerificationState?, policy: VerificationPolicy, deregistered: Bool, _ t: [String: String], now: Date = Date()) -> Verification? {
        guard let s else { return nil }
        return Verification(
            lastVerified: s.verifiedAt.map(day), by: s.verifiedByName, outcome: s.outcome.map { t["ver.outcome.\($0.rawValue)"] ?? $0.rawValue },
            lastChecked: day(s.lastChecked), dueAt: day(policy.dueAt(s.lastChecked)), overdue: !deregistered && policy.isOverdue(s, now: now))
    }

    /// An address as a page shows it.
    struct Address: Encodable {
        var id: String
        var formatted: String
        var street: String
        var doorplate: String
        var estateName: String?
        var building: String
        var unit: String
        var floor: String
        var room: String
        var divisionCode12: String?
        var status: String
        var active: Bool
        var gridID: String
        var buildingID: String?
    }

    static func address(_ a: StandardAddress, _ t: [String: String], divisionName: String? = nil) -> Address {
        Address(
            id: a.id.uuidString.lowercased(), formatted: a.formatted(divisionName: divisionName), street: a.street, doorplate: a.doorplate,
            estateName: a.estateName, building: a.building, unit: a.unit, floor: a.floor, room: a.room, divisionCode12: a.divisionCode12,
            status: t["addr.status.\(a.status.rawValue)"] ?? a.status.rawValue, active: a.status == .active, gridID: a.gridID.uuidString.lowercased(),
            buildingID: a.buildingID?.uuidString.lowercased())
    }

    /// One line of a list of residents.
    struct Row: Encodable {
        var id: String
        var name: String
        var sex: String
        var birthDate: String
        var idNumber: String
        var phone: String?
        var populationType: String
        var address: String
        var addressID: String
        var gridName: String
        var deregistered: Bool
        var verification: Verification?
    }

    /// A select option.
    struct Option: Encodable {
        var value: String
        var label: String
        var selected: Bool
    }

    static func options<E: RawRepresentable & CaseIterable>(_ type: E.Type, prefix: String, selected: String?, _ t: [String: String]) -> [Option] where E.RawValue == String {
        E.allCases.map { Option(value: $0.rawValue, label: t["\(prefix).\($0.rawValue)"] ?? $0.rawValue, selected: $0.rawValue == selected) }
    }

    /// The readable division above a community (`云南省玉溪市澄江市凤麓街道`) from its township code,
    /// walking the division table upwards; empty when the table does not hold it.
    static func divisionName(townshipCode: String, on app: Fengqiao) async throws -> String {
        let repo = DivisionRepository()
        var names: [String] = []
        var code: String? = townshipCode
        var guardSteps = 0
        while let c = code, guardSteps < 6 {
            guardSteps += 1
            guard let d = try await repo.find(c, on: app.store.db) else { break }
            names.insert(d.name, at: 0)
            code = d.parentCode
        }
        return names.joined()
    }
}
