import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Disputes and police incidents (domain spec §3.2–3.7, §4.1, §4.6)")
struct DisputeCoreTests {
    static func date(_ s: String) -> CalendarDate { CalendarDate(iso: s)! }
    static let t0 = Date(timeIntervalSince1970: 1_780_000_000)

    @Test("code tables keep the spec's codes")
    func codes() throws {
        #expect(DisputeCategory.neighbour.rawValue == "02")
        #expect(DisputeCategory.villageAffairs.rawValue == "15")
        #expect(DisputeCategory.other.rawValue == "99")
        #expect(DisputeCategory.allCases.count == 16)
        #expect(DisputeSource.policeIncident.rawValue == "4")
        #expect(DisputeSource.allCases.map(\.rawValue) == ["1", "2", "3", "4", "5", "6", "7"])
        #expect(RiskGrade.allCases.map(\.rawValue) == ["R", "O", "Y", "B"])
        #expect(RiskGrade.red > .orange && RiskGrade.orange > .yellow && RiskGrade.yellow > .blue)
        #expect(ResolutionMethod.allCases.count == 9)
        #expect(DisputeLevel.building.next == .grid && DisputeLevel.grid.next == .community && DisputeLevel.community.next == .station)
        #expect(DisputeLevel.station.next == nil)
        #expect(IncidentCategory.dispute.rawValue == "80" && IncidentCategory.invalid.rawValue == "00")
        #expect(IncidentCategory.allCases.count == 10)
        #expect(throws: DomainError.self) { try IncidentCategory.parse("81") }
        #expect(try IncidentCategory.parse("20") == .publicOrder)
    }

    @Test("the §4.1 path: register → … → closed resolved")
    func happyPath() throws {
        var s = DisputeState.registered
        for e: DisputeEvent in [.accept, .assignMediators, .escalationRisk, .agreeWritten, .applyJudicialConfirmation, .courtConfirms, .performed, .followUpVisitRecorded] {
            s = try DisputeMachine.next(s, e)
        }
        #expect(s == .closedResolved)
        #expect(try DisputeMachine.next(.agreementEffective, .startPerformance) == .performing)
        #expect(try DisputeMachine.next(.registered, .reject) == .notAccepted)
        #expect(try DisputeMachine.next(.mediating, .terminate) == .terminated)
        #expect(try DisputeMachine.next(.mediating, .transferToPolice) == .transferred)
        #expect(try DisputeMachine.next(.confirmationPending, .courtRejectsRemediate) == .mediating)
        #expect(try DisputeMachine.next(.confirmationPending, .courtRejectsClose) == .closedUnresolved)
        #expect(try DisputeMachine.next(.performing, .disputeOverAgreement) == .closedUnresolved)
        #expect(try DisputeMachine.next(.mediating, .agreeOral) == .agreementEffective)
    }

    @Test("an invalid transition names the state and the event")
    func invalidTransition() throws {
        do {
            _ = try DisputeMachine.next(.registered, .agreeWritten)
            Issue.record("no error")
        } catch {
            #expect(error == .conflict(field: "event", reason: "event \"agreeWritten\" is not allowed in state \"registered\""))
        }
        for s in DisputeState.allCases where s.isTerminal {
            #expect(DisputeMachine.allowedEvents(in: s).isEmpty, "\(s)")
        }
        #expect(DisputeMachine.allowedEvents(in: .registered) == [.accept, .reject])
        #expect(throws: DomainError.self) { try DisputeMachine.next(.accepted, .agreeOral) }  // mediators first (Art. 19)
    }

    @Test("mediator recusal: a party or a relative is refused")
    func recusal() throws {
        let party = UUID(), other = UUID()
        let ok = MediatorConflict.Candidate(accountID: UUID(), name: "王调解", residentID: UUID())
        #expect(throws: Never.self) { try MediatorConflict.check([ok], partyResidentIDs: [party, other]) }
        let isParty = MediatorConflict.Candidate(accountID: UUID(), name: "张三", residentID: party)
        #expect(throws: DomainError.invalidField(field: "mediators", reason: "mediator 张三 is a party to the dispute and is refused")) {
            try MediatorConflict.check([ok, isParty], partyResidentIDs: [party])
        }
        let related = MediatorConflict.Candidate(accountID: UUID(), name: "李四", relatedResidentIDs: [other])
        #expect(throws: DomainError.invalidField(field: "mediators", reason: "mediator 李四 is related to a party and is refused")) {
            try MediatorConflict.check([related], partyResidentIDs: [party, other])
        }
        #expect(invalidFieldName { try MediatorConflict.check([], partyResidentIDs: [party]) } == "mediators")
    }

    static func fullAgreement(parties: [UUID]) -> MediationAgreement {
        MediationAgreement(
            form: .written, partiesInformation: "甲：张三；乙：李四", facts: "楼上漏水", disputedMatters: "维修费用", responsibilities: "甲方承担主要责任",
            agreedContent: "甲方赔偿乙方800元", performanceManner: "现金一次付清", performanceDeadline: date("2026-12-31"),
            partyMarks: Dictionary(uniqueKeysWithValues: parties.map { ($0.uuidString.lowercased(), MediationAgreement.Mark.signed) }),
            mediatorSignature: "王调解", committeeSeal: true)
    }

    @Test("written agreement: Art. 29 contents listed when missing; effect needs every mark, signature and seal")
    func agreement() throws {
        let a = UUID(), b = UUID()
        var g = Self.fullAgreement(parties: [a, b])
        #expect(g.missingForEffect(partyIDs: [a, b]).isEmpty)
        #expect(throws: Never.self) { try g.checkEffective(partyIDs: [a, b]) }
        g.facts = " "
        g.performanceManner = nil
        g.performanceDeadline = nil
        #expect(g.missingContents == ["facts", "performanceManner", "performanceDeadline"])
        #expect(throws: DomainError.invalidField(field: "agreement", reason: "missing Art. 29 contents: facts, performanceManner, performanceDeadline")) {
            try g.validatedContents()
        }
        var h = Self.fullAgreement(parties: [a])
        h.committeeSeal = false
        h.mediatorSignature = nil
        #expect(h.missingForEffect(partyIDs: [a, b]) == ["party:" + b.uuidString.lowercased(), "mediatorSignature", "committeeSeal"])
        #expect(invalidFieldName { try h.checkEffective(partyIDs: [a, b]) } == "agreement")
        let oral = MediationAgreement(form: .oral, recordedContent: "当场赔礼道歉")
        #expect(oral.missingContents == ["recordedBy"])
        let oralOK = MediationAgreement(form: .oral, recordedContent: "当场赔礼道歉", recordedBy: "王调解")
        #expect(oralOK.missingForEffect(partyIDs: [a, b]).isEmpty)  // Art. 30: oral effective on agreement
    }

    @Test("judicial confirmation: 30 days from effect (Art. 33), later dates refused naming the deadline")
    func confirmationWindow() throws {
        #expect(JudicialConfirmation.deadline(effectiveOn: Self.date("2026-01-15")) == Self.date("2026-02-14"))
        #expect(JudicialConfirmation.deadline(effectiveOn: Self.date("2024-02-10")) == Self.date("2024-03-11"))  // leap year
        #expect(throws: Never.self) { try JudicialConfirmation.check(appliedOn: Self.date("2026-02-14"), effectiveOn: Self.date("2026-01-15")) }
        #expect(throws: DomainError.invalidField(field: "appliedOn", reason: "2026-02-15 is after the judicial-confirmation deadline 2026-02-14 (30 days from 2026-01-15, Art. 33)")) {
            try JudicialConfirmation.check(appliedOn: Self.date("2026-02-15"), effectiveOn: Self.date("2026-01-15"))
        }
        #expect(invalidFieldName { try JudicialConfirmation.check(appliedOn: Self.date("2026-01-14"), effectiveOn: Self.date("2026-01-15")) } == "appliedOn")
    }

    @Test("risk grading: triggers → red/orange, baseline yellow, latent blue, never below a floor")
    func risk() throws {
        let p = RiskPolicy()
        #expect(p.grade(triggers: []) == .yellow)
        #expect(p.grade(triggers: [], latent: true) == .blue)
        #expect(p.grade(triggers: [.threatOfViolence]) == .red)
        #expect(p.grade(triggers: [.weapons]) == .red)
        #expect(p.grade(triggers: [.partyUnderSpecialManagement]) == .red)
        #expect(p.grade(triggers: p.triggers(flags: [], relatedIncidentsInWindow: 3, groupSize: 2)) == .orange)
        #expect(p.grade(triggers: p.triggers(flags: [], relatedIncidentsInWindow: 2, groupSize: 2)) == .yellow)
        #expect(p.grade(triggers: p.triggers(flags: [], relatedIncidentsInWindow: 0, groupSize: 5)) == .red)
        #expect(p.grade(triggers: p.triggers(flags: [], relatedIncidentsInWindow: 0, groupSize: 4)) == .yellow)
        #expect(p.grade(triggers: [], floor: .orange) == .orange)
        var strict = RiskPolicy()
        strict.gradeFor[.repeatIncidents] = .red  // §3.4 table variant
        #expect(strict.grade(triggers: [.repeatIncidents]) == .red)
    }

    @Test("escalation ladder: deadlines per grade and level, one step at a time")
    func escalation() throws {
        let e = EscalationPolicy()
        #expect(e.dueAt(level: .grid, since: Self.t0, grade: .yellow) == Self.t0.addingTimeInterval(7 * 86_400))
        #expect(e.escalation(level: .grid, since: Self.t0, grade: .yellow, now: Self.t0.addingTimeInterval(7 * 86_400 - 1)) == nil)
        #expect(e.escalation(level: .grid, since: Self.t0, grade: .yellow, now: Self.t0.addingTimeInterval(7 * 86_400)) == .community)
        #expect(e.escalation(level: .grid, since: Self.t0, grade: .orange, now: Self.t0.addingTimeInterval(3 * 86_400)) == .community)
        #expect(e.dueAt(level: .station, since: Self.t0, grade: .red) == nil)
        #expect(invalidFieldName { _ = try EscalationPolicy(hours: [.red: [.grid: 0]]).validated() } == "escalationHours")
    }

    @Test("incident workflow §4.6")
    func incidentMachine() throws {
        var s = IncidentState.received
        for e: IncidentEvent in [.dispatch, .arrive, .convertToDispute, .feedbackToCaller] { s = try IncidentMachine.next(s, e) }
        #expect(s == .closed)
        #expect(try IncidentMachine.next(.received, .markInvalid) == .invalid)
        #expect(throws: DomainError.conflict(field: "event", reason: "event \"resolveOnSite\" is not allowed in state \"received\"")) {
            try IncidentMachine.next(.received, .resolveOnSite)
        }
    }

    @Test("repeat rule §3.7.3: same address/party/phone + category in 30 days; duplicates within 1 h and 500 m")
    func repeats() throws {
        let addr = UUID()
        let first = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, callerPhoneIndex: "c1", reportedAt: Self.t0)
        // A second call from the same address ten days later: a repeat of the first.
        let second = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, callerPhoneIndex: "c2", reportedAt: Self.t0.addingTimeInterval(10 * 86_400))
        #expect(RepeatRule.classify(first, priors: []) == .first)
        #expect(RepeatRule.classify(second, priors: [first]) == .repeat(of: first.id, inWindow: 2))
        var secondStored = second
        secondStored.repeatOf = first.id
        let third = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, reportedAt: Self.t0.addingTimeInterval(20 * 86_400))
        #expect(RepeatRule.classify(third, priors: [first, secondStored]) == .repeat(of: first.id, inWindow: 3))
        // Other category: not a repeat.
        let other = IncidentKeys(id: UUID(), category: .publicOrder, addressID: addr, reportedAt: Self.t0.addingTimeInterval(86_400))
        #expect(RepeatRule.classify(other, priors: [first]) == .first)
        // Outside the window: not a repeat.
        let late = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, reportedAt: Self.t0.addingTimeInterval(31 * 86_400))
        #expect(RepeatRule.classify(late, priors: [first]) == .first)
        #expect(RepeatRule.classify(late, priors: [first], policy: RepeatPolicy(windowDays: 40)) == .repeat(of: first.id, inWindow: 2))
        // Same party (blind index) elsewhere, same caller phone elsewhere.
        let p1 = IncidentKeys(id: UUID(), category: .dispute, partyIndex: "p", reportedAt: Self.t0)
        let p2 = IncidentKeys(id: UUID(), category: .dispute, addressID: UUID(), partyIndex: "p", reportedAt: Self.t0.addingTimeInterval(5 * 86_400))
        #expect(RepeatRule.classify(p2, priors: [p1]) == .repeat(of: p1.id, inWindow: 2))
        let c2 = IncidentKeys(id: UUID(), category: .dispute, callerPhoneIndex: "c1", reportedAt: Self.t0.addingTimeInterval(2 * 86_400))
        #expect(RepeatRule.classify(c2, priors: [first]) == .repeat(of: first.id, inWindow: 2))
        // Another caller 20 minutes later, 300 m away: a duplicate, not a repeat.
        let here = GeoPoint(lon: 102.9000, lat: 24.6700)
        let near = GeoPoint(lon: 102.9000, lat: 24.6727)  // ≈ 300 m north
        let far = GeoPoint(lon: 102.9000, lat: 24.6760)  // ≈ 670 m north
        #expect(abs(RepeatRule.meters(here, near) - 300) < 5)
        let e1 = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, callerPhoneIndex: "a", reportedAt: Self.t0, location: here)
        let e2 = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, callerPhoneIndex: "b", reportedAt: Self.t0.addingTimeInterval(1200), location: near)
        #expect(RepeatRule.classify(e2, priors: [e1]) == .duplicate(of: e1.id))
        let e3 = IncidentKeys(id: UUID(), category: .dispute, callerPhoneIndex: "c", reportedAt: Self.t0.addingTimeInterval(1200), location: far)
        #expect(RepeatRule.classify(e3, priors: [e1]) == .first)
        let e4 = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, callerPhoneIndex: "d", reportedAt: Self.t0.addingTimeInterval(3601), location: near)
        #expect(RepeatRule.classify(e4, priors: [e1]) == .repeat(of: e1.id, inWindow: 2))
        // A stored duplicate is not counted in the window.
        var dup = e2
        dup.duplicateOf = e1.id
        // The first caller again, 30 minutes on: not a duplicate of the other caller's duplicate
        // (which resolves to their own call) — the same caller twice is a repeat.
        let again = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, callerPhoneIndex: "a", reportedAt: Self.t0.addingTimeInterval(1800), location: here)
        #expect(RepeatRule.classify(again, priors: [e1, dup]) == .repeat(of: e1.id, inWindow: 2))
        let e5 = IncidentKeys(id: UUID(), category: .dispute, addressID: addr, reportedAt: Self.t0.addingTimeInterval(86_400))
        #expect(RepeatRule.classify(e5, priors: [e1, dup]) == .repeat(of: e1.id, inWindow: 2))
    }
}
