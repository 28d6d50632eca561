import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Settings of joint handling, reminders and the escalation sweep [P], configurable; part of
/// `DisputeSettings.handling`.
public struct DisputeHandlingSettings: Sendable {
    /// Deadlines and reminders of joint handling (双盯办).
    public var joint: JointPolicy
    /// Remind the mediator when this many days or fewer are left of the 30-day judicial
    /// confirmation window (人民调解法 Art. 33). Default 7.
    public var confirmationRemindDays: Int

    public init(joint: JointPolicy = .init(), confirmationRemindDays: Int = 7) {
        self.joint = joint
        self.confirmationRemindDays = confirmationRemindDays
    }

    /// From the environment: `FENGQIAO_JUDICIAL_CONFIRMATION_REMIND_DAYS` (0…30),
    /// `FENGQIAO_JOINT_DUE_DAYS` (1…365), `FENGQIAO_JOINT_REMIND_HOURS` (0…720); absent or
    /// out-of-range values keep the defaults.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> DisputeHandlingSettings {
        var s = DisputeHandlingSettings()
        func int(_ k: String, _ r: ClosedRange<Int>) -> Int? { env[k].flatMap(Int.init).flatMap { r.contains($0) ? $0 : nil } }
        if let v = int("FENGQIAO_JUDICIAL_CONFIRMATION_REMIND_DAYS", 0...30) { s.confirmationRemindDays = v }
        if let v = int("FENGQIAO_JOINT_DUE_DAYS", 1...365) { s.joint.defaultDueDays = v }
        if let v = int("FENGQIAO_JOINT_REMIND_HOURS", 0...720) { s.joint.remindBeforeHours = v }
        return s
    }
}

/// Joint handling with the governance centre (双推送、双盯办、双化解), the reminders of the work
/// list, party reveals, the agreement print and the incident dispatch records (issue 4).
extension DisputeService {
    var jointStore: DisputeJointRepository { DisputeJointRepository() }

    // MARK: Joint handling

    /// A push (双推送): the receiving side's deadline (default `JointPolicy.defaultDueDays`), the
    /// pusher's own deadline (default the same), the receiving side's owner if known, a note.
    public struct PushInput: Codable, Sendable {
        public var dueAt: Date?
        public var ownDueAt: Date?
        public var ownerAccountId: UUID?
        public var note: String?
        public init(dueAt: Date? = nil, ownDueAt: Date? = nil, ownerAccountId: UUID? = nil, note: String? = nil) {
            self.dueAt = dueAt
            self.ownDueAt = ownDueAt
            self.ownerAccountId = ownerAccountId
            self.note = note
        }
    }

    /// A supervision note (盯办) of one side, optionally moving its own deadline.
    public struct SuperviseInput: Codable, Sendable {
        public var note: String?
        public var dueAt: Date?
        public init(note: String? = nil, dueAt: Date? = nil) {
            self.note = note
            self.dueAt = dueAt
        }
    }

    /// The joint record of a visible case (`nil` when not joint).
    /// - Throws: `.notFound("dispute")` out of scope.
    public func jointCase(_ id: UUID, access: DisputeAccess) async throws -> JointCase? {
        _ = try await disputes.find(id, access: access, on: app.store.db)
        return try await jointStore.joint(id, on: app.store.db)
    }

    /// Whether an account may own `side` of a case in `communityID`/`gridID`.
    func ownerCandidate(_ accountID: UUID, side: JointSide, gridID: UUID, communityID: UUID) async throws -> (UUID, String) {
        guard let acc = try await app.accounts.find(accountID, on: app.store.db), !acc.disabled, let role = Role(rawValue: acc.role), JointSide.of(role) == side else {
            throw DomainError.invalidField(field: "ownerAccountId", reason: "is not an account of the \(side.rawValue) side (\(side.nameZH))")
        }
        let ok: Bool
        switch ScopeLevel(rawValue: acc.scopeLevel) {
        case .grid: ok = acc.scopeTerritoryID == gridID
        case .community: ok = acc.scopeTerritoryID == communityID
        case .station, .city: ok = true
        case nil: ok = false
        }
        if !ok { throw DomainError.invalidField(field: "ownerAccountId", reason: "the account does not serve this case's community") }
        return (accountID, acc.displayName)
    }

    /// Runs one joint change on a locked case: reads the case and its joint record, applies
    /// `change`, saves both (the case's version moves on, so a client holding the old version is
    /// told the case changed), writes the timeline line and the audit record.
    func jointWrite(
        _ id: UUID, actor: Actor, kind: String, now: Date, insert: Bool,
        change: @escaping @Sendable (DisputeRecord, JointCase?) throws -> (JointCase, String)
    ) async throws -> JointCase {
        try await app.store.write { [app, disputes, jointStore] db in
            try await jointStore.lockDispute(id, on: db)
            guard let d = try await disputes.find(id, on: db) else { throw DomainError.notFound(kind: "dispute") }
            let existing = try await jointStore.joint(id, on: db)
            let (j, detail) = try change(d, existing)
            try await jointStore.save(j, disputeID: id, insert: insert, on: db, now: now)
            try await disputes.update(d, expectedVersion: d.version, on: db, now: now)
            try await disputes.appendTimeline(id, at: now, actorID: actor.id, actorName: actor.name, kind: kind, stateAfter: d.state, detail: detail, on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "dispute", objectID: Self.idText(id), fields: ["joint"], detail: "\(kind): \(detail)"), on: db)
            return j
        }
    }

    static func iso(_ d: Date?) -> String { d.map { ISO8601DateFormatter().string(from: $0) } ?? "—" }

    /// Pushes a case to the other side (双推送): both sides become owners, each with its own
    /// deadline. The caller's role decides the side (community police officer → police,
    /// governance-centre staff → governance centre).
    /// - Throws: `.forbidden` for other roles; `.notFound("dispute")` out of scope;
    ///   `.conflict("joint", …)` when already joint or closed; `.invalidField` (`dueAt`,
    ///   `ownDueAt`, `ownerAccountId`, `note`).
    public func push(_ id: UUID, _ i: PushInput, actor: Actor, access: DisputeAccess) async throws -> JointCase {
        let now = settings.clock()
        let side = try JointRules.side(of: actor.role)
        try DisputeTextLimits.check(i.note, field: "note", max: DisputeTextLimits.note)
        let d = try await disputes.find(id, access: access, on: app.store.db)
        let owner = try await i.ownerAccountId.asyncMap { try await ownerCandidate($0, side: side.other, gridID: d.gridID, communityID: d.communityID) }
        let policy = settings.handling.joint
        let note = Self.text(i.note)
        let j = try await jointWrite(id, actor: actor, kind: "jointPush", now: now, insert: true) { d, existing in
            let j = try JointRules.push(
                by: side, actorID: actor.id, actorName: actor.name, state: d.state, existing: existing, otherDueAt: i.dueAt, ownDueAt: i.ownDueAt,
                otherOwner: owner, now: now, policy: policy)
            var detail = "\(side.rawValue) → \(side.other.rawValue); \(side.rawValue) due \(Self.iso(j[side].dueAt)), \(side.other.rawValue) due \(Self.iso(j[side.other].dueAt))"
            if let o = owner { detail += "; owner \(o.1)" }
            if let n = note { detail += "; " + n }
            return (j, detail)
        }
        if let o = owner { try await notifyJoint(o.0, id: id, title: "矛盾纠纷联合处置 / Joint handling", body: "\(side.nameZH)推送案件，请于 \(Self.iso(j[side.other].dueAt)) 前处置", now: now) }
        return j
    }

    /// A supervision note (双盯办) of the caller's side; `dueAt` moves that side's own deadline.
    /// - Throws: `.invalidField("note", …)` without a note; `.conflict("joint" | "signOff", …)`.
    public func supervise(_ id: UUID, _ i: SuperviseInput, actor: Actor, access: DisputeAccess) async throws -> JointCase {
        let now = settings.clock()
        let side = try JointRules.side(of: actor.role)
        guard let note = Self.text(i.note) else { throw DomainError.invalidField(field: "note", reason: "is required") }
        try DisputeTextLimits.check(note, field: "note", max: DisputeTextLimits.note)
        _ = try await disputes.find(id, access: access, on: app.store.db)
        return try await jointWrite(id, actor: actor, kind: "jointSupervision", now: now, insert: false) { _, existing in
            let j = try JointRules.supervise(existing, by: side, actorID: actor.id, actorName: actor.name, dueAt: i.dueAt, now: now)
            var detail = "\(side.rawValue): \(note)"
            if let d = i.dueAt { detail += "; \(side.rawValue) due \(Self.iso(d))" }
            return (j, detail)
        }
    }

    /// The sign-off (双化解) of the caller's side; once both sides signed, the case may close.
    /// - Throws: `.conflict("signOff", …)` when the side already signed off (two sign-offs of one
    ///   side at once: one wins); `.conflict("joint", …)` when not joint.
    public func signOff(_ id: UUID, note: String?, actor: Actor, access: DisputeAccess) async throws -> JointCase {
        let now = settings.clock()
        let side = try JointRules.side(of: actor.role)
        try DisputeTextLimits.check(note, field: "note", max: DisputeTextLimits.note)
        _ = try await disputes.find(id, access: access, on: app.store.db)
        let text = Self.text(note)
        return try await jointWrite(id, actor: actor, kind: "jointSignOff", now: now, insert: false) { _, existing in
            let j = try JointRules.signOff(existing, by: side, actorID: actor.id, actorName: actor.name, now: now)
            let missing = j.missingSignOffs
            var detail = "\(side.rawValue) signed off" + (missing.isEmpty ? "; both sides signed off" : "; awaiting \(missing.map(\.rawValue).joined(separator: ", "))")
            if let n = text { detail += "; " + n }
            return (j, detail)
        }
    }

    /// Writes an in-app notification (M0021) for the other side of a joint case.
    func notifyJoint(_ account: UUID, id: UUID, title: String, body: String, now: Date) async throws {
        let n = InAppNotification(accountID: account, kind: "dispute.joint", eventID: id, title: title, body: body, link: "/disputes/\(Self.idText(id))", createdAt: now)
        try await app.store.write { db in try await NotificationRepository().insert(n, on: db) }
    }

    // MARK: Reminders (work list)

    /// A case inside the Art. 33 window with few days left.
    public struct ConfirmationReminder: Codable, Sendable, Equatable {
        public var disputeId: UUID
        public var summary: String
        public var effectiveOn: CalendarDate
        public var deadline: CalendarDate
        public var daysLeft: Int
    }

    /// A joint case's side due soon or overdue.
    public struct JointDeadlineReminder: Codable, Sendable, Equatable {
        public var disputeId: UUID
        public var side: JointSide
        public var ownerName: String?
        public var dueAt: Date
        public var reminder: JointRules.Reminder
    }

    public struct Reminders: Codable, Sendable, Equatable {
        public var judicialConfirmation: [ConfirmationReminder]
        public var jointDeadlines: [JointDeadlineReminder]
    }

    /// The reminders of a user's work list (issue 4 "Work lists"): visible cases whose agreement
    /// took effect and whose judicial-confirmation window (人民调解法 Art. 33, 30 days) has at most
    /// `DisputeHandlingSettings.confirmationRemindDays` days left and no application yet; and
    /// the joint cases whose side deadline is within `JointPolicy.remindBeforeHours` or passed,
    /// not yet signed off — only the caller's own side for police officers and centre staff.
    /// Mediators see only their assigned cases (`access`).
    public func reminders(access: DisputeAccess, role: Role?) async throws -> Reminders {
        let now = settings.clock()
        let today = Self.today(now)
        let h = settings.handling
        let from = DisputeStatisticsRepository.adding(days: -JudicialConfirmation.windowDays, to: today)
        let cases = try await jointStore.awaitingConfirmation(effectiveFrom: from, access: access, on: app.store.db)
        let confirmation = cases.compactMap { (id, eff, summary) -> ConfirmationReminder? in
            guard JudicialConfirmationReminder.due(effectiveOn: eff, today: today, remindDays: h.confirmationRemindDays) else { return nil }
            return ConfirmationReminder(
                disputeId: id, summary: summary, effectiveOn: eff, deadline: JudicialConfirmation.deadline(effectiveOn: eff),
                daysLeft: JudicialConfirmationReminder.daysLeft(effectiveOn: eff, today: today))
        }
        let mine = role.flatMap(JointSide.of)
        let until = now.addingTimeInterval(TimeInterval(h.joint.remindBeforeHours) * 3600)
        let sides = try await jointStore.dueSides(until: until, access: access, on: app.store.db)
        let joint = sides.compactMap { r -> JointDeadlineReminder? in
            if let m = mine, m != r.side { return nil }
            guard let kind = JointRules.reminder(r.state, now: now, policy: h.joint), let due = r.state.dueAt else { return nil }
            return JointDeadlineReminder(disputeId: r.disputeID, side: r.side, ownerName: r.state.ownerName, dueAt: due, reminder: kind)
        }
        return Reminders(judicialConfirmation: confirmation, jointDeadlines: joint)
    }

    // MARK: Reveal and print

    /// One clear value of one party (ID number or phone) with a stated purpose; audited as a
    /// reveal (domain spec §7.3, §7.4), never the value itself.
    /// - Throws: `.invalidField("purpose" | "field", …)`; `.notFound("dispute" | "party")`.
    public func revealParty(_ id: UUID, partyID: UUID, field: PopulationService.RevealField?, purpose: String?, actor: Actor, access: DisputeAccess) async throws -> String {
        guard let field else { throw DomainError.invalidField(field: "field", reason: "is required (idNumber or phone)") }
        let why = try RevealPurpose.validated(purpose)
        _ = try await disputes.find(id, access: access, on: app.store.db)
        guard let party = try await disputes.parties(id, on: app.store.db).first(where: { $0.id == partyID }) else { throw DomainError.notFound(kind: "party") }
        let value: String
        switch field {
        case .idNumber:
            guard let n = party.idNumber else { throw DomainError.invalidField(field: "field", reason: "the party has no ID number on record") }
            value = n
        case .phone:
            guard let p = party.phone else { throw DomainError.invalidField(field: "field", reason: "the party has no phone on record") }
            value = p.nationalNumber ?? p.e164
        }
        try await app.record(actor.draft(.maskReveal, objectType: "dispute-party", objectID: Self.idText(partyID), fields: [field.rawValue], purpose: why, detail: "dispute \(Self.idText(id))"))
        return value
    }

    /// The written agreement with the parties' clear names and ID numbers, for printing. Printing
    /// reveals personal data: it needs a stated purpose and is audited (`print`, the fields
    /// printed, the purpose) like a reveal.
    /// - Throws: `.invalidField("purpose", …)`; `.notFound("dispute")`; `.conflict("agreement", …)`
    ///   without a written agreement (an oral agreement has no document, Art. 28).
    public func agreementForPrint(_ id: UUID, purpose: String?, actor: Actor, access: DisputeAccess) async throws -> (DisputeView, DisputeAgreementRecord) {
        let why = try RevealPurpose.validated(purpose)
        let d = try await disputes.find(id, access: access, on: app.store.db)
        let v = try await view(d)
        guard let a = v.agreement, a.agreement.form == .written else {
            throw DomainError.conflict(field: "agreement", reason: "the case has no written agreement to print")
        }
        try await app.record(actor.draft(.print, objectType: "mediation-agreement", objectID: Self.idText(a.id), fields: ["parties.name", "parties.idNumber", "parties.phone"], purpose: why, detail: "dispute \(Self.idText(id))"))
        return (v, a)
    }

    // MARK: Incident dispatch and response times

    /// On intake (接警): the grid worker(s) of the place are notified for first response and the
    /// community officer of the community is designated for dispatch (§4.6); both on the incident
    /// timeline, in-app notifications when the notifications table (M0021) exists, their body
    /// made by `IncidentNotice.body` (category, grade in Chinese, place, summary start without
    /// personal numbers), their link the incident page. Call inside the intake transaction.
    func recordIntake(_ rec: IncidentRecord, actor: Actor, on db: any Database, now: Date) async throws {
        let workers = try await jointStore.accounts(role: .gridWorker, territoryID: rec.gridID, on: db)
        let officers = try await jointStore.accounts(role: .communityPoliceOfficer, territoryID: rec.communityID, on: db)
        try await jointStore.appendIncidentTimeline(rec.id, at: now, actorID: actor.id, actorName: actor.name, kind: "received",
                                                    detail: "\(rec.category.rawValue) \(rec.category.nameZH), \(rec.priority.rawValue)", on: db)
        let link = "/incidents/\(Self.idText(rec.id))"  // the incident page (警情)
        // Category, grade in Chinese, place and the start of the summary; no personal numbers.
        // Read only when someone is notified (one query on the intake path).
        let body = workers.isEmpty && officers.isEmpty ? "" : IncidentNotice.body(rec, place: try await IncidentNotice.place(rec, on: db))
        if workers.isEmpty {
            try await jointStore.appendIncidentTimeline(rec.id, at: now, actorID: nil, actorName: "system", kind: "noGridWorker", detail: "no grid worker serves this grid", on: db)
        }
        for w in workers {
            try await jointStore.appendIncidentTimeline(rec.id, at: now, actorID: nil, actorName: "system", kind: "notifyGridWorker", recipientID: w.0,
                                                        detail: "first response: \(w.1) (in-app)", on: db)
            try await NotificationRepository().insert(InAppNotification(accountID: w.0, kind: "incident.firstResponse", eventID: rec.id, title: "警情先期处置 / First response",
                                                                        body: body, link: link, createdAt: now), on: db)
        }
        if let o = officers.first {
            try await jointStore.appendIncidentTimeline(rec.id, at: now, actorID: nil, actorName: "system", kind: "designateOfficer", recipientID: o.0, detail: "community officer \(o.1)", on: db)
            try await NotificationRepository().insert(InAppNotification(accountID: o.0, kind: "incident.dispatch", eventID: rec.id, title: "警情派警 / Dispatch",
                                                                        body: body, link: link, createdAt: now), on: db)
        }
        try await jointStore.saveHandling(
            IncidentHandling(gridWorkerID: workers.first?.0, gridWorkerName: workers.first?.1, notifiedAt: workers.isEmpty ? nil : now,
                             officerID: officers.first?.0, officerName: officers.first?.1), incidentID: rec.id, on: db)
    }

    /// Records an incident event on its timeline: the officer dispatched (the one named, else the
    /// designated community officer), the minutes from receipt to arrival, the disposition time.
    func recordIncidentEvent(_ inc: IncidentRecord, _ event: IncidentEvent, officer: (UUID, String)?, note: String?, actor: Actor, on db: any Database, now: Date) async throws {
        var h = try await jointStore.handling(inc.id, on: db) ?? IncidentHandling()
        var detail: String?
        switch event {
        case .dispatch:
            if let o = officer { h.officerID = o.0; h.officerName = o.1 }
            detail = "officer \(h.officerName ?? actor.name)"
        case .arrive:
            detail = String(format: "%.0f min after receipt", max(0, now.timeIntervalSince(inc.reportedAt)) / 60)
        case .resolveOnSite, .convertToDispute, .openCase, .markInvalid:
            h.disposedAt = now
            detail = "disposition \(event.rawValue)"
        case .feedbackToCaller:
            detail = nil
        }
        if let n = Self.text(note) { detail = [detail, n].compactMap { $0 }.joined(separator: "; ") }
        try await jointStore.saveHandling(h, incidentID: inc.id, on: db)
        try await jointStore.appendIncidentTimeline(inc.id, at: now, actorID: actor.id, actorName: actor.name, kind: event.rawValue, recipientID: event == .dispatch ? h.officerID : nil, detail: detail, on: db)
    }

    /// The community officer a dispatch names.
    /// - Throws: `.invalidField("officerId", …)` for an account that is not a community police
    ///   officer of the incident's community (or its station).
    func dispatchOfficer(_ id: UUID?, incident: IncidentRecord) async throws -> (UUID, String)? {
        guard let id else { return nil }
        guard let acc = try await app.accounts.find(id, on: app.store.db), !acc.disabled, acc.role == Role.communityPoliceOfficer.rawValue else {
            throw DomainError.invalidField(field: "officerId", reason: "is not a community police officer account")
        }
        let ok: Bool
        switch ScopeLevel(rawValue: acc.scopeLevel) {
        case .community: ok = acc.scopeTerritoryID == incident.communityID
        case .station, .city: ok = true
        default: ok = false
        }
        if !ok { throw DomainError.invalidField(field: "officerId", reason: "the officer does not serve this incident's community") }
        return (id, acc.displayName)
    }

    /// An incident with its handling and timeline.
    public func incidentTimeline(_ id: UUID, visible: VisibleTerritory) async throws -> (IncidentHandling?, [IncidentTimelineEntry]) {
        let inc = try await incidents.find(id, visible: visible, on: app.store.db)
        return (try await jointStore.handling(inc.id, on: app.store.db), try await jointStore.incidentTimeline(inc.id, on: app.store.db))
    }

    /// Response-time figures per grid (§4.6, issue 4 "Response-time figures per grid"): for the
    /// visible incidents received in `[from, to)` (invalid calls excluded), the number received,
    /// the number with an arrival, and the median / average / maximum minutes from receipt to
    /// arrival. Grids without incidents are omitted; sorted by grid name.
    public func responseTimes(visible: VisibleTerritory, from: Date, to: Date) async throws -> [(Grid, ResponseTimeFigures)] {
        if to <= from { throw DomainError.invalidField(field: "to", reason: "must be after from") }
        let byGrid = try await jointStore.arrivalMinutes(from: from, to: to, visible: visible, on: app.store.db)
        var out: [(Grid, ResponseTimeFigures)] = []
        for (gid, v) in byGrid {
            guard let g = try await ifFound({ try await app.territories.grid(gid, visible: visible, on: app.store.db) }) else { continue }
            out.append((g, ResponseTimeFigures(received: v.received, arrivalMinutes: v.minutes)))
        }
        return out.sorted { ($0.0.name, $0.0.id.uuidString) < ($1.0.name, $1.0.id.uuidString) }
    }

    // MARK: Free-text limits

    /// Refuses over-long free texts of a registration (`DisputeTextLimits`).
    static func checkLengths(_ i: RegisterInput) throws(DomainError) {
        try DisputeTextLimits.check(i.summary, field: "summary", max: DisputeTextLimits.summary)
        for (n, p) in (i.parties ?? []).enumerated() { try DisputeTextLimits.check(p.name, field: "parties[\(n)].name", max: DisputeTextLimits.name) }
    }

    static func checkLengths(_ i: SessionInput) throws(DomainError) {
        try DisputeTextLimits.check(i.place, field: "place", max: DisputeTextLimits.place)
        try DisputeTextLimits.check(i.minutes, field: "minutes", max: DisputeTextLimits.minutes)
        if (i.attendees ?? []).count > DisputeTextLimits.attendees {
            throw .invalidField(field: "attendees", reason: "must list at most \(DisputeTextLimits.attendees) attendees")
        }
        for (n, a) in (i.attendees ?? []).enumerated() { try DisputeTextLimits.check(a, field: "attendees[\(n)]", max: DisputeTextLimits.name) }
    }

    static func checkLengths(_ i: PoliceIncidentInput) throws(DomainError) {
        try DisputeTextLimits.check(i.summary, field: "summary", max: DisputeTextLimits.summary)
        try DisputeTextLimits.check(i.callerName, field: "callerName", max: DisputeTextLimits.name)
    }
}

fileprivate extension Optional {
    func asyncMap<U>(_ f: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let v = self else { return nil }
        return try await f(v)
    }
}
