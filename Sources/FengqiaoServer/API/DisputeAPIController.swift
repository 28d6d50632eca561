import FengqiaoCore
import FengqiaoStore
import Vapor

/// Disputes (矛盾纠纷) and police incidents (警情) in the JSON API (issue 4, domain spec §3.2–3.7,
/// §4.1, §4.6). Parties' ID numbers and phones are masked in every answer; every read of a case
/// (with its parties) and every change is audited. Mediators see only their assigned cases, grid
/// workers their grid's, officers and governance-centre staff their community's; anything else
/// answers 404 for reads and writes alike. A transition names the `version` it read; a stale
/// version answers 409 "the case changed".
struct DisputeAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("disputes", access: .permission(.disputeRead), use: list)
        api.post("disputes", access: .permission(.disputeWrite), use: create).idempotent()
        api.post("disputes", "escalations", access: .permission(.disputeWrite), use: escalateDue)
        api.get("disputes", ":id", access: .permission(.disputeRead), use: get)
        api.get("disputes", ":id", "timeline", access: .permission(.disputeRead), use: timeline)
        api.post("disputes", ":id", "events", access: .permission(.disputeWrite), use: event)
        api.post("disputes", ":id", "escalate", access: .permission(.disputeWrite), use: escalate)
        api.post("disputes", ":id", "sessions", access: .permission(.disputeWrite), use: session).idempotent()
        api.post("disputes", ":id", "agreement", access: .permission(.disputeWrite), use: agreement).idempotent()
        api.post("disputes", ":id", "agreement", "sign", access: .permission(.disputeWrite), use: sign)
        api.post("disputes", ":id", "agreement", "effect", access: .permission(.disputeWrite), use: effect)
        api.post("incidents", access: .permission(.incidentWrite), use: createIncident).idempotent()
        api.post("incidents", "batch", access: .permission(.incidentWrite), use: createIncidents).idempotent()
        api.get("incidents", access: .permission(.incidentRead), use: listIncidents)
        api.get("incidents", ":id", access: .permission(.incidentRead), use: getIncident)
        api.post("incidents", ":id", "events", access: .permission(.incidentWrite), use: incidentEvent)
        try DisputeJointAPIController().boot(routes: api)
    }

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    static func service(_ req: Request) -> DisputeService { DisputeService(req.fengqiao, settings: req.application.disputeSettings) }

    struct PartyDTO: Encodable {
        var id: UUID
        var role: DisputeParty.Role
        var name: String
        var residentId: UUID?
        var idNumber: String?
        var phone: String?
        var masked = true
        init(_ p: DisputeParty) {
            id = p.id
            role = p.role
            name = p.name
            residentId = p.residentID
            idNumber = p.idNumber.map(Masking.idNumber)
            phone = p.phone?.masked
        }
    }

    struct SummaryDTO: Encodable {
        var id: UUID
        var version: Int
        var state: DisputeState
        var category: DisputeCategory
        var categoryName: String
        var source: DisputeSource
        var riskGrade: RiskGrade
        var riskFlags: [RiskTrigger]
        var civilToCriminalRisk: Bool
        var level: DisputeLevel
        var levelSince: Date
        var levelDueAt: Date?
        var settledLevel: DisputeLevel?
        var gridId: UUID
        var communityId: UUID
        var addressId: UUID?
        var incidentId: UUID?
        var summary: String
        var stopReason: String?
        var effectiveOn: CalendarDate?
        var registeredAt: Date
        var closedAt: Date?
        init(_ d: DisputeRecord) {
            id = d.id
            version = d.version
            state = d.state
            category = d.category
            categoryName = d.category.nameZH
            source = d.source
            riskGrade = d.risk
            riskFlags = d.riskFlags.sorted { $0.rawValue < $1.rawValue }
            civilToCriminalRisk = d.civilToCriminalRisk
            level = d.level
            levelSince = d.levelSince
            levelDueAt = d.levelDueAt
            settledLevel = d.settledLevel
            gridId = d.gridID
            communityId = d.communityID
            addressId = d.addressID
            incidentId = d.incidentID
            summary = d.summary
            stopReason = d.stopReason
            effectiveOn = d.effectiveOn
            registeredAt = d.registeredAt
            closedAt = d.closedAt
        }
    }

    struct AgreementDTO: Encodable {
        var id: UUID
        var agreement: MediationAgreement
        var effectiveOn: CalendarDate?
        var missingForEffect: [String]
        init(_ a: DisputeAgreementRecord, partyIDs: [UUID]) {
            id = a.id
            agreement = a.agreement
            effectiveOn = a.effectiveOn
            missingForEffect = a.agreement.missingForEffect(partyIDs: partyIDs)
        }
    }

    struct DisputeDTO: Encodable {
        var dispute: SummaryDTO
        var parties: [PartyDTO]
        var mediators: [DisputeMediator]
        var sessions: [DisputeSession]
        var agreement: AgreementDTO?
        var incidentIds: [UUID]
        var allowedEvents: [DisputeEvent]
        var judicialConfirmationDeadline: CalendarDate?
        init(_ v: DisputeService.DisputeView) {
            dispute = SummaryDTO(v.dispute)
            parties = v.parties.map(PartyDTO.init)
            mediators = v.mediators
            sessions = v.sessions
            agreement = v.agreement.map { AgreementDTO($0, partyIDs: v.parties.map(\.id)) }
            incidentIds = v.incidentIDs
            allowedEvents = v.allowedEvents
            judicialConfirmationDeadline = v.judicialConfirmationDeadline
        }
    }

    static func location(_ id: UUID) -> String { "/api/v1/disputes/\(id.uuidString.lowercased())" }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (limit, offset) = try PopulationAPIController.paging(req)
        let state = try OrganizationAPIController.enumQuery(req, "state", as: DisputeState.self)
        let (items, total) = try await Self.service(req).list(access: DisputeService.access(p), state: state, limit: limit, offset: offset)
        return try JSONOut.response(Page(items: items.map(SummaryDTO.init), total: total))
    }

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = try await Self.service(req).register(try JSONIn.decode(DisputeService.RegisterInput.self, req), actor: req.actor, access: DisputeService.access(p))
        return try JSONOut.response(DisputeDTO(v), status: .created, location: Self.location(v.dispute.id))
    }

    func get(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = try await Self.service(req).get(try req.uuid("id", kind: "dispute"), actor: req.actor, access: DisputeService.access(p))
        return try JSONOut.response(DisputeDTO(v))
    }

    func timeline(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let items = try await Self.service(req).timeline(try req.uuid("id", kind: "dispute"), access: DisputeService.access(p))
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    func event(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = try await Self.service(req).apply(try req.uuid("id", kind: "dispute"), try JSONIn.decode(DisputeService.EventInput.self, req), actor: req.actor, access: DisputeService.access(p))
        return try JSONOut.response(DisputeDTO(v))
    }

    struct EscalateIn: Decodable { var version: Int?; var note: String? }
    func escalate(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(EscalateIn.self, req)
        let v = try await Self.service(req).escalate(try req.uuid("id", kind: "dispute"), version: i.version, note: i.note, actor: req.actor, access: DisputeService.access(p))
        return try JSONOut.response(DisputeDTO(v))
    }

    struct EscalatedOut: Encodable { var escalated: [UUID] }
    func escalateDue(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(EscalatedOut(escalated: try await Self.service(req).escalateDue(actor: req.actor, access: DisputeService.access(p))))
    }

    func session(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        let s = try await Self.service(req).addSession(id, try JSONIn.decode(DisputeService.SessionInput.self, req), actor: req.actor, access: DisputeService.access(p))
        return try JSONOut.response(s, status: .created, location: Self.location(id) + "/timeline")
    }

    func agreement(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        let svc = Self.service(req)
        let a = try await svc.saveAgreement(id, try JSONIn.decode(MediationAgreement.self, req), actor: req.actor, access: DisputeService.access(p))
        let parties = try await svc.disputes.parties(id, on: req.fengqiao.store.db).map(\.id)
        return try JSONOut.response(AgreementDTO(a, partyIDs: parties), status: .created, location: Self.location(id))
    }

    func sign(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        let svc = Self.service(req)
        let a = try await svc.sign(id, try JSONIn.decode(DisputeService.SignInput.self, req), actor: req.actor, access: DisputeService.access(p))
        let parties = try await svc.disputes.parties(id, on: req.fengqiao.store.db).map(\.id)
        return try JSONOut.response(AgreementDTO(a, partyIDs: parties))
    }

    struct EffectIn: Decodable { var version: Int? }
    /// The agreement takes effect: the `agreeWritten` / `agreeOral` transition for the recorded form.
    func effect(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "dispute")
        let svc = Self.service(req)
        let access = DisputeService.access(p)
        _ = try await svc.disputes.find(id, access: access, on: req.fengqiao.store.db)
        guard let a = try await svc.disputes.agreement(id, on: req.fengqiao.store.db) else {
            throw DomainError.invalidField(field: "agreement", reason: "record the agreement first")
        }
        var e = DisputeService.EventInput()
        e.event = a.agreement.form == .written ? DisputeEvent.agreeWritten.rawValue : DisputeEvent.agreeOral.rawValue
        e.version = try JSONIn.decode(EffectIn.self, req).version
        return try JSONOut.response(DisputeDTO(try await svc.apply(id, e, actor: req.actor, access: access)))
    }

    // MARK: Incidents

    struct IncidentDTO: Encodable {
        var id: UUID
        var category: IncidentCategory
        var categoryName: String
        var priority: IncidentPriority
        var state: IncidentState
        var gridId: UUID
        var communityId: UUID
        var addressId: UUID?
        var location: GeoPoint?
        var callerName: String?
        var callerPhone: String?
        var partyIdNumber: String?
        var summary: String
        var reportedAt: Date
        var dispatchedAt: Date?
        var arrivedAt: Date?
        var isRepeat: Bool
        var repeatOf: UUID?
        var duplicateOf: UUID?
        var disputeId: UUID?
        var disposition: IncidentEvent?
        var masked = true
        var repeatCountInWindow: Int?
        var riskRaisedTo: RiskGrade?
        init(_ i: IncidentRecord, outcome: DisputeService.IncidentOutcome? = nil) {
            id = i.id
            category = i.category
            categoryName = i.category.nameZH
            priority = i.priority
            state = i.state
            gridId = i.gridID
            communityId = i.communityID
            addressId = i.addressID
            location = i.location
            callerName = i.callerName
            callerPhone = i.callerPhone?.masked
            partyIdNumber = i.partyIDNumber.map(Masking.idNumber)
            summary = i.summary
            reportedAt = i.reportedAt
            dispatchedAt = i.dispatchedAt
            arrivedAt = i.arrivedAt
            isRepeat = i.isRepeat
            repeatOf = i.repeatOf
            duplicateOf = i.duplicateOf
            disputeId = i.disputeID
            disposition = i.disposition
            if case .repeat(_, let n)? = outcome?.repeatOutcome { repeatCountInWindow = n }
            riskRaisedTo = outcome?.riskRaisedTo
        }
    }

    func createIncident(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let o = try await Self.service(req).receiveIncident(try JSONIn.decode(PoliceIncidentInput.self, req), actor: req.actor, visible: p.visible)
        return try JSONOut.response(IncidentDTO(o.incident, outcome: o), status: .created, location: "/api/v1/incidents/\(o.incident.id.uuidString.lowercased())")
    }

    struct IncidentBatchIn: Decodable { var incidents: [IncidentBatchEntry]? }
    /// One entry of a batch, decoded on its own: a wrongly typed value (`"priority": "p9"`, a
    /// malformed UUID, a number where a string belongs) refuses that entry, not the batch.
    struct IncidentBatchEntry: Decodable {
        var input: PoliceIncidentInput?
        var problem: (field: String, reason: String)?
        init(from decoder: any Decoder) throws {
            do { input = try PoliceIncidentInput(from: decoder) } catch let e as DecodingError { problem = ProblemMiddleware.describe(e) }
        }
    }
    struct IncidentBatchProblem: Encodable { var field: String; var reason: String }
    struct IncidentBatchResult: Encodable { var index: Int; var status: Int; var incident: IncidentDTO?; var problem: IncidentBatchProblem? }
    struct IncidentBatchOut: Encodable { var stored: Int; var refused: Int; var results: [IncidentBatchResult] }

    /// `POST /api/v1/incidents/batch` `{"incidents": [PoliceIncidentInput…]}` (at most
    /// `DisputeService.incidentBatchLimit`): the dispatch system's feed. 200 with one result per
    /// entry, in order: `status` 201 and the incident (with its repeat outcome), or 422 and the
    /// field and reason; the good entries are stored in one transaction whatever the bad ones.
    func createIncidents(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        guard let inputs = try JSONIn.decode(IncidentBatchIn.self, req).incidents else {
            throw DomainError.invalidField(field: "incidents", reason: "is required (a list of incidents)")
        }
        guard !inputs.isEmpty else { throw DomainError.invalidField(field: "incidents", reason: "is empty") }
        // Entries that decoded go to the service (which checks the batch size and each entry);
        // the others are refused here with the field their decoding named.
        let decoded = inputs.enumerated().compactMap { n, e in e.input.map { (n, $0) } }
        let items = try await Self.service(req).receiveIncidents(decoded.map(\.1), actor: req.actor, visible: p.visible, count: inputs.count)
        var results: [IncidentBatchResult] = []
        for (n, e) in inputs.enumerated() {
            if let (field, reason) = e.problem {
                results.append(IncidentBatchResult(index: n, status: 422, problem: IncidentBatchProblem(field: field, reason: reason)))
            }
        }
        for ((n, _), item) in zip(decoded, items) {
            switch item {
            case .stored(let o): results.append(IncidentBatchResult(index: n, status: 201, incident: IncidentDTO(o.incident, outcome: o)))
            case .refused(let field, let reason): results.append(IncidentBatchResult(index: n, status: 422, problem: IncidentBatchProblem(field: "incidents[\(n)].\(field)", reason: reason)))
            }
        }
        results.sort { $0.index < $1.index }
        let stored = results.filter { $0.status == 201 }.count
        return try JSONOut.response(IncidentBatchOut(stored: stored, refused: results.count - stored, results: results))
    }

    /// `GET /api/v1/incidents?limit=&offset=`: the incidents of the caller's territory, newest
    /// first, caller phones and party ID numbers masked; the listing is audited.
    func listIncidents(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (limit, offset) = try PopulationAPIController.paging(req)
        let (items, total) = try await Self.service(req).incidents(visible: p.visible, limit: limit, offset: offset)
        try await req.fengqiao.record(req.actor.draft(.read, objectType: "incident", fields: ["list"], detail: "list: \(items.count) of \(total)"))
        return try JSONOut.response(Page(items: items.map { IncidentDTO($0) }, total: total))
    }

    func getIncident(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "incident")
        let i = try await Self.service(req).incident(id, visible: p.visible)
        try await req.fengqiao.record(req.actor.draft(.read, objectType: "incident", objectID: id.uuidString.lowercased(), fields: ["callerPhone", "partyIdNumber"]))
        return try JSONOut.response(IncidentDTO(i))
    }

    struct IncidentEventOut: Encodable { var incident: IncidentDTO; var dispute: DisputeDTO? }
    func incidentEvent(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let input = try JSONIn.decode(DisputeService.IncidentEventInput.self, req)
        if input.event == IncidentEvent.convertToDispute.rawValue, !p.has(.disputeWrite) {
            throw DomainError.forbidden(reason: "turning an incident into a dispute needs \(Permission.disputeWrite.rawValue)")
        }
        let (i, d) = try await Self.service(req).incidentEvent(try req.uuid("id", kind: "incident"), input, actor: req.actor, access: DisputeService.access(p))
        return try JSONOut.response(IncidentEventOut(incident: IncidentDTO(i), dispute: d.map(DisputeDTO.init)), status: d == nil ? .ok : .created,
                                    location: d.map { Self.location($0.dispute.id) })
    }
}
