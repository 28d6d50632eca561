import Foundation

/// 注销原因 of an actual resident, after GA/T 2000.25-2014 (户口注销原因代码): `1` 死亡, `2` 失踪,
/// `3` 迁出（离开）本地 [V, domain spec §3.1; the standard's table was read only up to code 3]. The
/// standard also lists 转为本地户籍人口, whose code was not visible in the source, so it carries
/// no code here; `other` takes a short text.
///
/// Raw values are stable project identifiers; the stored reason is the Chinese name (the
/// `deregistration_reason` column is free text, as the import writes it).
public enum DeregistrationReason: String, Codable, Sendable, CaseIterable {
    /// 死亡 (GA/T 2000.25 code 1).
    case death
    /// 失踪 (code 2).
    case missing
    /// 迁出（离开）本地 (code 3): the usual outcome of a 核采 visit that finds the person gone.
    case movedAway
    /// 转为本地户籍人口 (listed by the standard; code not verified).
    case becameRegistered
    /// 其他: needs a short text.
    case other

    /// The GA/T 2000.25-2014 code where it is known.
    public var code: String? {
        switch self {
        case .death: "1"
        case .missing: "2"
        case .movedAway: "3"
        case .becameRegistered, .other: nil
        }
    }

    /// Simplified-Chinese name, as stored.
    public var nameZH: String {
        switch self {
        case .death: "死亡"
        case .missing: "失踪"
        case .movedAway: "迁出本地"
        case .becameRegistered: "转为本地户籍人口"
        case .other: "其他"
        }
    }

    /// English name.
    public var nameEN: String {
        switch self {
        case .death: "Death"
        case .missing: "Missing"
        case .movedAway: "Moved away"
        case .becameRegistered: "Became a registered (hukou) resident"
        case .other: "Other"
        }
    }
}

/// A resident's deregistration (注销) as a 核采 visit records it: the date and the reason.
public struct Deregistration: Codable, Sendable, Equatable {
    public var deregisteredAt: String?
    public var reason: DeregistrationReason?
    /// Required with `reason == .other`, at most 90 characters.
    public var note: String?

    public init(deregisteredAt: String? = nil, reason: DeregistrationReason? = nil, note: String? = nil) {
        self.deregisteredAt = deregisteredAt
        self.reason = reason
        self.note = note
    }

    /// The resident deregistered on the given date with the reason's Chinese name as
    /// `deregistrationReason` (`其他：<note>` for `other`).
    /// - Parameter today: the date in China; the date may not lie after it.
    /// - Throws: `DomainError.invalidField("deregisteredAt" | "reason" | "note", …)` for a missing
    ///   or malformed date, a date before registration or after today, a missing reason or note;
    ///   `.conflict("deregisteredAt", …)` when the resident is already deregistered.
    public func applied(to r: ActualResident, today: CalendarDate) throws(DomainError) -> ActualResident {
        guard r.deregisteredAt == nil else {
            throw .conflict(field: "deregisteredAt", reason: "the resident was already deregistered on \(r.deregisteredAt!)")
        }
        let raw = (deregisteredAt ?? "").trimmingCharacters(in: .whitespaces)
        let date: CalendarDate
        if raw.isEmpty {
            date = today
        } else {
            guard let d = CalendarDate(iso: raw) else { throw .invalidField(field: "deregisteredAt", reason: "\(raw.prefix(20)) is not a calendar date YYYY-MM-DD") }
            date = d
        }
        guard date <= today else { throw .invalidField(field: "deregisteredAt", reason: "\(date) lies after today (\(today))") }
        guard date >= r.registeredAt else { throw .invalidField(field: "deregisteredAt", reason: "\(date) lies before the registration date \(r.registeredAt)") }
        guard let reason else { throw .invalidField(field: "reason", reason: "is required (\(DeregistrationReason.allCases.map(\.rawValue).joined(separator: ", ")))") }
        var text = reason.nameZH
        if reason == .other {
            guard let n = try FieldRules.optional(note, field: "note", max: 90) else { throw .invalidField(field: "note", reason: "is required with reason other") }
            text += "：" + n
        }
        var out = r
        out.deregisteredAt = date
        out.deregistrationReason = text
        return out
    }
}
