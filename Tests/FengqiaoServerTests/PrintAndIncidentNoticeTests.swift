import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import SQLKit
import Testing
import Vapor
import VaporTesting

/// Issue 4 follow-ups: the printed mediation agreement is one A4 page per copy (print CSS rules,
/// the signature block kept together), and the incident intake notifications name the category,
/// the grade in Chinese, the place and the start of the summary without personal numbers.
@Suite("agreement print layout; incident notification text", .serialized)
struct PrintAndIncidentNoticeTests {
    typealias D = DisputeTests
    typealias J = DisputeJointTests

    /// The declarations of the first rule whose selector list is exactly `selector`.
    static func rule(_ css: String, _ selector: String) -> String? {
        let pattern = "(?:^|[}\\n])\\s*" + NSRegularExpression.escapedPattern(for: selector) + "\\s*\\{([^}]*)\\}"
        let re = try! NSRegularExpression(pattern: pattern)
        let ns = css as NSString
        guard let m = re.firstMatch(in: css, range: NSRange(location: 0, length: ns.length)) else { return nil }
        return ns.substring(with: m.range(at: 1))
    }

    /// The value of `property` in a declaration block.
    static func value(_ block: String?, _ property: String) -> String? {
        guard let block else { return nil }
        for decl in block.split(separator: ";") {
            let parts = decl.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            if parts.count == 2, parts[0] == property { return parts[1] }
        }
        return nil
    }

    @Test("print CSS: A4 @page with margins, a page break after each copy, compact serif type, the signature block never split; the block holds signatures, seal and date")
    func printCSS() async throws {
        try await withApp { app in
            let css = try await apiCall(app, .GET, "/css/agreement-print.css", token: nil)
            #expect(css.status == .ok)
            let text = css.body.string
            let page = Self.rule(text, "@page")
            #expect(Self.value(page, "size") == "A4", "\(page ?? "no @page")")
            #expect(Self.value(page, "margin")?.hasPrefix("20mm") == true)
            let sheet = Self.rule(text, ".sheet")
            #expect(Self.value(sheet, "break-after") == "page" && Self.value(sheet, "page-break-after") == "always", "\(sheet ?? "no .sheet")")
            #expect(Self.value(Self.rule(text, ".sheet:last-of-type"), "break-after") == "auto")
            let sig = Self.rule(text, ".signatures")
            #expect(Self.value(sig, "break-inside") == "avoid" && Self.value(sig, "page-break-inside") == "avoid", "\(sig ?? "no .signatures")")
            let body = Self.rule(text, "body")
            let size = Self.value(body, "font-size").flatMap { $0.hasSuffix("pt") ? Double($0.dropLast(2)) : nil }
            #expect(size.map { (10.5...12).contains($0) } == true, "\(body ?? "no body")")
            #expect(Self.value(body, "line-height").flatMap(Double.init).map { $0 <= 1.5 } == true)
            let family = Self.value(body, "font-family") ?? ""
            #expect(family.contains("SimSun") && family.contains("Noto Serif CJK SC") && family.hasSuffix("serif"))
            #expect(Self.value(Self.rule(text, "h2"), "break-after") == "avoid")
            #expect(text.contains("@media print") && Self.value(Self.rule(text, ".screen-only"), "font-family") != nil)

            // The rendered page: three sheets, each with one signature block holding the parties'
            // lines, the mediator's signature, the seal and the date, in that order.
            let x = try await J.setup(app)
            let f = x.f
            let id = try await J.mediating(app, f)
            var r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement", token: f.mediator1Token, json: J.writtenAgreement)
            #expect(r.status == .created)
            r = try await apiCall(app, .POST, "/api/v1/disputes/\(idText(id))/agreement/print", token: f.mediator1Token, json: #"{"purpose":"打印供当事人签字"}"#)
            #expect(r.status == .ok, "\(r.body.string)")
            let html = r.body.string
            let sheets = html.components(separatedBy: "<section class=\"sheet\">").dropFirst()
            #expect(sheets.count == 3)
            for s in sheets {
                let blocks = s.components(separatedBy: "class=\"signatures\"")
                #expect(blocks.count == 2)
                let block = blocks.last?.components(separatedBy: "class=\"printed\"").first ?? ""
                let marks = ["申请人（签名、盖章或按指印）", "被申请人（签名、盖章或按指印）", "人民调解员（签名）", "人民调解委员会印章", "seal-box", "2026-"]
                let at = marks.map { block.range(of: $0)?.lowerBound }
                #expect(at.allSatisfy { $0 != nil }, "\(block)")
                #expect(block.range(of: "人民调解员（签名）")!.lowerBound < block.range(of: "class=\"issuer\"")!.lowerBound)
            }
        }
    }

    struct Note: Decodable { var kind: String; var body: String; var link: String? }

    static func notes(_ app: Application, incident: UUID) async throws -> [Note] {
        try await app.fengqiao.store.sql.raw("SELECT kind, body, link FROM notifications WHERE event_id = \(bind: incident) ORDER BY kind").all(decoding: Note.self)
    }

    @Test("intake notifications: category, grade in Chinese, address or grid name, summary start ≤ 60 characters; no caller phone, ID number or other long number; the link is clickable on /notifications")
    func incidentNotificationBody() async throws {
        try await withApp { app in
            let f = try await D.fixture(app)
            let address = try await AddressRepository().find(f.addressA, visible: .everything, on: app.fengqiao.store.db).formatted()
            #expect(!address.isEmpty)
            let summary = "王女士（电话13900000007，身份证号\(D.partyID)）称楼上住户连续三晚深夜装修，座机0877-6012345无人接听，双方在楼道推搡，请求民警到场处置，现场有老人和小孩受到惊吓需要关注后续"
            let body = #"{"category":"80","priority":"p3","addressId":"\#(idText(f.addressA))","callerName":"王女士","callerPhone":"13900000007","partyIdNumber":"\#(D.partyID)","summary":"\#(summary)"}"#
            var r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: body)
            #expect(r.status == .created, "\(r.body.string)")
            let inc = try json(r, as: D.IncidentOut.self)
            let notes = try await Self.notes(app, incident: inc.id)
            #expect(notes.map(\.kind) == ["incident.dispatch", "incident.firstResponse"], "\(notes)")
            for n in notes {
                #expect(n.body.hasPrefix("纠纷 · 三类警情 · \(address) · 王女士（电话"), "\(n.body)")
                #expect(!n.body.contains("p3") && !n.body.contains("13900000007") && !n.body.contains(D.partyID) && !n.body.contains("6012345") && !n.body.contains("0877"), "\(n.body)")
                let excerpt = n.body.components(separatedBy: " · ").last ?? ""
                #expect(excerpt.count == 61 && excerpt.hasSuffix("…") && excerpt.contains("称楼上住户连续三晚深夜装修"), "\(excerpt)")
                #expect(excerpt.contains("***********") && !excerpt.contains("需要关注后续"))
                #expect(n.link == "/incidents/\(idText(inc.id))")
            }
            // Without an address: the grid's name; a short summary is not cut; grade 一类.
            r = try await apiCall(app, .POST, "/api/v1/incidents", token: f.officer, json: #"{"category":"80","priority":"p1","gridId":"\#(idText(f.t.gridB.id))","summary":"路边争执"}"#)
            #expect(r.status == .created, "\(r.body.string)")
            let second = try json(r, as: D.IncidentOut.self)
            let notes2 = try await Self.notes(app, incident: second.id)
            #expect(notes2.count == 2 && notes2.allSatisfy { $0.body == "纠纷 · 一类警情 · 第2网格 · 路边争执" }, "\(notes2)")
            // The grid worker's list shows the body and links the title to the incident page.
            var worker = Browser(app)
            _ = try await worker.login("worker.a")
            r = try await worker.get("/notifications")
            #expect(r.status == .ok)
            let page = r.body.string
            #expect(page.contains("<a href=\"/incidents/\(idText(inc.id))\">警情先期处置 / First response</a>"), "\(page)")
            #expect(page.contains("纠纷 · 三类警情 · ") && page.contains("称楼上住户连续三晚深夜装修") && !page.contains("13900000007") && !page.contains(D.partyID))
            #expect(!page.contains(idText(second.id)))  // grid B's incident went to worker.b only
            r = try await worker.get("/incidents/\(idText(inc.id))")
            #expect(r.status == .ok)
        }
    }
}
