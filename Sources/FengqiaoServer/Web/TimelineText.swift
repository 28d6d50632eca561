import FengqiaoCore
import Foundation

/// The details of timeline lines in Chinese. The services write a short English detail per
/// line (codes, ids, dates), stable for the API; the pages say the same in Chinese for the
/// forms the services write (a user's own note after "; " is kept as typed). A detail of an
/// unknown shape is shown as written.
enum TimelineText {
    static func re(_ p: String) -> NSRegularExpression { try! NSRegularExpression(pattern: p) }

    /// (pattern, replacement builder from the captures)
    typealias Rule = (NSRegularExpression, @Sendable ([String]) -> String)

    static func level(_ raw: String) -> String { DisputeLevel(rawValue: raw)?.nameZH ?? raw }
    static func risk(_ raw: String) -> String { RiskGrade(rawValue: raw)?.nameZH ?? raw }

    static let disputeRules: [Rule] = [
        (re(#"^source (\d), category (\d\d), risk ([RBOY]), level ([a-z]+)(; from incident [0-9a-f-]+)?"#), { c in
            "来源：\(DisputeSource(rawValue: c[0])?.nameZH ?? c[0])，类型：\(DisputeCategory(rawValue: c[1])?.nameZH ?? c[1])，风险：\(risk(c[2]))，层级：\(level(c[3]))" + (c[4].isEmpty ? "" : "；由警情转入")
        }),
        (re(#"^duplicate call [0-9a-f-]+ of incident [0-9a-f-]+ \(another caller, same event; not counted as a repeat\)"#), { _ in "同一事件的另一报警（不计为重复警情）" }),
        (re(#"^repeat incident [0-9a-f-]+ \((\d+) in (\d+) days\), first [0-9a-f-]+(?:; risk ([RBOY]) → ([RBOY]))?"#), { c in
            "重复警情（\(c[1]) 天内第 \(c[0]) 次）" + (c[2].isEmpty ? "" : "；风险等级 \(risk(c[2])) → \(risk(c[3]))")
        }),
        (re(#"^mediators (.+)$"#), { c in "调解员：" + c[0].replacingOccurrences(of: ", ", with: "、") }),
        (re(#"^(\d{4}-\d\d-\d\d) at (.+), (\d+) attending$"#), { c in "\(c[0])，地点：\(c[1])，\(c[2]) 人参加" }),
        (re(#"^([a-z]+) → ([a-z]+): mediation failed at this level"#), { c in "\(level(c[0])) → \(level(c[1]))：本级调解不成" }),
        (re(#"^([a-z]+) → ([a-z]+): the [a-z]+-level deadline (\S+) passed"#), { c in "\(level(c[0])) → \(level(c[1]))：本级期限已过" }),
        (re(#"^civil-to-criminal risk, grade ([RBOY]); reported to the police \(Art\. 25\)"#), { c in "民转刑风险，风险等级 \(risk(c[0]))；已报告公安机关（第二十五条）" }),
        (re(#"^reason ([A-Za-z]+); other routes explained \(arbitration, administrative, judicial — Art\. 26\)"#), { c in
            let reason = ["partyRefuses": "一方当事人明确拒绝调解", "notCivil": "不属于民间纠纷", "partyWithdraws": "当事人要求终止调解", "failed": "调解不成"][c[0]] ?? c[0]
            return "原因：\(reason)；已告知仲裁、行政、司法等途径（第二十六条）"
        }),
        (re(#"^(written|oral) (people|police)-mediation agreement"#), { c in (c[0] == "written" ? "书面" : "口头") + (c[1] == "people" ? "人民调解协议" : "治安调解协议") }),
        (re(#"^agreement effective (\S+) at ([a-z]+) level; judicial confirmation until (\S+)"#), { c in "协议于 \(c[0]) 在\(level(c[1]))层级生效；司法确认申请期限至 \(c[2])" }),
        (re(#"^applied on (\S+)"#), { c in "申请日期 \(c[0])" }),
        // Joint handling (双推送、双盯办、双化解)
        (re(#"^(police|governance-centre) → (police|governance-centre); \S+ due (\S+), \S+ due (\S+)(?:; owner ([^;]+))?"#), { c in
            "\(side(c[0]))推送\(side(c[1]))联合处置；\(side(c[0]))期限 \(time(c[2]))，\(side(c[1]))期限 \(time(c[3]))" + (c[4].isEmpty ? "" : "；对方承办人 \(c[4])")
        }),
        (re(#"^(police|governance-centre) signed off; (?:(both sides signed off)|awaiting (.+?))(?=;|$)"#), { c in
            "\(side(c[0]))签认化解；" + (c[1].isEmpty ? "待\(c[2].components(separatedBy: ", ").map(side).joined(separator: "、"))签认" : "双方均已签认")
        }),
        (re(#"^(police|governance-centre): (.*?)(?:; (?:police|governance-centre) due (\S+))?$"#), { c in
            "\(side(c[0]))盯办：\(c[1])" + (c[2].isEmpty ? "" : "；期限 \(time(c[2]))")
        }),
    ]

    static func side(_ raw: String) -> String { JointSide(rawValue: raw)?.nameZH ?? raw }
    static func time(_ iso: String) -> String {
        guard let d = ISO8601DateFormatter().date(from: iso) else { return iso }
        return ImportWebController.time(d)
    }

    static let incidentRules: [Rule] = [
        (re(#"^first response: (.+) \(in-app\)$"#), { c in "先期处置：\(c[0])（站内通知）" }),
        (re(#"^community officer (.+)$"#), { c in "社区民警：\(c[0])" }),
        (re(#"^officer (.+?)(?=;|$)"#), { c in "出警：\(c[0])" }),
        (re(#"^(\d+) min after receipt"#), { c in "接警后 \(c[0]) 分钟到达" }),
        (re(#"^disposition ([A-Za-z]+)"#), { c in "处置：" + (["resolveOnSite": "现场调解处置", "convertToDispute": "转为矛盾纠纷", "openCase": "立案", "markInvalid": "无效警情"][c[0]] ?? c[0]) }),
        (re(#"^no grid worker serves this grid$"#), { _ in "本网格无网格员" }),
        (re(#"^(\d\d) [^,]+, (p[123])$"#), { c in "\(IncidentCategory(rawValue: c[0])?.nameZH ?? c[0])，\(["p1": "一类", "p2": "二类", "p3": "三类"][c[1]] ?? c[1])警情" }),
    ]

    /// Party marks: "party <id> signed, mediator signed, committee seal".
    static func marks(_ s: String, parties: [String: String]) -> String? {
        let items = s.components(separatedBy: ", ")
        guard !items.isEmpty, items.allSatisfy({ $0.hasPrefix("party ") || $0 == "mediator signed" || $0 == "committee seal" }) else { return nil }
        return items.map { item in
            if item == "mediator signed" { return "调解员签名" }
            if item == "committee seal" { return "加盖调解委员会印章" }
            let parts = item.split(separator: " ")
            let who = parts.count > 1 ? parties[String(parts[1])] ?? "当事人" : "当事人"
            let mark = parts.count > 2 ? (["signed": "签名", "sealed": "盖章", "fingerprinted": "按指印"][String(parts[2])] ?? String(parts[2])) : ""
            return "\(who)\(mark)"
        }.joined(separator: "、")
    }

    static func apply(_ rules: [Rule], _ s: String) -> String? {
        let ns = s as NSString
        for (r, build) in rules {
            guard let m = r.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { continue }
            let caps = (1..<m.numberOfRanges).map { m.range(at: $0).location == NSNotFound ? "" : ns.substring(with: m.range(at: $0)) }
            let rest = ns.substring(from: m.range.location + m.range.length)
            return build(caps) + rest.replacingOccurrences(of: "; ", with: "；")
        }
        return nil
    }

    /// A dispute timeline detail in the page's language (`zh`: translated when its shape is known).
    static func dispute(_ detail: String?, zh: Bool, parties: [String: String]) -> String {
        guard let d = detail, zh else { return detail ?? "" }
        return apply(disputeRules, d) ?? marks(d, parties: parties) ?? d
    }

    /// An incident timeline detail in the page's language.
    static func incident(_ detail: String?, zh: Bool) -> String {
        guard let d = detail, zh else { return detail ?? "" }
        return apply(incidentRules, d) ?? d
    }
}
