import FengqiaoCore
import FengqiaoStore
import Vapor

/// The printed mediation agreement (调解协议书, 人民调解法 Arts. 28–29, 33; the police variant
/// 治安调解协议书 of 公安机关治安调解工作规范): a clean A4 document in the customary layout, one
/// copy per party plus one for the file, page breaks by print CSS. It carries the parties'
/// real names and ID numbers, so it needs a stated purpose, is audited like a reveal
/// (`DisputeService.agreementForPrint`) and is sent `Cache-Control: no-store`.
enum AgreementPrint {
    struct PartyRow: Encodable { var role: String; var name: String; var idNumber: String; var phone: String }
    struct Copy: Encodable { var n: Int; var total: Int; var holder: String }
    struct Data: Encodable {
        var title: String
        var number: String
        var committee: String
        var police: Bool
        var conduct: String
        var parties: [PartyRow]
        var partiesInformation: String
        var facts: String
        var disputedMatters: String
        var responsibilities: String
        var agreedContent: String
        var performanceManner: String
        var performanceDeadline: String
        var mediator: String
        var sealed: Bool
        var date: String
        var draft: Bool
        var copies: [Copy]
        var copyCount: Int
        var printedBy: String
        var printedAt: String
    }

    static func roleZH(_ r: DisputeParty.Role, police: Bool) -> String {
        switch r {
        case .applicant: police ? "当事人（甲方）" : "申请人"
        case .respondent: police ? "当事人（乙方）" : "被申请人"
        case .other: "其他当事人"
        }
    }

    /// Builds and renders the print page.
    static func render(_ req: Request, id: UUID, purpose: String?, access: DisputeAccess) async throws -> Response {
        let svc = DisputeAPIController.service(req)
        let (v, rec) = try await svc.agreementForPrint(id, purpose: purpose, actor: req.actor, access: access)
        let a = rec.agreement
        let police = a.kind == .police
        let app = req.fengqiao
        let community = try await ifFound { try await app.territories.community(v.dispute.communityID, visible: .everything, on: app.store.db) }
        let place = community?.name ?? ""
        let parties = v.parties.map { p in
            PartyRow(role: roleZH(p.role, police: police), name: p.name, idNumber: p.idNumber ?? "", phone: p.phone.map { $0.nationalNumber ?? $0.e164 } ?? "")
        }
        var copies = v.parties.enumerated().map { n, p in Copy(n: n + 1, total: v.parties.count + 1, holder: "\(roleZH(p.role, police: police)) \(p.name) 收执") }
        copies.append(Copy(n: v.parties.count + 1, total: v.parties.count + 1, holder: police ? "公安机关存档" : "人民调解委员会存档"))
        let year = (rec.effectiveOn ?? DisputeService.today(svc.settings.clock())).description.prefix(4)
        let short = String(v.dispute.id.uuidString.prefix(8))
        let data = Data(
            title: police ? "治安调解协议书" : "人民调解协议书",
            number: police ? "（\(year)）治调字第 \(short) 号" : "（\(year)）调字第 \(short) 号",
            committee: police ? place : "\(place)人民调解委员会",
            police: police, conduct: a.policeMediation?.conduct?.nameZH ?? "",
            parties: parties, partiesInformation: a.partiesInformation ?? "", facts: a.facts ?? "", disputedMatters: a.disputedMatters ?? "",
            responsibilities: a.responsibilities ?? "", agreedContent: a.agreedContent ?? "", performanceManner: a.performanceManner ?? "",
            performanceDeadline: a.performanceDeadline?.description ?? "", mediator: a.mediatorSignature ?? "", sealed: a.committeeSeal,
            date: (rec.effectiveOn ?? DisputeService.today(svc.settings.clock())).description, draft: rec.effectiveOn == nil,
            copies: copies, copyCount: copies.count, printedBy: req.actor.name, printedAt: ImportWebController.time(svc.settings.clock()))
        struct Context: Encodable { var data: Data }
        let view = try await req.view.render("dispute-agreement-print", Context(data: data))
        let res = try await view.encodeResponse(for: req)
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }
}
