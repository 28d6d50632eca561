import FengqiaoCore
import Foundation
import Testing

/// Grid events, the whistle, deadlines and per-case subsidies (domain spec §3.8, §4.2–4.4).
@Suite("grid events and hazards")
struct GridEventTests {
    let contact = UUID()
    let worker = UUID()

    func conflictReason(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch { if case .conflict(_, let r)? = error as? DomainError { return r }; return nil }
    }

    func isNotFound(_ body: () throws -> Void) -> Bool {
        do { try body(); return false } catch { if case .notFound? = error as? DomainError { return true }; return false }
    }

    @Test("the whole path: report → verify → file → whistle → 报到 → result → check → close → evaluate")
    func happyPath() throws {
        var p = GridEventProgress(category: .municipalFacility, severity: .normal)
        p = try p.applying(.verify)
        p = try p.applying(.fileCase(category: .municipalFacility, severity: .urgent))
        #expect(p.severity == .urgent)
        p = try p.applying(.dispatch(contact: contact, whistle: .emergency))
        #expect(p.state == .dispatched && p.whistled && p.dispatchedTo == contact)
        p = try p.applying(.acknowledge(by: contact))
        #expect(p.state == .inProgress && p.handler == contact)
        p = try p.applying(.submitResult(by: contact))
        #expect(p.state == .awaitingCheck)
        p = try p.applying(.checkPass(by: worker))
        #expect(p.state == .closed && p.checkPassed)
        p = try p.applying(.evaluate(satisfaction: 5))
        #expect(p.state == .evaluated && p.satisfaction == 5 && p.state.isTerminal)
        #expect(conflictReason { _ = try p.applying(.verify) } == "cannot verify an event in state evaluated")
    }

    @Test("invalid transitions are refused naming the state and the command")
    func invalid() {
        let p = GridEventProgress(category: .fire, severity: .normal)
        #expect(conflictReason { _ = try p.applying(.dispatch(contact: contact, whistle: nil)) } == "cannot dispatch an event in state reported")
        #expect(conflictReason { _ = try p.applying(.checkPass(by: worker)) } == "cannot checkPass an event in state reported")
        #expect(conflictReason { _ = try p.applying(.evaluate(satisfaction: 3)) } == "cannot evaluate an event in state reported")
        #expect(conflictReason { _ = try p.applying(.submit) } == "cannot submit an event in state reported")
        var d = GridEventProgress(state: .draft, category: .fire, severity: .normal)
        #expect(conflictReason { _ = try d.applying(.verify) } == "cannot verify an event in state draft")
        d = try! d.applying(.submit)
        #expect(d.state == .reported)
    }

    @Test("void from reported or verified with a reason; void is terminal")
    func voiding() throws {
        let p = try GridEventProgress(category: .gas, severity: .normal).applying(.void(.duplicate))
        #expect(p.state == .void && p.voidReason == .duplicate)
        #expect(conflictReason { _ = try p.applying(.verify) } == "cannot verify an event in state void")
        let v = try GridEventProgress(category: .gas, severity: .normal).applying(.verify).applying(.void(.falseReport))
        #expect(v.voidReason == .falseReport && VoidReason.falseReport.rawValue == "false")
    }

    @Test("return by the contact with a reason goes back to filed for re-dispatch; a whistle counts once dispatched")
    func returnAndRedispatch() throws {
        var p = try GridEventProgress(category: .municipalFacility, severity: .normal).applying(.verify)
            .applying(.fileCase(category: .municipalFacility, severity: .normal)).applying(.dispatch(contact: contact, whistle: nil))
        #expect(!p.whistled)
        #expect(invalidFieldName { _ = try p.applying(.returnToSender(by: contact, reason: "  ")) } == "reason")
        p = try p.applying(.returnToSender(by: contact, reason: "不属于我方管理范围"))
        #expect(p.state == .filed && p.dispatchedTo == nil && p.returnCount == 1)
        let other = UUID()
        p = try p.applying(.dispatch(contact: other, whistle: .jointEnforcement))
        #expect(p.whistled && p.whistleReason == .jointEnforcement)
        #expect(isNotFound { _ = try p.applying(.acknowledge(by: contact)) }, "a contact the event is not dispatched to gets 404")
        #expect(isNotFound { _ = try p.applying(.returnToSender(by: contact, reason: "x")) })
        p = try p.applying(.acknowledge(by: other))
        #expect(isNotFound { _ = try p.applying(.submitResult(by: contact)) })
    }

    @Test("a failed check reopens the event and counts; in-grid resolution skips dispatch")
    func reopen() throws {
        var p = try GridEventProgress(category: .environment, severity: .normal).applying(.verify)
            .applying(.fileCase(category: .environment, severity: .normal)).applying(.resolveInGrid(handler: worker))
        p = try p.applying(.submitResult(by: worker))
        #expect(invalidFieldName { _ = try p.applying(.checkFail(by: worker, reason: "")) } == "reason")
        p = try p.applying(.checkFail(by: worker, reason: "垃圾未清运"))
        #expect(p.state == .inProgress && p.reopenCount == 1)
        p = try p.applying(.submitResult(by: worker)).applying(.checkPass(by: worker))
        #expect(p.state == .closed)
        #expect(invalidFieldName { _ = try p.applying(.evaluate(satisfaction: 6)) } == "satisfaction")
    }

    @Test("the handling contact cannot check its own work")
    func separation() throws {
        let p = try GridEventProgress(category: .gas, severity: .normal).applying(.verify).applying(.fileCase(category: .gas, severity: .normal))
            .applying(.dispatch(contact: contact, whistle: nil)).applying(.acknowledge(by: contact)).applying(.submitResult(by: contact))
        #expect(isForbidden { _ = try p.applying(.checkPass(by: contact)) })
    }

    @Test("category table: defaults list every category with a department; a retired category is refused")
    func categories() throws {
        #expect(HazardCategoryTable.defaults.rows.count == HazardCategory.allCases.count)
        #expect(HazardCategoryTable.defaults.info(.municipalFacility)?.defaultDepartment == "市政管理部门")
        var t = HazardCategoryTable.defaults
        t.rows[0].active = false
        #expect(invalidFieldName { _ = try t.requireActive(.fire) } == "category")
        #expect(try t.requireActive(.gas) == .gas)
    }

    // MARK: deadlines

    /// 2025 Labour Day (§5.5): holiday 5/1–5/5, Sunday 4/27 worked.
    var calendar2025: WorkingDayCalendar {
        let h = (1...5).map { try! CalendarDate(year: 2025, month: 5, day: $0) }
        return WorkingDayCalendar(holidays: Set(h), workingWeekends: [try! CalendarDate(year: 2025, month: 4, day: 27)], years: [2025])
    }

    func shanghai(_ y: Int, _ m: Int, _ d: Int, _ h: Int) -> Date {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        return c.date(from: DateComponents(year: y, month: m, day: d, hour: h))!
    }

    @Test("working days skip weekends and holidays and count 调休 Sundays")
    func workingDays() {
        let cal = calendar2025
        #expect(cal.isWorkingDay(try! CalendarDate(year: 2025, month: 4, day: 27)))
        #expect(!cal.isWorkingDay(try! CalendarDate(year: 2025, month: 5, day: 2)))
        #expect(!cal.isWorkingDay(try! CalendarDate(year: 2025, month: 4, day: 26)))
        #expect(cal.knows(year: 2025) && !cal.knows(year: 2026))
        // Saturday 4/26 10:00 + 1 working day → Sunday 4/27 (调休) 10:00.
        #expect(cal.adding(workingDays: 1, to: shanghai(2025, 4, 26, 10)) == shanghai(2025, 4, 27, 10))
        // Wednesday 4/30 + 1 working day → Tuesday 5/6 (5/1–5/5 off).
        #expect(cal.adding(workingDays: 1, to: shanghai(2025, 4, 30, 9)) == shanghai(2025, 5, 6, 9))
        // Fallback without data: Friday + 1 → Monday.
        #expect(WorkingDayCalendar.weekdaysOnly.adding(workingDays: 1, to: shanghai(2026, 11, 27, 18)) == shanghai(2026, 11, 30, 18))
    }

    @Test("default SLAs per severity and stage (§4.2); category overrides; overdue")
    func deadlines() {
        let p = EventDeadlinePolicy.defaults
        #expect(p.limit(.verify, category: .fire, severity: .urgent) == .hours(2))
        #expect(p.limit(.verify, category: .fire, severity: .normal) == .workingDays(1))
        #expect(p.limit(.handle, category: .fire, severity: .urgent) == .hours(24))
        #expect(p.limit(.handle, category: .fire, severity: .normal) == .workingDays(3))
        #expect(p.limit(.handle, category: .fire, severity: .complex) == .workingDays(15))
        #expect(p.limit(.check, category: .gas, severity: .urgent) == .workingDays(1))
        var q = p
        q.limits[.init(category: .gas, severity: .urgent, stage: .handle)] = .hours(4)
        #expect(q.limit(.handle, category: .gas, severity: .urgent) == .hours(4))
        #expect(q.limit(.handle, category: .fire, severity: .urgent) == .hours(24))

        let start = shanghai(2026, 11, 30, 9)  // a Monday
        let cal = WorkingDayCalendar.weekdaysOnly
        #expect(p.dueAt(.acknowledge, category: .gas, severity: .urgent, from: start, calendar: cal) == shanghai(2026, 11, 30, 11))
        #expect(!p.isOverdue(state: .dispatched, category: .gas, severity: .urgent, stageStartedAt: start, now: shanghai(2026, 11, 30, 10), calendar: cal))
        #expect(p.isOverdue(state: .dispatched, category: .gas, severity: .urgent, stageStartedAt: start, now: shanghai(2026, 11, 30, 12), calendar: cal))
        #expect(!p.isOverdue(state: .closed, category: .gas, severity: .urgent, stageStartedAt: start, now: shanghai(2027, 1, 1, 0), calendar: cal), "no clock runs after closing")
        #expect(DeadlineStage.current(for: .awaitingCheck) == .check)
        #expect(DeadlineStage.current(for: .reported) == .verify)
    }

    // MARK: subsidy (§4.4)

    func closedCase(_ id: UUID = UUID(), on day: CalendarDate) -> SubsidyCase {
        SubsidyCase(caseType: .event, caseID: id, category: "municipalFacility", closed: true, checkPassed: true, closedOn: day, handlers: [worker])
    }

    @Test("tariff versions by effective date; a category row beats the general one; amounts in fen")
    func tariff() throws {
        let d1 = try CalendarDate(year: 2026, month: 1, day: 1)
        let d2 = try CalendarDate(year: 2026, month: 7, day: 1)
        let t = SubsidyTariff(entries: [
            .init(caseType: .event, effectiveFrom: d1, amountFen: 5000),
            .init(caseType: .event, category: "municipalFacility", effectiveFrom: d1, amountFen: 8000),
            .init(caseType: .event, effectiveFrom: d2, amountFen: 6000),
        ])
        #expect(try t.amountFen(caseType: .event, category: "fire", on: try CalendarDate(year: 2026, month: 3, day: 1)) == 5000)
        #expect(try t.amountFen(caseType: .event, category: "municipalFacility", on: try CalendarDate(year: 2026, month: 3, day: 1)) == 8000)
        #expect(try t.amountFen(caseType: .event, category: "municipalFacility", on: try CalendarDate(year: 2026, month: 8, day: 1)) == 6000)
        #expect(invalidFieldName { _ = try t.amountFen(caseType: .dispute, category: nil, on: d2) } == "tariff")
        #expect(invalidFieldName { _ = try SubsidyTariffEntry(caseType: .event, effectiveFrom: d1, amountFen: -1).validated() } == "amountFen")
        #expect(SubsidyClaim.yuan(12345) == "123.45" && SubsidyClaim.yuan(5) == "0.05" && SubsidyClaim.yuan(-250) == "-2.50")
    }

    @Test("one claim per case, naming the first; reviewer ≠ claimant; an approved amount survives a tariff change")
    func claims() throws {
        let day = try CalendarDate(year: 2026, month: 11, day: 29)
        let c = closedCase(on: day)
        var tariff = SubsidyTariff(entries: [.init(caseType: .event, effectiveFrom: try CalendarDate(year: 2026, month: 1, day: 1), amountFen: 5000)])
        let claim = try SubsidyClaim.claim(for: c, by: worker, existing: nil)
        let r = conflictReason { _ = try SubsidyClaim.claim(for: c, by: worker, existing: claim) }
        #expect(r?.contains(claim.id.uuidString.lowercased()) == true)
        #expect(isForbidden { _ = try SubsidyClaim.claim(for: c, by: UUID(), existing: nil) }, "only a handler claims")
        var open = c
        open.checkPassed = false
        #expect(invalidFieldName { _ = try SubsidyClaim.claim(for: open, by: worker, existing: nil) } == "caseId")

        #expect(isForbidden { _ = try claim.reviewed(approve: true, by: worker, note: nil, case: c, tariff: tariff) })
        let reviewer = UUID()
        let approved = try claim.reviewed(approve: true, by: reviewer, note: nil, case: c, tariff: tariff)
        #expect(approved.state == .approved && approved.amountFen == 5000 && approved.reviewerID == reviewer)
        #expect(conflictReason { _ = try approved.reviewed(approve: false, by: reviewer, note: "x", case: c, tariff: tariff) } == "cannot review a claim in state approved")
        tariff.entries.append(.init(caseType: .event, effectiveFrom: try CalendarDate(year: 2026, month: 6, day: 1), amountFen: 9900))
        #expect(approved.amountFen == 5000, "the approved amount is fixed on the claim")
        #expect(try claim.reviewed(approve: true, by: reviewer, note: nil, case: c, tariff: tariff).amountFen == 9900)
        #expect(invalidFieldName { _ = try claim.reviewed(approve: false, by: reviewer, note: nil, case: c, tariff: tariff) } == "note")
    }

    // MARK: photos

    @Test("photos are checked by content: JPEG, PNG, HEIC signatures; size limit; SHA-256 key")
    func photos() throws {
        let jpeg = TestImages.jpeg()
        let png = TestImages.png()
        let heic = TestImages.heic()
        #expect(try CheckedPhoto(jpeg, maxBytes: 1000).format == .jpeg)
        #expect(try CheckedPhoto(png, maxBytes: 1000).format == .png)
        #expect(try CheckedPhoto(heic, maxBytes: 1000).format == .heic)
        let mp4 = Data([0, 0, 0, 0x18]) + Data("ftypisom".utf8)
        #expect(invalidFieldName { _ = try CheckedPhoto(mp4, field: "photos[0]", maxBytes: 100) } == "photos[0]")
        #expect(invalidFieldName { _ = try CheckedPhoto(Data("%PDF-1.7".utf8), maxBytes: 100) } == "photo")
        #expect(invalidFieldName { _ = try CheckedPhoto(jpeg, maxBytes: 5) } == "photo")
        #expect(invalidFieldName { _ = try CheckedPhoto(Data(), maxBytes: 5) } == "photo")
        let a = try CheckedPhoto(jpeg, maxBytes: 1000)
        #expect(CheckedPhoto.isContentHash(a.sha256) && a.byteCount == jpeg.count)
        // python3: hashlib.sha256(<the 159-byte 8×8 grey JPEG>).hexdigest()
        #expect(a.sha256 == "24ac74130806ae02d7e4ee72881b977601999c6c9f94ee1545ed4830459b737f")
        #expect(!CheckedPhoto.isContentHash("../../etc/passwd") && !CheckedPhoto.isContentHash(a.sha256.uppercased()))
    }
}

@Suite("notification outbox rules")
struct OutboxRuleTests {
    @Test("webhook signature: HMAC-SHA-256 over timestamp.body, verified in constant time")
    func signature() {
        let body = Data(#"{"a":1}"#.utf8)
        let s = WebhookSignature.sign(secret: "key", timestamp: 1_700_000_000, body: body)
        // python3: hmac.new(b"key", b'1700000000.{"a":1}', "sha256").hexdigest()
        #expect(s == "sha256=a438e398bfafc57e4396bb7fc2304422f0f768e965d073ca313cb52e22e6ad03")
        #expect(WebhookSignature.verify(s, secret: "key", timestamp: 1_700_000_000, body: body))
        #expect(!WebhookSignature.verify(s, secret: "key", timestamp: 1_700_000_001, body: body))
        #expect(!WebhookSignature.verify(s, secret: "other", timestamp: 1_700_000_000, body: body))
    }

    @Test("backoff doubles from 30 s up to the cap; gives up after the maximum")
    func backoff() {
        let p = OutboxRetryPolicy()
        #expect(p.delay(afterAttempt: 1) == 30 && p.delay(afterAttempt: 2) == 60 && p.delay(afterAttempt: 3) == 120)
        #expect(p.delay(afterAttempt: 20) == 3600)
        #expect(!p.givesUp(after: 11) && p.givesUp(after: 12))
    }
}
