import FengqiaoCore
import FengqiaoStore
import Foundation

/// One exported resident with what its row shows beside the record itself.
struct ResidentExportRow: Sendable {
    var resident: ActualResident
    var address: StandardAddress?
    var gridName: String
    var state: VerificationState?
}

/// The columns of a resident export and how each row is written. Identity numbers and phones
/// are always masked (domain spec §5.1.1; an export is a display in another form, §7.3).
enum ResidentExportTable {
    /// The field names the audit record lists for an export (names only).
    static let auditFields = [
        "name", "sex", "birthDate", "idDocType", "idNumber(masked)", "populationType", "hukouSeparated", "phone(masked)", "residenceAddress", "grid",
        "residenceReason", "housingRelation", "employer", "hukouAddress", "registeredAt", "deregisteredAt", "deregistrationReason", "verification", "id",
    ]

    static let keys = [
        "pop.name", "pop.sex", "pop.birthDate", "pop.idDocType", "pop.idNumberMasked", "pop.populationType", "pop.hukouSeparated", "pop.phoneMasked",
        "pop.address", "terr.grid", "pop.residenceReason", "pop.housingRelation", "pop.employer", "pop.hukouAddress", "pop.registeredAt",
        "pop.deregisteredAt", "pop.deregistrationReason", "ver.lastVerified", "ver.outcome", "pop.recordId",
    ]

    /// Column widths in characters, for the XLSX sheet.
    static let widths = [10, 6, 11, 12, 20, 9, 8, 13, 40, 12, 10, 10, 20, 30, 11, 11, 14, 11, 10, 38]

    static func header(_ t: [String: String]) -> [String] { keys.map { t[$0] ?? $0 } }

    static let shanghai = TimeZone(identifier: "Asia/Shanghai") ?? .current

    static func cells(_ row: ResidentExportRow, _ t: [String: String]) -> [String] {
        let r = row.resident
        return [
            r.name, t["pop.sex.\(r.sex.rawValue)"] ?? r.sex.chineseName, r.maskedBirthDate, r.idDocType.chineseName, r.maskedIDNumber,
            t["pop.type.\(r.populationType.rawValue)"] ?? r.populationType.rawValue, r.hukouSeparated ? (t["common.yes"] ?? "yes") : (t["common.no"] ?? "no"),
            r.maskedPhone ?? "", row.address?.formatted() ?? "", row.gridName,
            t["pop.reason.\(r.residenceReason.rawValue)"] ?? r.residenceReason.rawValue, t["pop.housing.\(r.housingRelation.rawValue)"] ?? r.housingRelation.rawValue,
            r.employer ?? "", r.hukouAddress ?? "", r.registeredAt.description, r.deregisteredAt?.description ?? "", r.deregistrationReason ?? "",
            row.state?.verifiedAt.map { CalendarDate($0, timeZone: shanghai).description } ?? "",
            row.state?.outcome.map { t["ver.outcome.\($0.rawValue)"] ?? $0.rawValue } ?? "", r.id.uuidString.lowercased(),
        ]
    }
}
