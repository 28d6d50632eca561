import FengqiaoCore
import FengqiaoStore
import Vapor

/// Registering a dispute and running it from the case page (issue 4, web; domain spec §4.1,
/// 人民调解法): accept or refuse (Art. 17), assign mediators (Art. 19, recusal Art. 23), mediation
/// sessions (Art. 27), move up a level, report escalation risk or transfer to the police (Art. 25),
/// terminate (Art. 26), the written or oral agreement (Arts. 28–30) with its marks, judicial
/// confirmation (Art. 33), performance, follow-up and closure.
///
/// Every action form posts to `POST /disputes/{id}/act` with `action` and the case `version` it
/// was drawn from; the service functions of `DisputeService` do the work (nothing is decided
/// here). Success redirects to the case with a notice (POST-redirect-GET); a refusal re-renders
/// the case with the message next to the form, in the user's language (`DisputeWebErrors`);
/// a case out of scope is 404 for reads and writes alike. Registered by `DisputeWebController`.
struct DisputeActionWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("disputes", "new", access: .permission(.disputeWrite), use: newForm)
        routes.post("disputes", "new", access: .permission(.disputeWrite), use: create)
        routes.post("disputes", ":id", "act", access: .permission(.disputeWrite), use: act)
    }

    struct Option: Encodable { var value: String; var label: String; var selected: Bool }

    // MARK: Registration form

    struct PartyRow: Encodable { var n: Int; var name: String; var role: String; var idNumber: String; var phone: String; var residentId: String; var roles: [Option] }
    struct NewData: Encodable {
        var sources: [Option]
        var categories: [Option]
        var grids: [Option]
        var addresses: [Option]
        var search: AddressSearch
        var levels: [Option]
        var parties: [PartyRow]
        var flags: [Option]
        var groupSize: String
        var civilToCriminal: Bool
        var summary: String
        var error: DisputeWebErrors.Inline?
    }

    static func partyRoles(_ selected: String, _ t: [String: String]) -> [Option] {
        DisputeParty.Role.allCases.map { Option(value: $0.rawValue, label: t["dispute.party.\($0.rawValue)"] ?? $0.rawValue, selected: $0.rawValue == selected) }
    }

    /// Parties rows `p{n}.name` … of a form (n = 0…count-1), filled from `v`.
    static func partyRows(_ v: [String: String], count: Int, _ t: [String: String]) -> [PartyRow] {
        (0..<count).map { n in
            let role = v["p\(n).role"] ?? (n == 0 ? DisputeParty.Role.applicant.rawValue : DisputeParty.Role.respondent.rawValue)
            return PartyRow(n: n, name: v["p\(n).name"] ?? "", role: role, idNumber: v["p\(n).idNumber"] ?? "", phone: v["p\(n).phone"] ?? "",
                            residentId: v["p\(n).residentId"] ?? "", roles: partyRoles(role, t))
        }
    }

    /// The parties of a form: rows with a name, or with any other field filled (so that a
    /// missing name is named, not silently dropped).
    static func parties(_ v: [String: String], count: Int) throws -> [DisputeService.PartyInput] {
        var out: [DisputeService.PartyInput] = []
        for n in 0..<count {
            func f(_ k: String) -> String? { v["p\(n).\(k)"].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 } }
            if f("name") == nil && f("idNumber") == nil && f("phone") == nil && f("residentId") == nil { continue }
            let field = "parties[\(out.count)].residentId"
            out.append(DisputeService.PartyInput(
                role: f("role").flatMap(DisputeParty.Role.init(rawValue:)), name: f("name"), residentId: try TerritoryWebController.uuidField(f("residentId"), field),
                idNumber: f("idNumber"), phone: f("phone")))
        }
        return out
    }

    static func gridOptions(_ req: Request, selected: String?) async throws -> [Option] {
        let p = try req.requirePrincipal()
        let repo = req.fengqiao.territories
        var out: [Option] = []
        for c in try await repo.communityNames(visible: p.visible, on: req.fengqiao.store.db) {
            for g in try await repo.gridNames(communityID: c.id, visible: p.visible, on: req.fengqiao.store.db) {
                let id = g.id.uuidString.lowercased()
                out.append(Option(value: id, label: "\(c.name) · \(g.name)", selected: id == selected))
            }
        }
        return out
    }

    static let addressLimit = 300

    /// Standard addresses of the user's territory for a picker: those matching the address
    /// search `q` (and grid `grid`) of the page's query when given, else the first ones by street
    /// order; at most `addressLimit`, the selected one always included.
    static func addressOptions(_ req: Request, selected: String?) async throws -> [Option] {
        let p = try req.requirePrincipal()
        let db = req.fengqiao.store.db
        let repo = AddressRepository()
        let q = (req.query[String.self, at: "q"] ?? "").trimmingCharacters(in: .whitespaces)
        let grid = req.query[String.self, at: "grid"].flatMap(UUID.init(uuidString:))
        var list = try await repo.search(String(q.prefix(100)), gridID: grid, visible: p.visible, limit: addressLimit, on: db)
        if let s = selected.flatMap(UUID.init(uuidString:)), !list.contains(where: { $0.id == s }),
           let a = try await ifFound({ try await repo.find(s, visible: p.visible, on: db) }), a.status == .active {
            list.insert(a, at: 0)
        }
        return list.map {
            let id = $0.id.uuidString.lowercased()
            return Option(value: id, label: $0.formatted(), selected: id == selected)
        }
    }

    /// The address search box of a form page (a GET of the same page).
    struct AddressSearch: Encodable {
        var q: String
        var grid: String
        var grids: [Option]
        var capped: Bool
    }

    static func addressSearch(_ req: Request, grids: [Option], shown: Int) -> AddressSearch {
        let grid = req.query[String.self, at: "grid"] ?? ""
        return AddressSearch(
            q: String((req.query[String.self, at: "q"] ?? "").prefix(100)), grid: grid,
            grids: grids.map { Option(value: $0.value, label: $0.label, selected: $0.value == grid) }, capped: shown >= addressLimit)
    }

    static func newData(_ req: Request, _ v: [String: String], error: DisputeWebErrors.Inline?) async throws -> NewData {
        let t = Page.t(req)
        let src = v["source"] ?? DisputeSource.proactiveScreening.rawValue
        let level = v["level"] ?? DisputeLevel.grid.rawValue
        let flags: [RiskTrigger] = [.threatOfViolence, .weapons, .partyUnderSpecialManagement, .priorPhysicalConflict, .largeAmount]
        let grids = try await gridOptions(req, selected: v["gridId"])
        let addresses = try await addressOptions(req, selected: v["addressId"])
        return NewData(
            sources: DisputeSource.allCases.map { Option(value: $0.rawValue, label: $0.nameZH, selected: $0.rawValue == src) },
            categories: DisputeCategory.allCases.map { Option(value: $0.rawValue, label: "\($0.rawValue) \($0.nameZH)", selected: $0.rawValue == v["category"]) },
            grids: grids, addresses: addresses, search: addressSearch(req, grids: grids, shown: addresses.count),
            levels: DisputeLevel.allCases.map { Option(value: $0.rawValue, label: t["dispute.level.\($0.rawValue)"] ?? $0.nameZH, selected: $0.rawValue == level) },
            parties: partyRows(v, count: 4, t),
            flags: flags.map { Option(value: $0.rawValue, label: t["dw.trigger.\($0.rawValue)"] ?? $0.rawValue, selected: v["flag.\($0.rawValue)"] != nil) },
            groupSize: v["groupSize"] ?? "", civilToCriminal: v["civilToCriminalRisk"] != nil, summary: v["summary"] ?? "", error: error)
    }

    func newForm(_ req: Request) async throws -> Response {
        let t = Page.t(req)
        return try await Page.render(req, "dispute-new", try await Self.newData(req, [:], error: nil), title: t["dw.new"]!)
    }

    static func registerInput(_ v: [String: String], partyCount: Int) throws -> DisputeService.RegisterInput {
        var i = DisputeService.RegisterInput()
        i.category = v["category"].flatMap { $0.isEmpty ? nil : $0 }
        i.source = v["source"].flatMap { $0.isEmpty ? nil : $0 }
        i.gridId = try TerritoryWebController.uuidField(v["gridId"], "gridId")
        i.addressId = try TerritoryWebController.uuidField(v["addressId"], "addressId")
        if let l = v["level"], !l.isEmpty {
            guard let level = DisputeLevel(rawValue: l) else { throw DomainError.invalidField(field: "level", reason: .text("must be one of " + DisputeLevel.allCases.map(\.rawValue).joined(separator: ", "))) }
            i.level = level
        }
        i.summary = v["summary"]
        i.riskFlags = RiskTrigger.allCases.filter { v["flag.\($0.rawValue)"] != nil }
        i.civilToCriminalRisk = v["civilToCriminalRisk"] != nil
        if let g = v["groupSize"]?.trimmingCharacters(in: .whitespaces), !g.isEmpty {
            guard let n = Int(g) else { throw DomainError.invalidField(field: "groupSize", reason: "must be a whole number") }
            i.groupSize = n
        }
        i.parties = try parties(v, count: partyCount)
        return i
    }

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let v = PopulationWebController.values(req)
        do {
            let view = try await DisputeAPIController.service(req).register(try Self.registerInput(v, partyCount: 4), actor: req.actor, access: DisputeService.access(p))
            // A mediator sees only the cases assigned to them: back to the list, which says so.
            if p.role == .mediator { return req.redirect(to: "/disputes?notice=registeredUnassigned", redirectType: .normal) }
            return req.redirect(to: "/disputes/\(view.dispute.id.uuidString.lowercased())?notice=registered", redirectType: .normal)
        } catch let e as DomainError {
            guard let inline = DisputeWebErrors.inline(e, form: "register", t: t) else { throw e }
            return try await Page.render(req, "dispute-new", try await Self.newData(req, v, error: inline), title: t["dw.new"]!, status: .unprocessableEntity)
        }
    }

    // MARK: The action panel of the case page

    struct MarkRow: Encodable { var id: String; var name: String; var mark: String; var marks: [Option] }
    struct AgreementView: Encodable {
        var form: String
        var formLabel: String
        var written: Bool
        var partiesInformation: String
        var facts: String
        var disputedMatters: String
        var responsibilities: String
        var agreedContent: String
        var performanceManner: String
        var performanceDeadline: String
        var recordedContent: String
        var recordedBy: String
        var mediatorSignature: String
        var committeeSeal: Bool
        var effectiveOn: String
        var missing: [String]
        var missingText: String
        var marks: [MarkRow]
    }
    struct SessionRow: Encodable { var heldOn: String; var place: String; var attendees: String; var minutes: String; var recordedBy: String }

    struct Panel: Encodable {
        var version: Int
        var canWrite: Bool
        var any: Bool
        var accept: Bool
        var reject: Bool
        var assign: Bool
        var session: Bool
        var escalate: Bool
        var risk: Bool
        var transfer: Bool
        var terminate: Bool
        var draft: Bool
        var sign: Bool
        var effect: Bool
        var judicial: Bool
        var court: Bool
        var startPerformance: Bool
        var performed: Bool
        var followUp: Bool
        var mediators: [Option]
        var parties: [Option]
        var rejectReasons: [Option]
        var terminateReasons: [Option]
        var riskGrades: [Option]
        var agreement: AgreementView?
        var sessions: [SessionRow]
        var incidents: [Option]
        var today: String
        var deadline: String
        /// The fields of the session and agreement forms: what the user typed in a refused form,
        /// else the draft agreement's contents (every key present, possibly empty).
        var form: [String: String]
        var error: DisputeWebErrors.Inline?
        /// Where the error is shown: next to the form group that was sent, or at the top of the
        /// actions when that group is no longer offered (e.g. the case moved on meanwhile).
        var errorAt: String = ""
    }

    /// The form group of an action (one inline error place per group).
    static func errorGroup(_ action: String) -> String {
        switch action {
        case "accept", "reject": "decide"
        case "assign", "session", "agreement", "sign", "effect", "judicial", "followUp", "performed": action
        case "courtConfirms", "courtRejectsRemediate", "courtRejectsClose": "court"
        case "startPerformance": "performance"
        case "disputeOverAgreement": "performed"
        case "escalate", "risk", "transfer", "terminate": "ladder"
        default: "top"
        }
    }

    static func context(_ v: DisputeService.DisputeView) -> DisputeWebErrors.Context {
        DisputeWebErrors.Context(
            partyNames: Dictionary(v.parties.map { ($0.id.uuidString.lowercased(), $0.name) }, uniquingKeysWith: { a, _ in a }),
            deadline: v.judicialConfirmationDeadline, state: v.dispute.state.rawValue)
    }

    static func panel(_ req: Request, _ v: DisputeService.DisputeView, error: DisputeWebErrors.Inline?, values: [String: String]) async throws -> Panel {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let d = v.dispute
        let w = p.has(.disputeWrite)
        let allowed = Set(v.allowedEvents)
        // Mediators do not appoint mediators (Art. 19; the service refuses it too).
        func can(_ e: DisputeEvent) -> Bool { w && allowed.contains(e) && !(e == .assignMediators && p.role == .mediator) }
        let mediating = d.state == .mediating
        let candidates = can(.assignMediators) ? try await DisputeAPIController.service(req).mediatorCandidates(for: d) : []
        let assigned = Set(v.mediators.map(\.accountID))
        let ctx = context(v)
        var agreement: AgreementView?
        if let a = v.agreement {
            let ag = a.agreement
            let missing = ag.missingForEffect(partyIDs: v.parties.map(\.id)).map { DisputeWebErrors.missingLabel($0, t, ctx) }
            agreement = AgreementView(
                form: ag.form.rawValue, formLabel: t["dw.form.\(ag.form.rawValue)"] ?? ag.form.rawValue, written: ag.form == .written,
                partiesInformation: ag.partiesInformation ?? "", facts: ag.facts ?? "", disputedMatters: ag.disputedMatters ?? "",
                responsibilities: ag.responsibilities ?? "", agreedContent: ag.agreedContent ?? "", performanceManner: ag.performanceManner ?? "",
                performanceDeadline: ag.performanceDeadline?.description ?? "", recordedContent: ag.recordedContent ?? "", recordedBy: ag.recordedBy ?? "",
                mediatorSignature: ag.mediatorSignature ?? "", committeeSeal: ag.committeeSeal, effectiveOn: a.effectiveOn?.description ?? "",
                missing: missing, missingText: missing.joined(separator: "、"),
                marks: v.parties.map { party in
                    let m = ag.partyMarks[party.id.uuidString.lowercased()]
                    return MarkRow(id: party.id.uuidString.lowercased(), name: party.name, mark: m.map { t["dw.mark.\($0.rawValue)"] ?? $0.rawValue } ?? "",
                                   marks: MediationAgreement.Mark.allCases.map { Option(value: $0.rawValue, label: t["dw.mark.\($0.rawValue)"] ?? $0.rawValue, selected: false) })
                })
        }
        let today = DisputeService.today(req.application.disputeSettings.clock()).description
        // Sessions record the username of who wrote them; the page shows display names.
        var recorders: [String: String] = [:]
        for u in Set(v.sessions.map(\.recordedBy)) {
            if let a = try await req.fengqiao.accounts.find(username: u, on: req.fengqiao.store.db) { recorders[u] = a.displayName }
        }
        let panel = Panel(
            version: d.version, canWrite: w, any: false,
            accept: can(.accept), reject: can(.reject), assign: can(.assignMediators), session: w && mediating,
            escalate: w && d.state.escalates && d.level.next != nil, risk: can(.escalationRisk), transfer: can(.transferToPolice), terminate: can(.terminate),
            draft: w && mediating, sign: w && mediating && v.agreement?.agreement.form == .written,
            effect: w && mediating && v.agreement != nil, judicial: can(.applyJudicialConfirmation), court: can(.courtConfirms),
            startPerformance: can(.startPerformance), performed: can(.performed), followUp: can(.followUpVisitRecorded),
            mediators: candidates.filter { !assigned.contains($0.0) }.map { Option(value: $0.0.uuidString.lowercased(), label: $0.1, selected: $0.0.uuidString.lowercased() == values["mediator1"]) },
            parties: v.parties.map { Option(value: $0.id.uuidString.lowercased(), label: $0.name, selected: false) },
            rejectReasons: [DisputeStopReason.partyRefuses, .notCivil].map { Option(value: $0.rawValue, label: t["dw.reason.\($0.rawValue)"]!, selected: values["reason"] == $0.rawValue) },
            terminateReasons: [DisputeStopReason.failed, .partyWithdraws].map { Option(value: $0.rawValue, label: t["dw.reason.\($0.rawValue)"]!, selected: values["reason"] == $0.rawValue) },
            riskGrades: [RiskGrade.orange, .red].map { Option(value: $0.rawValue, label: t["dispute.risk.\($0.rawValue)"] ?? $0.nameZH, selected: values["riskGrade"] == $0.rawValue) },
            agreement: agreement,
            sessions: v.sessions.map { SessionRow(heldOn: $0.heldOn.description, place: $0.place, attendees: $0.attendees.joined(separator: "、"), minutes: $0.minutes, recordedBy: recorders[$0.recordedBy] ?? $0.recordedBy) },
            incidents: v.incidentIDs.enumerated().map { Option(value: $0.element.uuidString.lowercased(), label: "\(t["inc.title"]!) \($0.offset + 1)", selected: false) },
            today: today, deadline: v.judicialConfirmationDeadline?.description ?? "", form: formValues(values, agreement, today: today), error: error)
        var out = panel
        if let e = error {
            let group = errorGroup(e.form)
            let shown: [String: Bool] = [
                "decide": out.accept || out.reject, "assign": out.assign, "session": out.session, "agreement": out.draft, "sign": out.sign,
                "effect": out.effect, "judicial": out.judicial, "court": out.court, "performance": out.startPerformance, "performed": out.performed,
                "followUp": out.followUp, "ladder": out.escalate || out.risk || out.transfer || out.terminate,
            ]
            out.errorAt = shown[group] == true ? group : "top"
        }
        out.any = [out.accept, out.reject, out.assign, out.session, out.escalate, out.risk, out.transfer, out.terminate, out.draft, out.sign, out.effect,
                   out.judicial, out.court, out.startPerformance, out.performed, out.followUp].contains(true)
        return out
    }

    static let formKeys = [
        "heldOn", "place", "attendees", "minutes", "form", "partiesInformation", "facts", "disputedMatters", "responsibilities", "agreedContent",
        "performanceManner", "performanceDeadline", "recordedContent", "recordedBy",
    ]

    static func formValues(_ values: [String: String], _ a: AgreementView?, today: String) -> [String: String] {
        var out: [String: String] = [:]
        let fromAgreement: [String: String] = a.map {
            [
                "form": $0.form, "partiesInformation": $0.partiesInformation, "facts": $0.facts, "disputedMatters": $0.disputedMatters,
                "responsibilities": $0.responsibilities, "agreedContent": $0.agreedContent, "performanceManner": $0.performanceManner,
                "performanceDeadline": $0.performanceDeadline, "recordedContent": $0.recordedContent, "recordedBy": $0.recordedBy,
            ]
        } ?? [:]
        for k in formKeys { out[k] = values[k] ?? fromAgreement[k] ?? "" }
        if out["heldOn"] == "" { out["heldOn"] = today }
        if out["form"] == "" { out["form"] = "written" }
        return out
    }

    // MARK: Actions

    /// Refuses a form drawn from an older version of the case (for the actions whose service
    /// function does not take a version: sessions, the agreement draft and its marks).
    static func checkVersion(_ req: Request, _ id: UUID, _ v: [String: String], access: DisputeAccess) async throws {
        let current = try await DisputeAPIController.service(req).disputes.find(id, access: access, on: req.fengqiao.store.db)
        guard let raw = v["version"], let version = Int(raw) else { throw DomainError.invalidField(field: "version", reason: "is required (the version of the case you read)") }
        if version != current.version {
            throw DomainError.conflict(field: "version", reason: "the case changed since version \(version) (now \(current.version)); reload it and try again")
        }
    }

    static func text(_ v: [String: String], _ k: String) -> String? {
        guard let s = v[k]?.trimmingCharacters(in: .whitespacesAndNewlines), !s.isEmpty else { return nil }
        return s
    }

    static func date(_ v: [String: String], _ k: String) throws -> CalendarDate? {
        guard let s = text(v, k) else { return nil }
        guard let d = CalendarDate(iso: s) else { throw DomainError.invalidField(field: k, reason: "is not a calendar date YYYY-MM-DD") }
        return d
    }

    static func event(_ e: DisputeEvent, _ v: [String: String]) -> DisputeService.EventInput {
        var i = DisputeService.EventInput()
        i.event = e.rawValue
        i.version = v["version"].flatMap { Int($0) }
        i.note = text(v, "note")
        return i
    }

    func act(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let id = try req.uuid("id", kind: "dispute")
        let v = PopulationWebController.values(req)
        let action = v["action"] ?? ""
        let svc = DisputeAPIController.service(req)
        let access = DisputeService.access(p)
        let actor = req.actor
        do {
            switch action {
            case "accept":
                _ = try await svc.apply(id, Self.event(.accept, v), actor: actor, access: access)
            case "reject", "terminate":
                var e = Self.event(action == "reject" ? .reject : .terminate, v)
                e.reason = Self.text(v, "reason").flatMap(DisputeStopReason.init(rawValue:))
                _ = try await svc.apply(id, e, actor: actor, access: access)
            case "assign":
                var e = Self.event(.assignMediators, v)
                let isParty = try TerritoryWebController.uuidField(Self.text(v, "isParty"), "mediators")
                let related = v.keys.filter { $0.hasPrefix("related.") }.compactMap { UUID(uuidString: String($0.dropFirst("related.".count))) }
                e.mediators = try ["mediator1", "mediator2"].compactMap { Self.text(v, $0) }.map { raw in
                    guard let aid = UUID(uuidString: raw) else { throw DomainError.invalidField(field: "mediators", reason: "at least one mediator is required (Art. 19)") }
                    return DisputeService.MediatorInput(accountId: aid, residentId: isParty, relatedPartyIds: related)
                }
                _ = try await svc.apply(id, e, actor: actor, access: access)
            case "session":
                try await Self.checkVersion(req, id, v, access: access)
                let attendees = (v["attendees"] ?? "").components(separatedBy: CharacterSet(charactersIn: "\n、,，;；")).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
                let i = DisputeService.SessionInput(heldOn: try Self.date(v, "heldOn"), place: Self.text(v, "place"), attendees: attendees, minutes: Self.text(v, "minutes"))
                _ = try await svc.addSession(id, i, actor: actor, access: access)
            case "escalate":
                _ = try await svc.escalate(id, version: v["version"].flatMap { Int($0) }, note: Self.text(v, "note"), actor: actor, access: access)
            case "risk":
                var e = Self.event(.escalationRisk, v)
                e.riskGrade = Self.text(v, "riskGrade").flatMap(RiskGrade.init(rawValue:))
                _ = try await svc.apply(id, e, actor: actor, access: access)
            case "transfer":
                _ = try await svc.apply(id, Self.event(.transferToPolice, v), actor: actor, access: access)
            case "agreement":
                try await Self.checkVersion(req, id, v, access: access)
                let form = MediationAgreement.Form(rawValue: v["form"] ?? "") ?? .written
                // A changed draft is signed afresh: marks given to the earlier text do not carry over.
                let a = MediationAgreement(
                    form: form, kind: .people, partiesInformation: Self.text(v, "partiesInformation"), facts: Self.text(v, "facts"),
                    disputedMatters: Self.text(v, "disputedMatters"), responsibilities: Self.text(v, "responsibilities"), agreedContent: Self.text(v, "agreedContent"),
                    performanceManner: Self.text(v, "performanceManner"), performanceDeadline: try Self.date(v, "performanceDeadline"),
                    partyMarks: [:], mediatorSignature: nil, committeeSeal: false,
                    recordedContent: Self.text(v, "recordedContent"), recordedBy: Self.text(v, "recordedBy"))
                _ = try await svc.saveAgreement(id, a, actor: actor, access: access)
            case "sign":
                try await Self.checkVersion(req, id, v, access: access)
                let i = DisputeService.SignInput(
                    partyId: try TerritoryWebController.uuidField(Self.text(v, "partyId"), "partyId"), mark: Self.text(v, "mark").flatMap(MediationAgreement.Mark.init(rawValue:)),
                    mediatorSignature: Self.text(v, "mediatorSignature"), committeeSeal: v["committeeSeal"] != nil ? true : nil)
                _ = try await svc.sign(id, i, actor: actor, access: access)
            case "effect":
                _ = try await svc.disputes.find(id, access: access, on: req.fengqiao.store.db)
                guard let a = try await svc.disputes.agreement(id, on: req.fengqiao.store.db) else {
                    throw DomainError.invalidField(field: "agreement", reason: "record the agreement first")
                }
                _ = try await svc.apply(id, Self.event(a.agreement.form == .written ? .agreeWritten : .agreeOral, v), actor: actor, access: access)
            case "judicial":
                var e = Self.event(.applyJudicialConfirmation, v)
                e.appliedOn = try Self.date(v, "appliedOn")
                _ = try await svc.apply(id, e, actor: actor, access: access)
            case "courtConfirms", "courtRejectsRemediate", "courtRejectsClose", "startPerformance", "performed", "disputeOverAgreement":
                _ = try await svc.apply(id, Self.event(DisputeEvent(rawValue: action)!, v), actor: actor, access: access)
            case "followUp":
                _ = try await svc.apply(id, Self.event(.followUpVisitRecorded, v), actor: actor, access: access)
            default:
                throw DomainError.invalidField(field: "action", reason: "unknown action")
            }
        } catch let e as DomainError {
            if case .notFound = e { throw e }
            let view = try await svc.view(try await svc.disputes.find(id, access: access, on: req.fengqiao.store.db))
            guard let inline = DisputeWebErrors.inline(e, form: action, t: t, context: Self.context(view)) else { throw e }
            let status: HTTPResponseStatus
            switch e {
            case .conflict: status = .conflict
            case .forbidden: status = .forbidden
            default: status = .unprocessableEntity
            }
            return try await DisputeWebController.renderDetail(req, id: id, actionError: inline, values: v, status: status)
        }
        return req.redirect(to: "/disputes/\(id.uuidString.lowercased())?notice=done#actions", redirectType: .normal)
    }
}
