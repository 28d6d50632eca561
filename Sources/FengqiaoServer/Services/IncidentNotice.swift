import FengqiaoCore
import FengqiaoStore
import Fluent
import Foundation

/// The body of the in-app notifications sent on incident intake (警情先期处置 to the grid
/// worker, 警情派警 to the community officer, domain spec §4.6), e.g.
/// `纠纷 · 三类警情 · 迎宾路8号1栋1单元3层301室 · 楼上楼下吵架`.
///
/// Parts, joined with ` · `: the category name (§3 code table), the urgency grade in Chinese
/// (一类/二类/三类警情, §4.6, the labels of the incident pages without their parenthetical
/// note), the place (the standard address, else the grid's name; empty parts are left out) and
/// the first `summaryLimit` characters of the summary, `…` when cut.
///
/// Notifications may be pushed outside the system (§7.4 "must contain no direct identifiers"):
/// the caller's name and phone and the party's ID number are never part of the body, and in the
/// summary the caller's phone and the party's ID number as recorded, anything shaped like an ID
/// number or a mobile number (`NotificationText.scrubbed`) and any other run of seven or more
/// digits (landline numbers) are replaced by `*` before it is cut, so no partial number survives.
enum IncidentNotice {
    /// At most this many characters (grapheme clusters) of the summary.
    static let summaryLimit = 60

    /// Runs of 7+ digits, optionally separated by `-` or a space (landline and other numbers).
    nonisolated(unsafe) static let longNumber = try! NSRegularExpression(pattern: "(?<![0-9])[0-9](?:[- ]?[0-9]){6,}(?![0-9])")

    /// Chinese urgency grade: `p3` → `三类警情`.
    static func priorityZH(_ p: IncidentPriority) -> String {
        let label = L10n.zh["inc.priority.\(p.rawValue)"] ?? p.rawValue
        return label.split(separator: "（", maxSplits: 1).first.map(String.init) ?? label
    }

    /// The summary with personal numbers masked, cut to `summaryLimit` characters.
    static func summaryExcerpt(_ rec: IncidentRecord) -> String {
        var s = rec.summary.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        var known: [String] = []
        if let id = rec.partyIDNumber, !id.isEmpty { known.append(id) }
        if let p = rec.callerPhone {
            known.append(p.e164)
            if let n = p.nationalNumber { known.append(n) }
        }
        for k in known where k.count >= 5 {
            s = s.replacingOccurrences(of: k, with: String(repeating: "*", count: k.count), options: .caseInsensitive)
        }
        s = NotificationText.scrubbed(s)
        let ns = s as NSString
        for m in longNumber.matches(in: s, range: NSRange(location: 0, length: ns.length)).reversed() {
            s = (s as NSString).replacingCharacters(in: m.range, with: String(repeating: "*", count: m.range.length))
        }
        s = s.trimmingCharacters(in: .whitespaces)
        return s.count > summaryLimit ? String(s.prefix(summaryLimit)) + "…" : s
    }

    /// The place of the incident: its standard address, else the name of its grid ("" when
    /// neither can be read).
    static func place(_ rec: IncidentRecord, on db: any Database) async throws -> String {
        if let a = rec.addressID, let addr = try await AddressRepository().find(ids: [a], visible: .everything, on: db)[a] {
            return addr.formatted()
        }
        return try await DisputeStatisticsRepository().names(table: "grids", ids: [rec.gridID], on: db)[rec.gridID.uuidString.lowercased()] ?? ""
    }

    /// The notification body (see the type's documentation).
    static func body(_ rec: IncidentRecord, place: String) -> String {
        [rec.category.nameZH, priorityZH(rec.priority), place, summaryExcerpt(rec)].filter { !$0.isEmpty }.joined(separator: " · ")
    }
}
