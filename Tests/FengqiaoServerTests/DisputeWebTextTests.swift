import FengqiaoCore
import Foundation
import Testing

@testable import FengqiaoServer

/// The Chinese wording of the dispute and incident pages: timeline details in the shapes the
/// services write, and the messages of refused forms.
@Suite("dispute web texts")
struct DisputeWebTextTests {
    let parties = ["0f0e0d0c-0000-4000-8000-000000000001": "张三"]

    @Test("dispute timeline details in Chinese, a user's note kept, unknown shapes and English untouched")
    func disputeDetails() {
        func zh(_ s: String) -> String { TimelineText.dispute(s, zh: true, parties: parties) }
        #expect(zh("source 4, category 02, risk Y, level grid; from incident 6a1b2c3d-0000-4000-8000-000000000000") == "来源：警情转入，类型：邻里纠纷，风险：黄，层级：网格；由警情转入")
        #expect(zh("repeat incident 6a1b2c3d-0000-4000-8000-000000000000 (3 in 30 days), first 6a1b2c3d-0000-4000-8000-000000000001; risk Y → O") == "重复警情（30 天内第 3 次）；风险等级 黄 → 橙")
        #expect(zh("mediators 王调解, 李调解") == "调解员：王调解、李调解")
        #expect(zh("2026-11-30 at 1栋楼下, 3 attending") == "2026-11-30，地点：1栋楼下，3 人参加")
        #expect(zh("grid → community: mediation failed at this level; 网格调解不成") == "网格 → 社区：本级调解不成；网格调解不成")
        #expect(zh("grid → community: the grid-level deadline 2026-12-07T07:03:32Z passed") == "网格 → 社区：本级期限已过")
        #expect(zh("reason failed; other routes explained (arbitration, administrative, judicial — Art. 26); 已告知") == "原因：调解不成；已告知仲裁、行政、司法等途径（第二十六条）；已告知")
        #expect(zh("party 0f0e0d0c-0000-4000-8000-000000000001 fingerprinted, mediator signed, committee seal") == "张三按指印、调解员签名、加盖调解委员会印章")
        #expect(zh("agreement effective 2026-11-30 at community level; judicial confirmation until 2026-12-30") == "协议于 2026-11-30 在社区层级生效；司法确认申请期限至 2026-12-30")
        #expect(zh("police signed off; awaiting governance-centre") == "社区民警签认化解；待综治中心签认")
        #expect(zh("governance-centre: 已约谈双方") == "综治中心盯办：已约谈双方")
        #expect(zh("something new") == "something new")
        #expect(TimelineText.dispute("mediators A, B", zh: false, parties: parties) == "mediators A, B")
    }

    @Test("incident timeline details in Chinese")
    func incidentDetails() {
        #expect(TimelineText.incident("80 纠纷, p3", zh: true) == "纠纷，三类警情")
        #expect(TimelineText.incident("first response: 网格员甲 (in-app)", zh: true) == "先期处置：网格员甲（站内通知）")
        #expect(TimelineText.incident("12 min after receipt; 现场劝解", zh: true) == "接警后 12 分钟到达；现场劝解")
        #expect(TimelineText.incident("disposition resolveOnSite", zh: true) == "处置：现场调解处置")
    }

    @Test("refusals in Chinese: field labels, the Art. 29 list, the Art. 33 deadline, a stale version, a transition; anything else keeps the reason")
    func messages() {
        let t = L10n.zh
        func m(_ e: DomainError, _ c: DisputeWebErrors.Context = .init()) -> String { DisputeWebErrors.inline(e, form: "f", t: t, context: c)!.message }
        #expect(DisputeWebErrors.fieldLabel("parties[1].idNumber", t) == "当事人 2 身份证号")
        #expect(m(.conflict(field: "version", reason: "the case changed since version 3 (now 4); reload it and try again")) == "案件已被他人更改，请刷新后重试")
        #expect(m(.invalidField(field: "agreement", reason: "missing Art. 29 contents: facts, performanceDeadline")) == "调解协议缺少《人民调解法》第二十九条规定的内容：纠纷的主要事实、履行期限")
        #expect(m(.invalidField(field: "agreement", reason: "cannot take effect, missing: party:0f0e0d0c-0000-4000-8000-000000000001, committeeSeal"), .init(partyNames: parties))
            == "协议尚不能生效，缺少：当事人张三的签名/盖章/指印、调解委员会印章")
        #expect(m(.invalidField(field: "appliedOn", reason: "2027-02-01 is after the judicial-confirmation deadline 2026-12-30 (30 days from 2026-11-30, Art. 33)"))
            == "申请日期 2027-02-01 已超过司法确认申请期限 2026-12-30（协议生效之日起三十日内，《人民调解法》第三十三条）")
        #expect(m(.conflict(field: "event", reason: #"event "accept" is not allowed in state "closed_resolved""#)) == "当前状态“已化解结案”下不能进行“受理”")
        #expect(m(.conflict(field: "event", reason: #"event "dispatch" is not allowed in state "transferred""#), .init(incident: true)) == "当前状态“已转矛盾纠纷”下不能进行“派警”")
        #expect(m(.invalidField(field: "category", reason: "unknown incident category \"81\""), .init(labels: ["category": "警情类别"])) == "警情类别：未知类别，请从列表中选择")
        #expect(m(.invalidField(field: "summary", reason: "is required")) == "概要：必填")
        #expect(m(.invalidField(field: "riskGrade", reason: "must be R or O (Art. 25)")) == "风险等级：must be R or O (Art. 25)")
        #expect(DisputeWebErrors.inline(.notFound(kind: "dispute"), form: "f", t: t) == nil, "out of scope stays a 404")
    }
}
