import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Dispute joint handling, police mediation, reminders, limits (issue 4)")
struct DisputeJointCoreTests {
    static let t0 = Date(timeIntervalSince1970: 1_780_000_000)
    static let officer = UUID(), staff = UUID()

    /// The error a body throws, if any.
    static func caught(_ body: () throws -> Void) -> DomainError? {
        do { try body(); return nil } catch { return error as? DomainError }
    }

    static func pushed(by side: JointSide = .police, due: Date? = nil) throws -> JointCase {
        try JointRules.push(by: side, actorID: officer, actorName: "民警", state: .mediating, existing: nil, otherDueAt: due, ownDueAt: nil, otherOwner: nil, now: t0)
    }

    @Test("sides follow the roles; other roles are refused")
    func sides() throws {
        #expect(JointSide.of(.communityPoliceOfficer) == .police)
        #expect(JointSide.of(.governanceCenterStaff) == .governanceCentre)
        #expect(JointSide.of(.mediator) == nil && JointSide.of(.gridWorker) == nil && JointSide.of(.stationLeader) == nil)
        #expect(throws: DomainError.self) { try JointRules.side(of: .gridWorker) }
        #expect(throws: DomainError.self) { try JointRules.side(of: nil) }
        #expect(JointSide.police.other == .governanceCentre && JointSide.governanceCentre.other == .police)
    }

    @Test("push: both sides owners with their own deadlines; never twice, never on a closed case, no past deadline")
    func push() throws {
        let j = try Self.pushed()
        #expect(j.pushedBy == .police && j.police.ownerID == Self.officer && j.governanceCentre.ownerID == nil)
        #expect(j.governanceCentre.dueAt == Self.t0.addingTimeInterval(7 * 86_400) && j.police.dueAt == j.governanceCentre.dueAt)
        #expect(j.missingSignOffs == [.police, .governanceCentre])
        #expect(throws: DomainError.conflict(field: "joint", reason: "the case is already under joint handling (pushed by police)")) {
            try JointRules.push(by: .governanceCentre, actorID: nil, actorName: "x", state: .mediating, existing: j, otherDueAt: nil, ownDueAt: nil, otherOwner: nil, now: Self.t0)
        }
        #expect(throws: DomainError.self) {
            try JointRules.push(by: .police, actorID: nil, actorName: "x", state: .closedResolved, existing: nil, otherDueAt: nil, ownDueAt: nil, otherOwner: nil, now: Self.t0)
        }
        let e = Self.caught { _ = try JointRules.push(by: .police, actorID: nil, actorName: "x", state: .mediating, existing: nil, otherDueAt: Self.t0, ownDueAt: nil, otherOwner: nil, now: Self.t0) }
        guard case .invalidField(let f, _)? = e else { Issue.record("a deadline at now must be refused: \(String(describing: e))"); return }
        #expect(f == "dueAt")
    }

    @Test("sign-off once per side; closing needs both, naming the missing side; transfer and refusal do not wait")
    func signOffAndClose() throws {
        var j = try Self.pushed()
        for s in JointRules.closingStates {
            #expect(throws: DomainError.self) { try JointRules.checkClose(j, next: s) }
        }
        try JointRules.checkClose(j, next: .transferred)
        try JointRules.checkClose(j, next: .notAccepted)
        try JointRules.checkClose(j, next: .agreementEffective)
        try JointRules.checkClose(nil, next: .closedResolved)
        j = try JointRules.signOff(j, by: .governanceCentre, actorID: Self.staff, actorName: "综治", now: Self.t0)
        #expect(j.governanceCentre.ownerID == Self.staff, "the first member of a side who acts owns it")
        let e = Self.caught { [j] in try JointRules.checkClose(j, next: .closedResolved) }
        guard case .conflict(let f, let r)? = e else { Issue.record("must be refused: \(String(describing: e))"); return }
        #expect(f == "signOff" && r.contains("missing: police (社区民警)") && !r.contains("governance-centre"))
        #expect(throws: DomainError.self) { try JointRules.signOff(j, by: .governanceCentre, actorID: Self.staff, actorName: "综治", now: Self.t0) }
        #expect(throws: DomainError.self) { try JointRules.supervise(j, by: .governanceCentre, actorID: Self.staff, actorName: "综治", dueAt: nil, now: Self.t0) }
        j = try JointRules.signOff(j, by: .police, actorID: Self.officer, actorName: "民警", now: Self.t0)
        try JointRules.checkClose(j, next: .closedResolved)
        #expect(throws: DomainError.self) { try JointRules.signOff(nil, by: .police, actorID: nil, actorName: "x", now: Self.t0) }
    }

    @Test("supervision notes move the side's own deadline; reminders due soon and overdue")
    func reminders() throws {
        var j = try Self.pushed(due: Self.t0.addingTimeInterval(48 * 3600))
        let p = JointPolicy(defaultDueDays: 7, remindBeforeHours: 24)
        #expect(JointRules.reminder(j.governanceCentre, now: Self.t0, policy: p) == nil)
        #expect(JointRules.reminder(j.governanceCentre, now: Self.t0.addingTimeInterval(25 * 3600), policy: p) == .dueSoon)
        #expect(JointRules.reminder(j.governanceCentre, now: Self.t0.addingTimeInterval(48 * 3600), policy: p) == .overdue)
        j = try JointRules.supervise(j, by: .governanceCentre, actorID: Self.staff, actorName: "综治", dueAt: Self.t0.addingTimeInterval(96 * 3600), now: Self.t0)
        #expect(JointRules.reminder(j.governanceCentre, now: Self.t0.addingTimeInterval(48 * 3600), policy: p) == nil)
        #expect(throws: DomainError.self) { try JointRules.supervise(j, by: .police, actorID: nil, actorName: "x", dueAt: Self.t0.addingTimeInterval(-1), now: Self.t0) }
        #expect(throws: DomainError.self) { try JointRules.supervise(nil, by: .police, actorID: nil, actorName: "x", dueAt: nil, now: Self.t0) }
        j = try JointRules.signOff(j, by: .governanceCentre, actorID: Self.staff, actorName: "综治", now: Self.t0)
        #expect(JointRules.reminder(j.governanceCentre, now: Self.t0.addingTimeInterval(1000 * 3600), policy: p) == nil)
    }

    @Test("judicial-confirmation reminder: days left of the Art. 33 window")
    func confirmation() {
        let eff = CalendarDate(iso: "2026-03-01")!
        #expect(JudicialConfirmation.deadline(effectiveOn: eff).description == "2026-03-31")
        #expect(JudicialConfirmationReminder.daysLeft(effectiveOn: eff, today: CalendarDate(iso: "2026-03-24")!) == 7)
        #expect(JudicialConfirmationReminder.due(effectiveOn: eff, today: CalendarDate(iso: "2026-03-24")!, remindDays: 7))
        #expect(!JudicialConfirmationReminder.due(effectiveOn: eff, today: CalendarDate(iso: "2026-03-23")!, remindDays: 7))
        #expect(JudicialConfirmationReminder.due(effectiveOn: eff, today: CalendarDate(iso: "2026-03-31")!, remindDays: 7))
        #expect(!JudicialConfirmationReminder.due(effectiveOn: eff, today: CalendarDate(iso: "2026-04-01")!, remindDays: 7))
    }

    @Test("police mediation: the exclusions of 公安机关治安调解工作规范 are refused with the reason; conduct and consent required")
    func policeMediation() throws {
        var a = MediationAgreement(
            form: .written, kind: .police, partiesInformation: "甲、乙", facts: "f", disputedMatters: "m", responsibilities: "r", agreedContent: "c",
            performanceManner: "当场", performanceDeadline: CalendarDate(iso: "2026-12-31"))
        #expect(throws: DomainError.invalidField(field: "policeMediation", reason: "a police mediation (治安调解) records the conduct, the exclusions checked and both parties' consent")) {
            try a.validatedContents()
        }
        a.policeMediation = PoliceMediationFacts(conduct: .assault, exclusions: [.hiredAssault, .repeatedViolations], bothPartiesConsent: true)
        let e = Self.caught { [a] in _ = try a.validatedContents() }
        guard case .invalidField(let f, let r)? = e else { Issue.record("excluded case must be refused: \(String(describing: e))"); return }
        #expect(f == "policeMediation.exclusions" && r.english.contains("雇凶伤害他人") && r.english.contains("多次违反治安管理"))
        a.policeMediation = PoliceMediationFacts(conduct: nil, exclusions: [], bothPartiesConsent: true)
        #expect(throws: DomainError.self) { try a.validatedContents() }
        a.policeMediation = PoliceMediationFacts(conduct: .insult, exclusions: [], bothPartiesConsent: false)
        #expect(throws: DomainError.self) { try a.validatedContents() }
        a.policeMediation = PoliceMediationFacts(conduct: .insult, exclusions: [], bothPartiesConsent: true)
        _ = try a.validatedContents()
        #expect(PoliceMediationExclusion.allCases.count == 5)
        // A people's mediation needs none of it; stored agreements without the field still decode.
        let old = #"{"form":"written","kind":"people","partyMarks":{},"committeeSeal":false}"#
        let decoded = try JSONDecoder().decode(MediationAgreement.self, from: Data(old.utf8))
        #expect(decoded.policeMediation == nil)
    }

    @Test("free-text limits name the field")
    func limits() throws {
        try DisputeTextLimits.check(String(repeating: "字", count: 2000), field: "note", max: DisputeTextLimits.note)
        try DisputeTextLimits.check(nil, field: "note", max: 1)
        #expect(throws: DomainError.invalidField(field: "note", reason: "must have at most 2000 characters (has 2001)")) {
            try DisputeTextLimits.check(String(repeating: "字", count: 2001), field: "note", max: DisputeTextLimits.note)
        }
        let a = MediationAgreement(form: .written, agreedContent: String(repeating: "x", count: 4001))
        #expect(throws: DomainError.invalidField(field: "agreedContent", reason: "must have at most 4000 characters (has 4001)")) { try a.validatedContents() }
    }

    @Test("response-time figures: median, average, maximum of the arrivals")
    func responseTimes() {
        let f = ResponseTimeFigures(received: 5, arrivalMinutes: [30, 10, 20, 40])
        #expect(f.received == 5 && f.arrived == 4 && f.medianMinutes == 25 && f.averageMinutes == 25 && f.maxMinutes == 40)
        #expect(ResponseTimeFigures(received: 3, arrivalMinutes: [7, 1, 3]).medianMinutes == 3)
        let none = ResponseTimeFigures(received: 2, arrivalMinutes: [])
        #expect(none.arrived == 0 && none.medianMinutes == nil && none.averageMinutes == nil)
    }
}
