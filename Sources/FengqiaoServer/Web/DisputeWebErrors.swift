import FengqiaoCore
import Foundation

/// Chinese (or English) messages for the `DomainError`s the incident and dispute forms can
/// produce. The service's reasons are English and name the field; the pages say the same in the
/// user's language: the field's label, and for the errors people meet in practice (Art. 29
/// contents missing, the Art. 33 deadline, recusal, a stale form) the rule in words. Anything not
/// mapped shows the field label with the service's reason, so no error is ever hidden.
enum DisputeWebErrors {
    /// The inline error of a form: which form, which field (the service's name), the message.
    struct Inline: Encodable {
        var form: String
        var field: String
        var message: String
    }

    /// Context a message may need: party names by id, the case's judicial-confirmation deadline.
    struct Context {
        var partyNames: [String: String] = [:]
        var deadline: CalendarDate?
        var state: String?
        /// Field labels of this form that differ from the common ones (e.g. "警情类别").
        var labels: [String: String] = [:]
        /// Messages about a police incident: state and event names from the incident tables.
        var incident = false
    }

    /// `template` with each `%@` replaced by the next argument.
    static func fill(_ template: String, _ args: String...) -> String {
        var out = ""
        var rest = Substring(template)
        for a in args {
            guard let r = rest.range(of: "%@") else { break }
            out += rest[..<r.lowerBound] + a
            rest = rest[r.upperBound...]
        }
        return out + rest
    }

    /// The label of a service field name (`parties[1].idNumber` → "当事人 2 身份证号").
    static func fieldLabel(_ field: String, _ t: [String: String]) -> String {
        if let m = captures(field, #"^(parties|mediators)\[(\d+)\]\.?(.*)$"#) {
            let n = (Int(m[1]) ?? 0) + 1
            let sub = m[2].isEmpty ? "" : (t["dw.field.\(m[2])"] ?? m[2])
            return "\(t["dw.field.\(m[0])"] ?? m[0]) \(n) \(sub)".trimmingCharacters(in: .whitespaces)
        }
        return t["dw.field.\(field)"] ?? t["dw.f.\(field)"] ?? field
    }

    /// A missing-item name of `MediationAgreement.missingForEffect` in words.
    static func missingLabel(_ m: String, _ t: [String: String], _ c: Context) -> String {
        if m.hasPrefix("party:") {
            let id = String(m.dropFirst("party:".count))
            return fill(t["dw.err.partyMark"]!, c.partyNames[id] ?? id)
        }
        return t["dw.f.\(m)"] ?? m
    }

    static func stateLabel(_ raw: String, _ t: [String: String], incident: Bool = false) -> String {
        incident ? t["inc.state.\(raw)"] ?? raw : t["dispute.state.\(raw)"] ?? raw
    }
    static func eventLabel(_ raw: String, _ t: [String: String], incident: Bool = false) -> String {
        incident ? t["inc.event.\(raw)"] ?? raw : t["dispute.event.\(raw)"] ?? raw
    }

    /// The message for `e` on form `form`; `nil` for `.notFound` (a 404, never a form message).
    static func inline(_ e: DomainError, form: String, t: [String: String], context c: Context = .init()) -> Inline? {
        switch e {
        case .notFound: return nil
        case .forbidden: return Inline(form: form, field: "", message: t["dw.err.forbidden"]!)
        case .passwordPolicy: return Inline(form: form, field: "", message: "\(e)")
        case .conflict(let f, let r):
            return Inline(form: form, field: f, message: message(field: f, reason: r, t: t, c))
        case .invalidField(let f, let r):
            return Inline(form: form, field: f, message: message(field: f, reason: r.english, t: t, c))
        }
    }

    static func captures(_ s: String, _ pattern: String) -> [String]? {
        guard let re = try? NSRegularExpression(pattern: pattern), let m = re.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) else { return nil }
        return (1..<m.numberOfRanges).map { i in Range(m.range(at: i), in: s).map { String(s[$0]) } ?? "" }
    }

    static func message(field f: String, reason r: String, t: [String: String], _ c: Context) -> String {
        let label = c.labels[f] ?? fieldLabel(f, t)
        switch f {
        case "version":
            if r.contains("changed") { return t["dw.conflict"]! }
        case "event":
            if let m = captures(r, #"event "([A-Za-z]+)" is not allowed in state "([a-z_]+)""#) {
                return fill(t["dw.err.transition"]!, stateLabel(m[1], t, incident: c.incident), eventLabel(m[0], t, incident: c.incident))
            }
        case "level":
            return t["dw.err.level"]!
        case "state":
            return t["dw.err.stateSession"]!
        case "category":
            return fill(t["dw.err.category"]!, label)
        case "location":
            if r.contains("outside") { return t["dw.err.outsideGrids"]! }
            if r.contains("give addressId") { return t["dw.err.noLocation"]! }
        case "agreement":
            if let list = captures(r, #"missing Art\. 29 contents: (.*)$"#)?.first {
                return fill(t["dw.err.art29"]!, list.components(separatedBy: ", ").map { missingLabel($0, t, c) }.joined(separator: "、"))
            }
            if let list = captures(r, #"missing oral-agreement record: (.*)$"#)?.first {
                return fill(t["dw.err.oralMissing"]!, list.components(separatedBy: ", ").map { missingLabel($0, t, c) }.joined(separator: "、"))
            }
            if let list = captures(r, #"cannot take effect, missing: (.*)$"#)?.first {
                return fill(t["dw.err.notEffective"]!, list.components(separatedBy: ", ").map { missingLabel($0, t, c) }.joined(separator: "、"))
            }
            if r.contains("record the agreement first") { return t["dw.err.recordFirst"]! }
            if r.contains("no draft agreement") { return t["dw.err.noDraft"]! }
        case "appliedOn":
            if let m = captures(r, #"^(\S+) is after the judicial-confirmation deadline (\S+)"#) {
                return fill(t["dw.err.afterDeadline"]!, m[0], m[1])
            }
            if r.contains("before the agreement took effect") { return t["dw.err.beforeEffect"]! }
        case "mediators":
            if let m = captures(r, #"mediator (.+) is a party"#) { return fill(t["dw.err.mediatorIsParty"]!, m[0]) }
            if let m = captures(r, #"mediator (.+) is related to a party"#) { return fill(t["dw.err.mediatorRelated"]!, m[0]) }
            if r.contains("at least one") { return t["dw.err.noMediator"]! }
        case "partyId":
            if r.contains("give partyId") { return t["dw.err.signNothing"]! }
            if r.contains("not a party") { return t["dw.err.notParty"]! }
        case "kind":
            return t["dw.err.policeKind"]!
        default:
            if f.hasPrefix("mediators[") { return t["dw.err.notMediator"]! }
        }
        if r == "is required" || r.hasPrefix("is required") || r.hasPrefix("the reason is required") { return fill(t["dw.err.required"]!, label) }
        if r.contains("is in the future") { return fill(t["dw.err.future"]!, label) }
        if r.hasPrefix("must have at most") { return fill(t["dw.err.tooLong"]!, label) + "（" + r + "）" }
        if r.contains("no such") && r.contains("territory") { return fill(t["dw.err.notInTerritory"]!, label) }
        if r.contains("calendar date") { return fill(t["dw.err.badDate"]!, label) }
        if f.hasSuffix("idNumber") || f.hasSuffix("IdNumber") { return fill(t["dw.err.badIdNumber"]!, label) + "（" + r + "）" }
        if f.hasSuffix("phone") || f.hasSuffix("Phone") { return fill(t["dw.err.badPhone"]!, label) + "（" + r + "）" }
        if r.hasPrefix("is required for") { return t["dw.err.noteRequired"]! }
        return fill(t["dw.err.invalid"]!, label, r)
    }
}
