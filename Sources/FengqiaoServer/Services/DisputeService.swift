import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Disputes (矛盾纠纷) from registration to closure (domain spec §4.1, 人民调解法) and police
/// incidents (警情, §3.7, §4.6) with repeat detection. Every change is validated in the core,
/// written with its timeline line and audit record in one transaction; a transition names the
/// `version` it read and loses with `.conflict("version", …)` if another user advanced the case
/// first. Reads are scoped by `DisputeAccess` (mediators: assigned cases only; others: territory)
/// and out-of-scope records answer 404.
public struct DisputeService: Sendable {
    let app: Fengqiao
    let settings: DisputeSettings
    let disputes: DisputeRepository
    let incidents: IncidentRepository
    let residents: ResidentRepository
    let houses: HouseService

    public init(_ app: Fengqiao, settings: DisputeSettings = .init()) {
        self.app = app
        self.settings = settings
        self.disputes = DisputeRepository(cipher: app.cipher)
        self.incidents = IncidentRepository(cipher: app.cipher)
        self.residents = ResidentRepository(cipher: app.cipher)
        self.houses = HouseService(app)
    }

    /// The access of a signed-in caller: mediators see only cases assigned to them.
    public static func access(_ p: Principal) -> DisputeAccess {
        DisputeAccess(visible: p.visible, assignedTo: p.role == .mediator ? p.id : nil)
    }

    // MARK: Inputs and views

    public struct PartyInput: Codable, Sendable {
        public var role: DisputeParty.Role?
        public var name: String?
        public var residentId: UUID?
        public var idNumber: String?
        public var phone: String?
        public init(role: DisputeParty.Role? = nil, name: String? = nil, residentId: UUID? = nil, idNumber: String? = nil, phone: String? = nil) {
            self.role = role
            self.name = name
            self.residentId = residentId
            self.idNumber = idNumber
            self.phone = phone
        }
    }

    /// Registration (登记): source, parties, category, location (grid, optionally a standard
    /// address), level (default grid), risk flags. `incidentId` converts an on-scene incident.
    public struct RegisterInput: Codable, Sendable {
        public var category: String?
        public var source: String?
        public var gridId: UUID?
        public var addressId: UUID?
        public var level: DisputeLevel?
        public var summary: String?
        public var riskFlags: [RiskTrigger]?
        public var civilToCriminalRisk: Bool?
        public var groupSize: Int?
        public var parties: [PartyInput]?
        public var incidentId: UUID?
        public init() {}
    }

    public struct MediatorInput: Codable, Sendable {
        public var accountId: UUID?
        /// The mediator's own resident record, for an account not yet linked to it
        /// (`PUT /api/v1/users/{id}/resident`); the account's link is used first and both are
        /// checked (a mediator who is a party is refused).
        public var residentId: UUID?
        /// Parties (dispute party ids or resident ids) the mediator is related to.
        public var relatedPartyIds: [UUID]?
    }

    /// A transition: the event, the `version` the caller read, and the event's data.
    public struct EventInput: Codable, Sendable {
        public var event: String?
        public var version: Int?
        public var reason: DisputeStopReason?
        public var note: String?
        public var mediators: [MediatorInput]?
        public var appliedOn: CalendarDate?
        public var riskGrade: RiskGrade?
    }

    public struct SessionInput: Codable, Sendable {
        public var heldOn: CalendarDate?
        public var place: String?
        public var attendees: [String]?
        public var minutes: String?
    }

    /// Marks on the written agreement: a party's signature/seal/fingerprint, the mediator's
    /// signature, the committee seal.
    public struct SignInput: Codable, Sendable {
        public var partyId: UUID?
        public var mark: MediationAgreement.Mark?
        public var mediatorSignature: String?
        public var committeeSeal: Bool?
    }

    /// Everything a case shows.
    public struct DisputeView: Sendable {
        public var dispute: DisputeRecord
        public var parties: [DisputeParty]
        public var mediators: [DisputeMediator]
        public var sessions: [DisputeSession]
        public var agreement: DisputeAgreementRecord?
        public var incidentIDs: [UUID]
        public var allowedEvents: [DisputeEvent]
        public var judicialConfirmationDeadline: CalendarDate?
    }

    static func today(_ now: Date) -> CalendarDate { CalendarDate(now, timeZone: TimeZone(identifier: "Asia/Shanghai") ?? .current) }
    static func text(_ s: String?) -> String? {
        guard let t = s?.trimmed, !t.isEmpty else { return nil }
        return t
    }
    static func idText(_ id: UUID) -> String { id.uuidString.lowercased() }

    // MARK: Register

    /// Registers a dispute in a grid of the caller's territory.
    /// - Throws: `.invalidField` naming the field (`category`, `source`, `gridId`, `summary`,
    ///   `parties`, `parties[i].idNumber` …); `.notFound("incident")` for an incident out of scope;
    ///   `.conflict("event", …)` when the incident is not on scene.
    public func register(_ i: RegisterInput, actor: Actor, access: DisputeAccess) async throws -> DisputeView {
        let now = settings.clock()
        try Self.checkLengths(i)
        guard let rawCategory = i.category, let category = DisputeCategory(rawValue: rawCategory) else {
            throw DomainError.invalidField(field: "category", reason: .text("must be one of " + DisputeCategory.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        var source: DisputeSource
        if let s = i.source {
            guard let v = DisputeSource(rawValue: s) else {
                throw DomainError.invalidField(field: "source", reason: .text("must be one of " + DisputeSource.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            source = v
        } else if i.incidentId != nil {
            source = .policeIncident
        } else {
            throw DomainError.invalidField(field: "source", reason: "is required")
        }
        guard let summary = Self.text(i.summary) else { throw DomainError.invalidField(field: "summary", reason: "is required") }
        var incident: IncidentRecord?
        if let iid = i.incidentId {
            let inc = try await incidents.find(iid, visible: access.visible, on: app.store.db)
            _ = try IncidentMachine.next(inc.state, .convertToDispute)
            source = .policeIncident
            incident = inc
        }
        var addressID = i.addressId ?? incident?.addressID
        var gridID = i.gridId ?? incident?.gridID
        if let a = i.addressId {
            let address = try await houses.activeAddress(a, visible: access.visible)
            addressID = address.id
            if gridID == nil { gridID = address.gridID }
        }
        guard let gid = gridID else { throw DomainError.invalidField(field: "gridId", reason: "is required (or give addressId)") }
        let grid: Grid
        do { grid = try await app.territories.grid(gid, visible: access.visible, on: app.store.db) } catch DomainError.notFound {
            throw DomainError.invalidField(field: "gridId", reason: "no such grid in your territory")
        }
        let inputs = i.parties ?? []
        if inputs.isEmpty { throw DomainError.invalidField(field: "parties", reason: "at least one party is required") }
        var parties: [DisputeParty] = []
        let today = Self.today(now)
        for (n, p) in inputs.enumerated() {
            guard let name = Self.text(p.name) else { throw DomainError.invalidField(field: "parties[\(n)].name", reason: "is required") }
            let number = try p.idNumber.flatMap(Self.text).map { raw throws(DomainError) in try CitizenIDNumber(raw, today: today, field: "parties[\(n)].idNumber").value }
            let phone = try p.phone.flatMap(Self.text).map { raw throws(DomainError) in try PhoneNumber(raw, field: "parties[\(n)].phone") }
            var residentID: UUID?
            if let r = p.residentId {
                do { residentID = try await residents.find(r, visible: access.visible, on: app.store.db).id } catch DomainError.notFound {
                    throw DomainError.invalidField(field: "parties[\(n)].residentId", reason: "no such resident in your territory")
                }
            } else if let number, let holder = try await residents.holders(ofIDNumbers: [number], on: app.store.db)[number] {
                // Linked only to a resident the caller may see and whose name matches: a link to
                // anyone else would tell the caller that the person lives outside their territory.
                if let r = try await ifFound({ try await residents.find(holder.id, visible: access.visible, on: app.store.db) }), r.name == name {
                    residentID = r.id
                }
            }
            parties.append(DisputeParty(id: UUID(), seq: n + 1, role: p.role ?? (n == 0 ? .applicant : .respondent), name: name, residentID: residentID, idNumber: number, phone: phone))
        }
        if let g = i.groupSize, g < 0 { throw DomainError.invalidField(field: "groupSize", reason: "must not be negative") }
        let flags = settings.risk.triggers(flags: Set(i.riskFlags ?? []), relatedIncidentsInWindow: 0, groupSize: max(i.groupSize ?? 0, parties.count))
        let risk = settings.risk.grade(triggers: flags)
        let level = i.level ?? .grid
        let d = DisputeRecord(
            id: UUID(), gridID: grid.id, communityID: grid.communityID, addressID: addressID, category: category, source: source, state: .registered,
            risk: risk, riskFlags: flags, civilToCriminalRisk: i.civilToCriminalRisk ?? false, level: level, levelSince: now,
            levelDueAt: settings.escalation.dueAt(level: level, since: now, grade: risk), summary: summary, incidentID: incident?.id, registeredAt: now)
        let list = parties
        let src = source
        let fromIncident = incident
        try await app.store.write { [app, disputes, incidents] db in
            try await disputes.insert(d, parties: list, on: db, now: now)
            var detail = "source \(src.rawValue), category \(category.rawValue), risk \(risk.rawValue), level \(level.rawValue)"
            if var inc = fromIncident {
                inc.state = try IncidentMachine.next(inc.state, .convertToDispute)
                inc.disposition = .convertToDispute
                inc.disputeID = d.id
                try await incidents.update(inc, on: db, now: now)
                detail += "; from incident \(Self.idText(inc.id))"
                try await self.recordIncidentEvent(inc, .convertToDispute, officer: nil, note: nil, actor: actor, on: db, now: now)
                _ = try await app.audit.append(actor.draft(.update, objectType: "incident", objectID: Self.idText(inc.id), fields: ["state", "disputeId"], detail: "convertToDispute"), on: db)
            }
            try await disputes.appendTimeline(d.id, at: now, actorID: actor.id, actorName: actor.name, kind: "register", stateAfter: .registered, detail: detail, on: db)
            var fields = ["category", "source", "gridId", "summary", "parties", "level", "riskGrade"]
            if list.contains(where: { $0.idNumber != nil }) { fields.append("parties.idNumber") }
            if list.contains(where: { $0.phone != nil }) { fields.append("parties.phone") }
            _ = try await app.audit.append(actor.draft(.create, objectType: "dispute", objectID: Self.idText(d.id), fields: fields), on: db)
        }
        return try await view(d)
    }

    func view(_ d: DisputeRecord) async throws -> DisputeView {
        let db = app.store.db
        let agreement = try await disputes.agreement(d.id, on: db)
        return DisputeView(
            dispute: d, parties: try await disputes.parties(d.id, on: db), mediators: try await disputes.mediators(d.id, on: db),
            sessions: try await disputes.sessions(d.id, on: db), agreement: agreement,
            incidentIDs: try await incidents.forDispute(d.id, on: db).map(\.id), allowedEvents: DisputeMachine.allowedEvents(in: d.state),
            judicialConfirmationDeadline: d.effectiveOn.map { JudicialConfirmation.deadline(effectiveOn: $0) })
    }

    /// One case with its parties; the read of the parties is audited (issue 4 "Access").
    public func get(_ id: UUID, actor: Actor, access: DisputeAccess) async throws -> DisputeView {
        let d = try await disputes.find(id, access: access, on: app.store.db)
        let v = try await view(d)
        try await app.record(actor.draft(.read, objectType: "dispute", objectID: Self.idText(id), fields: ["parties"]))
        return v
    }

    public func list(access: DisputeAccess, state: DisputeState?, limit: Int, offset: Int) async throws -> ([DisputeRecord], Int) {
        try await disputes.list(access: access, state: state, limit: limit, offset: offset, on: app.store.db)
    }

    public func timeline(_ id: UUID, access: DisputeAccess) async throws -> [DisputeTimelineEntry] {
        let d = try await disputes.find(id, access: access, on: app.store.db)
        return try await disputes.timeline(d.id, on: app.store.db)
    }

    // MARK: Transitions

    /// Applies one event of the §4.1 machine after its guard.
    /// - Throws: `.conflict("event", …)` naming the state and event when not allowed;
    ///   `.conflict("version", "the case changed …")` when another user advanced the case since
    ///   `version`; `.invalidField` for a failed guard (`reason`, `mediators`, `agreement`,
    ///   `appliedOn`, `note`); `.notFound("dispute")` out of scope.
    public func apply(_ id: UUID, _ i: EventInput, actor: Actor, access: DisputeAccess) async throws -> DisputeView {
        let now = settings.clock()
        guard let raw = i.event, let event = DisputeEvent(rawValue: raw) else {
            throw DomainError.invalidField(field: "event", reason: .text("must be one of " + DisputeEvent.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        guard let version = i.version else { throw DomainError.invalidField(field: "version", reason: "is required (the version of the case you read)") }
        try DisputeTextLimits.check(i.note, field: "note", max: DisputeTextLimits.note)
        let current = try await disputes.find(id, access: access, on: app.store.db)
        if current.version != version {
            throw DomainError.conflict(field: "version", reason: "the case changed since version \(version) (now \(current.version)); reload it and try again")
        }
        _ = try DisputeMachine.next(current.state, event)
        // Guards that read other records, before the write.
        var newMediators: [DisputeMediator] = []
        var candidates: [MediatorConflict.Candidate] = []
        switch event {
        case .reject:
            guard let r = i.reason, r == .partyRefuses || r == .notCivil else {
                throw DomainError.invalidField(field: "reason", reason: "must be partyRefuses (Art. 17) or notCivil")
            }
        case .terminate:
            guard let r = i.reason, r == .partyWithdraws || r == .failed else {
                throw DomainError.invalidField(field: "reason", reason: "must be partyWithdraws or failed (Art. 26)")
            }
        case .transferToPolice, .disputeOverAgreement, .followUpVisitRecorded:
            if Self.text(i.note) == nil { throw DomainError.invalidField(field: "note", reason: "is required for \(event.rawValue)") }
        case .applyJudicialConfirmation:
            guard let on = i.appliedOn else { throw DomainError.invalidField(field: "appliedOn", reason: "is required") }
            guard let eff = current.effectiveOn else { throw DomainError.invalidField(field: "appliedOn", reason: "the agreement has no effective date") }
            try JudicialConfirmation.check(appliedOn: on, effectiveOn: eff)
        case .escalationRisk:
            if let g = i.riskGrade, g != .red && g != .orange { throw DomainError.invalidField(field: "riskGrade", reason: "must be R or O (Art. 25)") }
        case .assignMediators:
            // Art. 19: the committee (for it, the officer, grid worker or governance centre
            // handling the case) appoints the mediators; a mediator does not appoint others.
            if actor.role == .mediator { throw DomainError.forbidden(reason: "mediators are appointed by the officer, grid worker or governance centre handling the case (Art. 19)") }
            let list = i.mediators ?? []
            if list.isEmpty { throw DomainError.invalidField(field: "mediators", reason: "at least one mediator is required (Art. 19)") }
            for (n, m) in list.enumerated() {
                guard let aid = m.accountId, let acc = try await app.accounts.find(aid, on: app.store.db), acc.role == Role.mediator.rawValue else {
                    throw DomainError.invalidField(field: "mediators[\(n)].accountId", reason: "is not a mediator account")
                }
                // The mediator must work where the case is: a grid or community scope names it.
                let scopeOK: Bool
                switch ScopeLevel(rawValue: acc.scopeLevel) {
                case .grid: scopeOK = acc.scopeTerritoryID == current.gridID
                case .community: scopeOK = acc.scopeTerritoryID == current.communityID
                case .station, .city: scopeOK = true
                case nil: scopeOK = false
                }
                if !scopeOK { throw DomainError.invalidField(field: "mediators[\(n)].accountId", reason: "the mediator does not serve this case's grid or community") }
                // The holder's own resident record: the account's registry link (M0032) first;
                // the request may name it for an account not linked yet.
                var related = Set(m.relatedPartyIds ?? [])
                if let own = acc.residentID, let declared = m.residentId, declared != own { related.insert(declared) }
                candidates.append(.init(accountID: aid, name: acc.displayName, residentID: acc.residentID ?? m.residentId, relatedResidentIDs: related))
                newMediators.append(DisputeMediator(accountID: aid, name: acc.displayName, assignedAt: now))
            }
            let parties = try await disputes.parties(id, on: app.store.db)
            try MediatorConflict.check(candidates, partyResidentIDs: Set(parties.compactMap(\.residentID) + parties.map(\.id)))
        case .agreeWritten, .agreeOral:
            guard let a = try await disputes.agreement(id, on: app.store.db) else {
                throw DomainError.invalidField(field: "agreement", reason: "record the agreement first")
            }
            let wanted: MediationAgreement.Form = event == .agreeWritten ? .written : .oral
            if a.agreement.form != wanted { throw DomainError.invalidField(field: "agreement", reason: "the recorded agreement is \(a.agreement.form.rawValue)") }
            try a.agreement.checkEffective(partyIDs: try await disputes.parties(id, on: app.store.db).map(\.id))
        default:
            break
        }
        let mediators = newMediators
        let updated: DisputeRecord = try await app.store.write { [app, disputes, settings] db in
            guard var d = try await disputes.find(id, on: db) else { throw DomainError.notFound(kind: "dispute") }
            if d.version != version {
                throw DomainError.conflict(field: "version", reason: "the case changed since version \(version) (now \(d.version)); reload it and try again")
            }
            let before = d.state
            d.state = try DisputeMachine.next(d.state, event)
            // Joint handling (双化解): closing needs both sides' sign-off, checked in this transaction.
            try JointRules.checkClose(try await DisputeJointRepository().joint(id, on: db), next: d.state)
            var detail: String?
            switch event {
            case .reject, .terminate:
                d.stopReason = i.reason?.rawValue
                detail = "reason \(i.reason!.rawValue); other routes explained (arbitration, administrative, judicial — Art. 26)"
            case .assignMediators:
                let already = Set(try await disputes.mediators(id, on: db).map(\.accountID))
                let added = mediators.filter { !already.contains($0.accountID) }
                try await disputes.addMediators(added, to: id, on: db)
                detail = "mediators " + mediators.map(\.name).joined(separator: ", ")
                // Each newly assigned mediator is told, in the same transaction (their 我承办的案件 lists it).
                for m in added {
                    try await NotificationRepository().insert(InAppNotification(
                        accountID: m.accountID, kind: "dispute.assigned", eventID: id, title: "调解案件指派 / Case assigned",
                        body: d.summary, link: "/disputes/\(Self.idText(id))", createdAt: now), on: db)
                }
            case .escalationRisk:
                d.civilToCriminalRisk = true
                d.risk = max(d.risk, i.riskGrade ?? .orange)
                d.levelDueAt = settings.escalation.dueAt(level: d.level, since: d.levelSince, grade: d.risk)
                detail = "civil-to-criminal risk, grade \(d.risk.rawValue); reported to the police (Art. 25)"
            case .agreeWritten, .agreeOral:
                let today = Self.today(now)
                d.effectiveOn = today
                d.settledLevel = d.level
                if var a = try await disputes.agreement(id, on: db) {
                    a.effectiveOn = today
                    try await disputes.saveAgreement(a, disputeID: id, on: db, now: now)
                }
                detail = "agreement effective \(today) at \(d.level.rawValue) level; judicial confirmation until \(JudicialConfirmation.deadline(effectiveOn: today))"
            case .applyJudicialConfirmation:
                detail = "applied on \(i.appliedOn!)"
            default:
                detail = nil
            }
            if let n = Self.text(i.note) { detail = [detail, n].compactMap { $0 }.joined(separator: "; ") }
            if !d.state.escalates { d.levelDueAt = nil }
            if d.state.isTerminal { d.closedAt = now }
            let saved = try await disputes.update(d, expectedVersion: version, on: db, now: now)
            try await disputes.appendTimeline(id, at: now, actorID: actor.id, actorName: actor.name, kind: event.rawValue, stateAfter: d.state, detail: detail, on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "dispute", objectID: Self.idText(id), fields: ["state"],
                                                       detail: "\(event.rawValue): \(before.rawValue) → \(d.state.rawValue)"), on: db)
            return saved
        }
        return try await view(updated)
    }

    /// Moves a case up one level by hand (mediation failed at this level).
    /// - Throws: `.conflict("level", …)` at the top or outside the ladder's states; `.conflict("version", …)`.
    public func escalate(_ id: UUID, version: Int?, note: String?, actor: Actor, access: DisputeAccess) async throws -> DisputeView {
        let now = settings.clock()
        guard let version else { throw DomainError.invalidField(field: "version", reason: "is required (the version of the case you read)") }
        _ = try await disputes.find(id, access: access, on: app.store.db)
        let saved: DisputeRecord = try await app.store.write { [app, disputes, settings] db in
            guard var d = try await disputes.find(id, on: db) else { throw DomainError.notFound(kind: "dispute") }
            if d.version != version { throw DomainError.conflict(field: "version", reason: "the case changed since version \(version) (now \(d.version)); reload it and try again") }
            guard d.state.escalates, let up = d.level.next else {
                throw DomainError.conflict(field: "level", reason: "a case in state \"\(d.state.rawValue)\" at level \"\(d.level.rawValue)\" cannot move up")
            }
            let from = d.level
            d.level = up
            d.levelSince = now
            d.levelDueAt = settings.escalation.dueAt(level: up, since: now, grade: d.risk)
            let out = try await disputes.update(d, expectedVersion: version, on: db, now: now)
            let detail = "\(from.rawValue) → \(up.rawValue): mediation failed at this level" + (Self.text(note).map { "; " + $0 } ?? "")
            try await disputes.appendTimeline(id, at: now, actorID: actor.id, actorName: actor.name, kind: "escalate", stateAfter: d.state, detail: detail, on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "dispute", objectID: Self.idText(id), fields: ["level"], detail: detail), on: db)
            return out
        }
        return try await view(saved)
    }

    /// Moves every visible case whose level deadline has passed one level up (the sweep a
    /// scheduler runs; the deadline comes from `EscalationPolicy`, per grade and level).
    /// - Returns: the ids of the cases moved.
    public func escalateDue(actor: Actor, access: DisputeAccess) async throws -> [UUID] {
        let now = settings.clock()
        let due = try await disputes.dueForEscalation(now: now, access: access, on: app.store.db)
        var moved: [UUID] = []
        for candidate in due {
            let id = candidate.id
            // A case changed by a manual transition meanwhile (version check) is skipped; the next
            // sweep sees it afresh, so a sweep is idempotent and never overrides a user.
            let did: Bool
            do {
            did = try await app.store.write { [app, disputes, settings] db in
                guard var d = try await disputes.find(id, on: db), d.state.escalates, let due = d.levelDueAt, due <= now, let up = d.level.next else { return false }
                let from = d.level
                d.level = up
                d.levelSince = now
                d.levelDueAt = settings.escalation.dueAt(level: up, since: now, grade: d.risk)
                try await disputes.update(d, expectedVersion: d.version, on: db, now: now)
                let detail = "\(from.rawValue) → \(up.rawValue): the \(from.rawValue)-level deadline \(ISO8601DateFormatter().string(from: due)) passed"
                try await disputes.appendTimeline(id, at: now, actorID: actor.id, actorName: actor.name, kind: "escalate", stateAfter: d.state, detail: detail, on: db)
                _ = try await app.audit.append(actor.draft(.update, objectType: "dispute", objectID: Self.idText(id), fields: ["level"], detail: detail), on: db)
                return true
            }
            } catch DomainError.conflict { did = false }
            if did { moved.append(id) }
        }
        return moved
    }

    // MARK: Sessions and agreement

    /// Records a mediation session (调解工作记录, Art. 27) while mediating.
    public func addSession(_ id: UUID, _ i: SessionInput, actor: Actor, access: DisputeAccess) async throws -> DisputeSession {
        let now = settings.clock()
        try Self.checkLengths(i)
        let d = try await disputes.find(id, access: access, on: app.store.db)
        guard d.state == .mediating else { throw DomainError.conflict(field: "state", reason: "sessions are recorded while mediating; the case is \"\(d.state.rawValue)\"") }
        guard let heldOn = i.heldOn else { throw DomainError.invalidField(field: "heldOn", reason: "is required") }
        if heldOn > Self.today(now) { throw DomainError.invalidField(field: "heldOn", reason: "is in the future") }
        guard let place = Self.text(i.place) else { throw DomainError.invalidField(field: "place", reason: "is required") }
        let attendees = (i.attendees ?? []).compactMap(Self.text)
        if attendees.isEmpty { throw DomainError.invalidField(field: "attendees", reason: "at least one attendee is required") }
        guard let minutes = Self.text(i.minutes) else { throw DomainError.invalidField(field: "minutes", reason: "is required") }
        let s = DisputeSession(id: UUID(), heldOn: heldOn, place: place, attendees: attendees, minutes: minutes, recordedBy: actor.name)
        try await app.store.write { [app, disputes] db in
            try await disputes.addSession(s, to: id, on: db, now: now)
            try await disputes.appendTimeline(id, at: now, actorID: actor.id, actorName: actor.name, kind: "session", stateAfter: d.state, detail: "\(heldOn) at \(place), \(attendees.count) attending", on: db)
            _ = try await app.audit.append(actor.draft(.create, objectType: "dispute-session", objectID: Self.idText(s.id), fields: ["heldOn", "place", "attendees", "minutes"], detail: "dispute \(Self.idText(id))"), on: db)
        }
        return s
    }

    /// Records (or replaces) the draft agreement while mediating. A written draft must hold
    /// the three Art. 29 contents; marks may come later (`sign`).
    /// - Throws: `.invalidField("agreement", "missing Art. 29 contents: …")` listing what is missing.
    public func saveAgreement(_ id: UUID, _ a: MediationAgreement, actor: Actor, access: DisputeAccess) async throws -> DisputeAgreementRecord {
        let now = settings.clock()
        let d = try await disputes.find(id, access: access, on: app.store.db)
        guard d.state == .mediating else { throw DomainError.conflict(field: "state", reason: "an agreement is recorded while mediating; the case is \"\(d.state.rawValue)\"") }
        var draft = try a.validatedContents()
        if draft.kind == .police, actor.role != .communityPoliceOfficer {
            // 治安调解 is conducted by the public security organ (公安机关治安调解工作规范).
            throw DomainError.invalidField(field: "kind", reason: "a police mediation (治安调解) agreement is recorded by a community police officer")
        }
        let partyIDs = Set(try await disputes.parties(id, on: app.store.db).map { Self.idText($0.id) })
        draft.partyMarks = draft.partyMarks.filter { partyIDs.contains($0.key.lowercased()) }
        let rec = DisputeAgreementRecord(id: UUID(), agreement: draft, effectiveOn: nil)
        let note = "\(draft.form.rawValue) \(draft.kind.rawValue)-mediation agreement"
        try await app.store.write { [app, disputes] db in
            try await disputes.saveAgreement(rec, disputeID: id, on: db, now: now)
            try await disputes.appendTimeline(id, at: now, actorID: actor.id, actorName: actor.name, kind: "agreementDrafted", stateAfter: d.state, detail: note, on: db)
            _ = try await app.audit.append(actor.draft(.create, objectType: "mediation-agreement", objectID: Self.idText(rec.id), fields: ["agreement"], detail: "dispute \(Self.idText(id))"), on: db)
        }
        return rec
    }

    /// Adds a mark to the draft: a party signs/seals/fingerprints, the mediator signs, or the
    /// committee seal is applied. The draft is read and written in one transaction under the
    /// dispute's lock, so marks recorded at the same time by two users are both kept.
    public func sign(_ id: UUID, _ i: SignInput, actor: Actor, access: DisputeAccess) async throws -> DisputeAgreementRecord {
        let now = settings.clock()
        _ = try await disputes.find(id, access: access, on: app.store.db)
        try DisputeTextLimits.check(i.mediatorSignature, field: "mediatorSignature", max: DisputeTextLimits.name)
        if let p = i.partyId {
            guard try await disputes.parties(id, on: app.store.db).contains(where: { $0.id == p }) else {
                throw DomainError.invalidField(field: "partyId", reason: "is not a party to this dispute")
            }
        }
        var what: [String] = []
        if let p = i.partyId { what.append("party \(Self.idText(p)) \((i.mark ?? .signed).rawValue)") }
        if Self.text(i.mediatorSignature) != nil { what.append("mediator signed") }
        if i.committeeSeal == true { what.append("committee seal") }
        if what.isEmpty { throw DomainError.invalidField(field: "partyId", reason: "give partyId, mediatorSignature or committeeSeal") }
        let marks = what.joined(separator: ", ")
        return try await app.store.write { [app, disputes] db in
            try await DisputeJointRepository().lockDispute(id, on: db)
            guard let d = try await disputes.find(id, on: db) else { throw DomainError.notFound(kind: "dispute") }
            guard d.state == .mediating, var rec = try await disputes.agreement(id, on: db) else {
                throw DomainError.conflict(field: "agreement", reason: "no draft agreement to sign in state \"\(d.state.rawValue)\"")
            }
            if let p = i.partyId { rec.agreement.partyMarks[Self.idText(p)] = i.mark ?? .signed }
            if let m = Self.text(i.mediatorSignature) { rec.agreement.mediatorSignature = m }
            if i.committeeSeal == true { rec.agreement.committeeSeal = true }
            try await disputes.saveAgreement(rec, disputeID: id, on: db, now: now)
            try await disputes.appendTimeline(id, at: now, actorID: actor.id, actorName: actor.name, kind: "agreementSigned", stateAfter: d.state, detail: marks, on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "mediation-agreement", objectID: Self.idText(rec.id), fields: ["marks"], detail: marks), on: db)
            return rec
        }
    }

    // MARK: Police incidents

    public struct IncidentEventInput: Codable, Sendable {
        public var event: String?
        public var note: String?
        /// For `convertToDispute`: the dispute to register (grid and address default to the incident's).
        public var dispute: RegisterInput?
        /// For `dispatch`: the community officer sent (default: the one designated on intake).
        public var officerId: UUID?
    }

    public struct IncidentOutcome: Sendable {
        public var incident: IncidentRecord
        public var repeatOutcome: RepeatOutcome
        /// The dispute the incident was linked to, and whether its risk was raised.
        public var linkedDispute: UUID?
        public var riskRaisedTo: RiskGrade?
    }

    /// Receives an incident (接警): category code (§3.7.1), priority (default p3), location (a
    /// standard address, a grid, or a point inside a visible grid's polygon), caller; then the
    /// repeat rule (§3.7.3) against the stored incidents by index. A repeat is linked to the first
    /// incident and to the open dispute behind the chain; the `raiseAt`-th in the window raises
    /// that dispute to at least `raiseTo`.
    /// - Throws: `.invalidField("category", …)` for an unknown code; `.invalidField("location", …)`
    ///   for a point outside every grid or no location at all.
    public func receiveIncident(_ i: PoliceIncidentInput, actor: Actor, visible: VisibleTerritory) async throws -> IncidentOutcome {
        let now = settings.clock()
        let received = try await incidentRecord(i, visible: visible, now: now)
        return try await app.store.write { db in try await self.ingest(received, actor: actor, on: db, now: now) }
    }

    /// The incident `i` describes, validated and located (category, lengths, time, address, grid
    /// or point, caller phone, party ID number); nothing is written.
    /// - Throws: the `DomainError`s of `receiveIncident`.
    func incidentRecord(_ i: PoliceIncidentInput, visible: VisibleTerritory, now: Date) async throws -> IncidentRecord {
        let category = try IncidentCategory.parse(i.category ?? "")
        try Self.checkLengths(i)
        let reportedAt = i.reportedAt ?? now
        if reportedAt > now.addingTimeInterval(300) { throw DomainError.invalidField(field: "reportedAt", reason: "is in the future") }
        var grid: Grid?
        var addressID: UUID?
        if let a = i.addressId {
            let address = try await houses.activeAddress(a, visible: visible)
            addressID = address.id
            grid = try await app.territories.grid(address.gridID, visible: visible, on: app.store.db)
        } else if let g = i.gridId {
            do { grid = try await app.territories.grid(g, visible: visible, on: app.store.db) } catch DomainError.notFound {
                throw DomainError.invalidField(field: "gridId", reason: "no such grid in your territory")
            }
            // A point given with the grid must lie in it (when the grid has a drawn boundary).
            if let p = i.location {
                guard (-180...180).contains(p.lon), (-90...90).contains(p.lat) else { throw DomainError.invalidField(field: "location", reason: "is not a WGS-84 point") }
                if let poly = grid?.polygon, !poly.contains(p) { throw DomainError.invalidField(field: "location", reason: "lies outside the chosen grid") }
            }
        } else if let p = i.location {
            guard (-180...180).contains(p.lon), (-90...90).contains(p.lat) else { throw DomainError.invalidField(field: "location", reason: "is not a WGS-84 point") }
            for gid in (visible.gridIDs ?? []).sorted(by: { $0.uuidString < $1.uuidString }) {
                if let g = try await ifFound({ try await app.territories.grid(gid, visible: visible, on: app.store.db) }), g.polygon?.contains(p) == true { grid = g; break }
            }
            if grid == nil { throw DomainError.invalidField(field: "location", reason: "lies outside every grid of your territory") }
        } else {
            throw DomainError.invalidField(field: "location", reason: "give addressId, gridId or a location inside a grid")
        }
        let g = grid!
        let phone = try i.callerPhone.flatMap(Self.text).map { raw throws(DomainError) in try PhoneNumber(raw, field: "callerPhone") }
        let party = try i.partyIdNumber.flatMap(Self.text).map { raw throws(DomainError) in try CitizenIDNumber(raw, today: Self.today(now), field: "partyIdNumber").value }
        let priority = i.priority ?? .p3
        return IncidentRecord(
            id: UUID(), gridID: g.id, communityID: g.communityID, category: category, priority: priority, addressID: addressID, location: i.location,
            callerName: Self.text(i.callerName), callerPhone: phone, partyIDNumber: party, summary: Self.text(i.summary) ?? "", reportedAt: reportedAt)
    }

    /// Stores a located incident inside the caller's transaction `db`: the repeat rule (§3.7.3)
    /// against the stored incidents (and those stored earlier in the same transaction), the link
    /// to the open dispute behind the chain and its risk raise, the insert, its audit record and
    /// the intake notifications.
    func ingest(_ received: IncidentRecord, actor: Actor, on db: any Database, now: Date) async throws -> IncidentOutcome {
        let policy = settings.repeats
        let risk = settings.risk
        let escalation = settings.escalation
        var rec = received
        let keys = incidents.keys(rec)
        try await incidents.lockKeys(keys, on: db)
        let priors = try await incidents.candidates(for: keys, policy: policy, on: db)
        let outcome = RepeatRule.classify(keys, priors: priors, policy: policy)
        var linked: UUID?
        var raised: RiskGrade?
        switch outcome {
        case .first: break
        case .duplicate(let of):
            rec.duplicateOf = of
            // Another caller about the same event: not counted, but linked to the open dispute
            // behind the call it duplicates, and on that case's timeline (§3.7.3).
            if let did = try await incidents.chainDispute(firstID: of, on: db), let d = try await disputes.find(did, on: db), d.state.isOpen {
                rec.disputeID = did
                linked = did
                let detail = "duplicate call \(Self.idText(rec.id)) of incident \(Self.idText(of)) (another caller, same event; not counted as a repeat)"
                try await disputes.appendTimeline(did, at: now, actorID: actor.id, actorName: actor.name, kind: "duplicateIncident", stateAfter: d.state, detail: detail, on: db)
                _ = try await app.audit.append(actor.draft(.update, objectType: "dispute", objectID: Self.idText(did), fields: ["incidents"], detail: detail), on: db)
            }
        case .repeat(let first, let n):
            rec.isRepeat = true
            rec.repeatOf = first
            if let did = try await incidents.chainDispute(firstID: first, on: db), var d = try await disputes.find(did, on: db), d.state.isOpen {
                rec.disputeID = did
                linked = did
                var detail = "repeat incident \(Self.idText(rec.id)) (\(n) in \(policy.windowDays) days), first \(Self.idText(first))"
                if n >= policy.raiseAt {
                    d.riskFlags.insert(.repeatIncidents)
                    let g = risk.grade(triggers: d.riskFlags, floor: max(d.risk, policy.raiseTo))
                    if g != d.risk {
                        detail += "; risk \(d.risk.rawValue) → \(g.rawValue)"
                        d.risk = g
                        raised = g
                        if d.state.escalates { d.levelDueAt = escalation.dueAt(level: d.level, since: d.levelSince, grade: g) }
                    }
                    try await disputes.update(d, expectedVersion: d.version, on: db, now: now)
                }
                try await disputes.appendTimeline(did, at: now, actorID: actor.id, actorName: actor.name, kind: "repeatIncident", stateAfter: d.state, detail: detail, on: db)
                _ = try await app.audit.append(actor.draft(.update, objectType: "dispute", objectID: Self.idText(did), fields: raised == nil ? ["incidents"] : ["incidents", "riskGrade"], detail: detail), on: db)
            }
        }
        try await incidents.insert(rec, on: db, now: now)
        var fields = ["category", "priority", "reportedAt", "gridId"]
        if rec.addressID != nil { fields.append("addressId") }
        if rec.callerPhone != nil { fields.append("callerPhone") }
        if rec.partyIDNumber != nil { fields.append("partyIdNumber") }
        _ = try await app.audit.append(actor.draft(.create, objectType: "incident", objectID: Self.idText(rec.id), fields: fields), on: db)
        try await self.recordIntake(rec, actor: actor, on: db, now: now)
        return IncidentOutcome(incident: rec, repeatOutcome: outcome, linkedDispute: linked, riskRaisedTo: raised)
    }

    public func incident(_ id: UUID, visible: VisibleTerritory) async throws -> IncidentRecord {
        try await incidents.find(id, visible: visible, on: app.store.db)
    }

    /// Applies an incident event (§4.6): dispatch and arrival times, dispositions. For
    /// `convertToDispute` it registers the dispute (kept linked) and returns it.
    public func incidentEvent(_ id: UUID, _ i: IncidentEventInput, actor: Actor, access: DisputeAccess) async throws -> (IncidentRecord, DisputeView?) {
        let now = settings.clock()
        guard let raw = i.event, let event = IncidentEvent(rawValue: raw) else {
            throw DomainError.invalidField(field: "event", reason: .text("must be one of " + IncidentEvent.allCases.map(\.rawValue).joined(separator: ", ")))
        }
        try DisputeTextLimits.check(i.note, field: "note", max: DisputeTextLimits.note)
        let current = try await incidents.find(id, visible: access.visible, on: app.store.db)
        _ = try IncidentMachine.next(current.state, event)
        let officer = event == .dispatch ? try await dispatchOfficer(i.officerId, incident: current) : nil
        if event == .convertToDispute {
            guard var d = i.dispute else { throw DomainError.invalidField(field: "dispute", reason: "is required for convertToDispute") }
            d.incidentId = id
            let v = try await register(d, actor: actor, access: access)
            return (try await incidents.find(id, visible: access.visible, on: app.store.db), v)
        }
        if event == .markInvalid, Self.text(i.note) == nil { throw DomainError.invalidField(field: "note", reason: "the reason is required for markInvalid") }
        let out: IncidentRecord = try await app.store.write { [app, incidents] db in
            var inc = try await incidents.find(id, visible: access.visible, on: db)
            let before = inc.state
            inc.state = try IncidentMachine.next(inc.state, event)
            switch event {
            case .dispatch: inc.dispatchedAt = now
            case .arrive: inc.arrivedAt = now
            case .resolveOnSite, .openCase, .markInvalid: inc.disposition = event
            default: break
            }
            try await incidents.update(inc, on: db, now: now)
            try await self.recordIncidentEvent(inc, event, officer: officer, note: i.note, actor: actor, on: db, now: now)
            _ = try await app.audit.append(actor.draft(.update, objectType: "incident", objectID: Self.idText(id), fields: ["state"], detail: "\(event.rawValue): \(before.rawValue) → \(inc.state.rawValue)"), on: db)
            return inc
        }
        return (out, nil)
    }
}
