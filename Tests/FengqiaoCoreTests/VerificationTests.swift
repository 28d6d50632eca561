import FengqiaoCore
import Foundation
import Testing

/// 核采 rules: the period, the corrections a visit may make and the deregistration (domain spec §3.1).
@Suite("verification (核采)")
struct VerificationTests {
    let today = CalendarDate(yyyymmdd: "20261129")!

    func resident() throws -> ActualResident {
        ActualResident(
            populationType: .migrant, hukouSeparated: false, idDocType: .residentIdCard, idNumber: "530481199001010011", name: "李四", sex: .male,
            birthDate: CalendarDate(yyyymmdd: "19900101")!, hukouAddress: "云南省昆明市", residenceAddressID: UUID(), gridID: UUID(),
            residenceReason: .work, housingRelation: .tenant, employer: "阳光物业", phone: try PhoneNumber("13800138000"),
            registeredAt: CalendarDate(yyyymmdd: "20200301")!)
    }

    @Test("a record is overdue when its last check lies more than the period ago; never verified counts from collection")
    func period() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let p = VerificationPolicy(periodDays: 90)
        #expect(p.cutoff(now: now) == now.addingTimeInterval(-90 * 86_400))
        let collected91 = VerificationState(recordedAt: now.addingTimeInterval(-91 * 86_400))
        let collected89 = VerificationState(recordedAt: now.addingTimeInterval(-89 * 86_400))
        #expect(p.isOverdue(collected91, now: now))
        #expect(!p.isOverdue(collected89, now: now))
        let verified = VerificationState(verifiedAt: now.addingTimeInterval(-10 * 86_400), outcome: .verified, recordedAt: now.addingTimeInterval(-400 * 86_400))
        #expect(!p.isOverdue(verified, now: now), "the last verification counts, not the collection")
        #expect(verified.lastChecked == now.addingTimeInterval(-10 * 86_400))
        #expect(p.dueAt(verified.lastChecked) == now.addingTimeInterval(80 * 86_400))
        #expect(VerificationPolicy(periodDays: 5).isOverdue(verified, now: now))
        #expect(VerificationPolicy().periodDays == 90, "project default [P]")
    }

    @Test("a change applies only differing fields and names them; empty text removes; identity fields are not part of it")
    func change() throws {
        let r = try resident()
        let same = try ResidentChange(phone: "138 0013 8000", employer: "阳光物业", residenceReason: .work).applied(to: r)
        #expect(same.changed.isEmpty && same.resident == r)
        let c = try ResidentChange(phone: "13912345678", employer: "", housingRelation: .owner, hukouAddress: " 云南省玉溪市 ").applied(to: r)
        #expect(c.changed == ["phone", "employer", "housingRelation", "hukouAddress"])
        #expect(c.resident.phone?.e164 == "+8613912345678" && c.resident.employer == nil && c.resident.housingRelation == .owner && c.resident.hukouAddress == "云南省玉溪市")
        #expect(c.resident.idNumber == r.idNumber && c.resident.name == r.name)
        let removed = try ResidentChange(phone: "").applied(to: r)
        #expect(removed.changed == ["phone"] && removed.resident.phone == nil)
        #expect(invalidFieldName { _ = try ResidentChange(phone: "12345").applied(to: r) } == "phone")
        #expect(invalidFieldName { _ = try ResidentChange(employer: String(repeating: "单", count: 101)).applied(to: r) } == "employer")
        var gone = r
        gone.deregisteredAt = today
        gone.deregistrationReason = "迁出本地"
        #expect(throws: DomainError.self) { try ResidentChange(employer: "x").applied(to: gone) }
    }

    @Test("moved out: date (default today, not future, not before registration) and a GA/T 2000.25 reason; once only")
    func deregistration() throws {
        let r = try resident()
        let d = try Deregistration(reason: .movedAway).applied(to: r, today: today)
        #expect(d.deregisteredAt == today && d.deregistrationReason == "迁出本地")
        #expect(try Deregistration(deregisteredAt: "2026-10-01", reason: .death).applied(to: r, today: today).deregistrationReason == "死亡")
        #expect(try Deregistration(reason: .other, note: "随子女迁居").applied(to: r, today: today).deregistrationReason == "其他：随子女迁居")
        #expect(invalidFieldName { _ = try Deregistration(deregisteredAt: "2026-12-01", reason: .movedAway).applied(to: r, today: today) } == "deregisteredAt")
        #expect(invalidFieldName { _ = try Deregistration(deregisteredAt: "2019-01-01", reason: .movedAway).applied(to: r, today: today) } == "deregisteredAt")
        #expect(invalidFieldName { _ = try Deregistration(deregisteredAt: "2026-02-30", reason: .movedAway).applied(to: r, today: today) } == "deregisteredAt")
        #expect(invalidFieldName { _ = try Deregistration().applied(to: r, today: today) } == "reason")
        #expect(invalidFieldName { _ = try Deregistration(reason: .other).applied(to: r, today: today) } == "note")
        #expect(throws: DomainError.conflict(field: "deregisteredAt", reason: "the resident was already deregistered on \(today)")) {
            try Deregistration(reason: .death).applied(to: d, today: today)
        }
        #expect(DeregistrationReason.movedAway.code == "3" && DeregistrationReason.becameRegistered.code == nil)
    }
}
