import FengqiaoCore
import FengqiaoStore
import Vapor

/// 警情 pages (issue 4, web; domain spec §3.7, §4.6): the incidents of the user's territory
/// (newest first, paginated, repeat and duplicate marks), intake (接警) with the §3.7.1 category
/// codes and priority, and one incident with its handling: dispatch and arrival times and the
/// disposition — settled on site, turned into a dispute (then the new dispute opens), case
/// opened, invalid — and feedback to the caller.
///
/// Reads need `incident:read`, intake and handling `incident:write`; turning an incident into a
/// dispute also needs `dispute:write` (as the API). Caller phones and party ID numbers are masked;
/// opening an incident is audited as a read of them. An incident outside the territory is 404
/// for reads and writes alike. The work is done by `DisputeService`.
struct IncidentWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("incidents", access: .permission(.incidentRead), use: list)
        routes.get("incidents", "new", access: .permission(.incidentWrite), use: newForm)
        routes.post("incidents", "new", access: .permission(.incidentWrite), use: create)
        routes.get("incidents", ":id", access: .permission(.incidentRead), use: detail)
        routes.post("incidents", ":id", "act", access: .permission(.incidentWrite), use: act)
    }

    typealias Option = DisputeActionWebController.Option
    static let pageSize = 50

    struct Row: Encodable {
        var id: String
        var reported: String
        var category: String
        var categoryCode: String
        var priority: String
        var state: String
        var place: String
        var summary: String
        var isRepeat: Bool
        var repeatOf: String
        var duplicateOf: String
        var disputeId: String
    }

    struct ListData: Encodable {
        var rows: [Row]
        var total: Int
        var page: Int
        var pages: Int
        var pageLabel: String
        var prev: Int
        var next: Int
        var canCreate: Bool
    }

    static func stateLabel(_ s: IncidentState, _ t: [String: String]) -> String { t["inc.state.\(s.rawValue)"] ?? s.rawValue }

    /// Place of an incident: its standard address, else its grid, else the point.
    static func places(_ req: Request, _ items: [IncidentRecord]) async throws -> [UUID: String] {
        let db = req.fengqiao.store.db
        var out: [UUID: String] = [:]
        let grids = try await DisputeStatisticsRepository().names(table: "grids", ids: Array(Set(items.map(\.gridID))), on: db)
        let addresses = try await AddressRepository().find(ids: items.compactMap(\.addressID), visible: .everything, on: db).mapValues { $0.formatted() }
        for i in items {
            let grid = grids[i.gridID.uuidString.lowercased()] ?? ""
            if let a = i.addressID, let text = addresses[a] { out[i.id] = text + (grid.isEmpty ? "" : " · \(grid)") }
            else if let p = i.location { out[i.id] = String(format: "%.5f, %.5f", p.lon, p.lat) + (grid.isEmpty ? "" : " · \(grid)") }
            else { out[i.id] = grid }
        }
        return out
    }

    static func row(_ i: IncidentRecord, place: String, _ t: [String: String]) -> Row {
        Row(
            id: i.id.uuidString.lowercased(), reported: ImportWebController.time(i.reportedAt), category: i.category.nameZH, categoryCode: i.category.rawValue,
            priority: t["inc.priority.\(i.priority.rawValue)"] ?? i.priority.rawValue, state: stateLabel(i.state, t), place: place,
            summary: i.summary, isRepeat: i.isRepeat, repeatOf: i.repeatOf?.uuidString.lowercased() ?? "", duplicateOf: i.duplicateOf?.uuidString.lowercased() ?? "",
            disputeId: i.disputeID?.uuidString.lowercased() ?? "")
    }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let page = max(1, req.query[Int.self, at: "page"] ?? 1)
        let (items, total) = try await DisputeAPIController.service(req).incidents(visible: p.visible, limit: Self.pageSize, offset: (page - 1) * Self.pageSize)
        let places = try await Self.places(req, items)
        let pages = max(1, (total + Self.pageSize - 1) / Self.pageSize)
        let data = ListData(
            rows: items.map { Self.row($0, place: places[$0.id] ?? "", t) }, total: total, page: page, pages: pages,
            pageLabel: DisputeWebErrors.fill(t["inc.page"]!, String(page), String(pages)), prev: page > 1 ? page - 1 : 0, next: page < pages ? page + 1 : 0,
            canCreate: p.has(.incidentWrite))
        return try await Page.render(req, "incidents", data, title: t["inc.title"]!)
    }

    // MARK: Intake

    struct NewData: Encodable {
        var categories: [Option]
        var priorities: [Option]
        var addresses: [Option]
        var search: DisputeActionWebController.AddressSearch
        var grids: [Option]
        var v: [String: String]
        var error: DisputeWebErrors.Inline?
    }

    static func newData(_ req: Request, _ v: [String: String], error: DisputeWebErrors.Inline?) async throws -> NewData {
        let t = Page.t(req)
        let priority = v["priority"] ?? IncidentPriority.p3.rawValue
        let grids = try await DisputeActionWebController.gridOptions(req, selected: v["gridId"])
        let addresses = try await DisputeActionWebController.addressOptions(req, selected: v["addressId"])
        return NewData(
            categories: IncidentCategory.allCases.map { Option(value: $0.rawValue, label: "\($0.rawValue) \($0.nameZH)", selected: $0.rawValue == v["category"]) },
            priorities: IncidentPriority.allCases.map { Option(value: $0.rawValue, label: t["inc.priority.\($0.rawValue)"] ?? $0.rawValue, selected: $0.rawValue == priority) },
            addresses: addresses, search: DisputeActionWebController.addressSearch(req, grids: grids, shown: addresses.count),
            grids: grids,
            v: Dictionary(uniqueKeysWithValues: ["reportedAt", "lon", "lat", "callerName", "summary"].map { ($0, v[$0] ?? "") }), error: error)
    }

    func newForm(_ req: Request) async throws -> Response {
        try await Page.render(req, "incident-new", try await Self.newData(req, [:], error: nil), title: Page.t(req)["inc.new"]!)
    }

    /// A `datetime-local` value (`YYYY-MM-DDTHH:MM`) in China Standard Time.
    static func localTime(_ raw: String?, field: String) throws -> Date? {
        guard let s = raw?.trimmingCharacters(in: .whitespaces), !s.isEmpty else { return nil }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Asia/Shanghai")
        for format in ["yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm"] {
            f.dateFormat = format
            if let d = f.date(from: s) { return d }
        }
        throw DomainError.invalidField(field: field, reason: "is not a date and time YYYY-MM-DDTHH:MM")
    }

    static func input(_ v: [String: String]) throws -> PoliceIncidentInput {
        func text(_ k: String) -> String? { DisputeActionWebController.text(v, k) }
        var location: GeoPoint?
        if text("lon") != nil || text("lat") != nil {
            guard let lon = text("lon").flatMap(Double.init), let lat = text("lat").flatMap(Double.init) else {
                throw DomainError.invalidField(field: "location", reason: "give both longitude and latitude as decimal degrees")
            }
            location = GeoPoint(lon: lon, lat: lat)
        }
        var priority: IncidentPriority?
        if let raw = text("priority") {
            guard let p = IncidentPriority(rawValue: raw) else { throw DomainError.invalidField(field: "priority", reason: "must be p1, p2 or p3") }
            priority = p
        }
        return PoliceIncidentInput(
            category: v["category"] ?? "", priority: priority, reportedAt: try localTime(v["reportedAt"], field: "reportedAt"),
            addressId: try TerritoryWebController.uuidField(text("addressId"), "addressId"), gridId: try TerritoryWebController.uuidField(text("gridId"), "gridId"),
            location: location, callerName: text("callerName"), callerPhone: text("callerPhone"), partyIdNumber: text("partyIdNumber"), summary: text("summary"))
    }

    static func labels(_ t: [String: String]) -> [String: String] {
        ["category": t["inc.category"]!, "summary": t["inc.summary"]!, "note": t["inc.note"]!]
    }

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        var v = PopulationWebController.values(req)
        do {
            let o = try await DisputeAPIController.service(req).receiveIncident(try Self.input(v), actor: req.actor, visible: p.visible)
            var notice = "received"
            switch o.repeatOutcome {
            case .repeat: notice = o.riskRaisedTo != nil ? "raised" : "repeat"
            case .duplicate: notice = "duplicate"
            case .first: break
            }
            return req.redirect(to: "/incidents/\(o.incident.id.uuidString.lowercased())?notice=\(notice)", redirectType: .normal)
        } catch let e as DomainError {
            guard let inline = DisputeWebErrors.inline(e, form: "intake", t: t, context: .init(labels: Self.labels(t), incident: true)) else { throw e }
            // Phone and ID number are not echoed back into the page.
            v["callerPhone"] = nil
            v["partyIdNumber"] = nil
            return try await Page.render(req, "incident-new", try await Self.newData(req, v, error: inline), title: t["inc.new"]!, status: .unprocessableEntity)
        }
    }

    // MARK: One incident

    struct TimelineRow: Encodable { var at: String; var actor: String; var kind: String; var detail: String }
    struct DetailData: Encodable {
        var i: Row
        var priorityLabel: String
        var callerName: String
        var callerPhone: String
        var partyIdNumber: String
        var dispatched: String
        var arrived: String
        var gridWorker: String
        var notified: String
        var officer: String
        var disposed: String
        var disposition: String
        var timeline: [TimelineRow]
        var canWrite: Bool
        var dispatch: Bool
        var arrive: Bool
        var onScene: Bool
        var invalid: Bool
        var feedback: Bool
        var convert: Bool
        var officers: [Option]
        var categories: [Option]
        var levels: [Option]
        var parties: [DisputeActionWebController.PartyRow]
        var flags: [Option]
        var summary: String
        var v: [String: String]
        var notice: String?
        var error: DisputeWebErrors.Inline?
    }

    func detail(_ req: Request) async throws -> Response {
        try await Self.renderDetail(req, id: try req.uuid("id", kind: "incident"))
    }

    static func renderDetail(_ req: Request, id: UUID, error: DisputeWebErrors.Inline? = nil, values: [String: String] = [:], status: HTTPResponseStatus = .ok) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = DisputeAPIController.service(req)
        let i = try await svc.incident(id, visible: p.visible)
        try await req.fengqiao.record(req.actor.draft(.read, objectType: "incident", objectID: id.uuidString.lowercased(), fields: ["callerPhone", "partyIdNumber"]))
        let (handling, timeline) = try await svc.incidentTimeline(id, visible: p.visible)
        let place = try await places(req, [i])[i.id] ?? ""
        // The incident timeline records usernames; the page shows display names.
        var names: [String: String] = [:]
        for u in Set(timeline.map(\.actorName)) where u != "system" {
            if let a = try await req.fengqiao.accounts.find(username: u, on: req.fengqiao.store.db) { names[u] = a.displayName }
        }
        let w = p.has(.incidentWrite)
        func can(_ e: IncidentEvent) -> Bool { w && (try? IncidentMachine.next(i.state, e)) != nil }
        let officers = can(.dispatch) ? try await DisputeJointRepository().accounts(role: .communityPoliceOfficer, territoryID: i.communityID, on: req.fengqiao.store.db) : []
        var v = values
        if v["summary"] == nil { v["summary"] = i.summary }
        if v["p0.name"] == nil, let c = i.callerName { v["p0.name"] = c }
        let flags: [RiskTrigger] = [.threatOfViolence, .weapons, .partyUnderSpecialManagement, .priorPhysicalConflict, .largeAmount]
        let defaultCategory = v["category"] ?? (i.category == .dispute ? DisputeCategory.neighbour.rawValue : "")
        let level = v["level"] ?? DisputeLevel.grid.rawValue
        let data = DetailData(
            i: row(i, place: place, t), priorityLabel: t["inc.priority.\(i.priority.rawValue)"] ?? i.priority.rawValue, callerName: i.callerName ?? "",
            callerPhone: i.callerPhone?.masked ?? "", partyIdNumber: i.partyIDNumber.map(Masking.idNumber) ?? "",
            dispatched: ImportWebController.time(i.dispatchedAt), arrived: ImportWebController.time(i.arrivedAt),
            gridWorker: handling?.gridWorkerName ?? "", notified: ImportWebController.time(handling?.notifiedAt), officer: handling?.officerName ?? "",
            disposed: ImportWebController.time(handling?.disposedAt), disposition: i.disposition.map { t["inc.event.\($0.rawValue)"] ?? $0.rawValue } ?? "",
            timeline: timeline.map {
                TimelineRow(at: ImportWebController.time($0.at), actor: $0.actorName == "system" ? t["dw.system"]! : names[$0.actorName] ?? $0.actorName,
                            kind: t["inc.event.\($0.kind)"] ?? $0.kind, detail: TimelineText.incident($0.detail, zh: Page.lang(req) == .zh))
            },
            canWrite: w, dispatch: can(.dispatch), arrive: can(.arrive), onScene: can(.resolveOnSite), invalid: can(.markInvalid), feedback: can(.feedbackToCaller),
            convert: can(.convertToDispute) && p.has(.disputeWrite),
            officers: officers.map { Option(value: $0.0.uuidString.lowercased(), label: $0.1, selected: false) },
            categories: DisputeCategory.allCases.map { Option(value: $0.rawValue, label: "\($0.rawValue) \($0.nameZH)", selected: $0.rawValue == defaultCategory) },
            levels: DisputeLevel.allCases.map { Option(value: $0.rawValue, label: t["dispute.level.\($0.rawValue)"] ?? $0.nameZH, selected: $0.rawValue == level) },
            parties: DisputeActionWebController.partyRows(v, count: 3, t),
            flags: flags.map { Option(value: $0.rawValue, label: t["dw.trigger.\($0.rawValue)"] ?? $0.rawValue, selected: v["flag.\($0.rawValue)"] != nil) },
            summary: v["summary"] ?? "", v: v,
            notice: error == nil ? req.query[String.self, at: "notice"].flatMap { t["inc.notice.\($0)"] } : nil, error: error)
        return try await Page.render(req, "incident", data, title: "\(t["inc.title"]!) · \(i.category.nameZH)", status: status)
    }

    func act(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let id = try req.uuid("id", kind: "incident")
        let v = PopulationWebController.values(req)
        let action = v["action"] ?? ""
        let svc = DisputeAPIController.service(req)
        do {
            var i = DisputeService.IncidentEventInput()
            i.note = DisputeActionWebController.text(v, "note")
            switch action {
            case "dispatch":
                i.officerId = try TerritoryWebController.uuidField(DisputeActionWebController.text(v, "officerId"), "officerId")
            case "arrive", "resolveOnSite", "openCase", "markInvalid", "feedbackToCaller":
                break
            case "convertToDispute":
                guard p.has(.disputeWrite) else { throw DomainError.forbidden(reason: "turning an incident into a dispute needs \(Permission.disputeWrite.rawValue)") }
                var d = try DisputeActionWebController.registerInput(v, partyCount: 3)
                d.source = DisputeSource.policeIncident.rawValue
                i.dispute = d
            default:
                throw DomainError.invalidField(field: "action", reason: "unknown action")
            }
            i.event = action
            let (_, dispute) = try await svc.incidentEvent(id, i, actor: req.actor, access: DisputeService.access(p))
            if let d = dispute {
                return req.redirect(to: "/disputes/\(d.dispute.id.uuidString.lowercased())?notice=converted", redirectType: .normal)
            }
            return req.redirect(to: "/incidents/\(id.uuidString.lowercased())?notice=done", redirectType: .normal)
        } catch let e as DomainError {
            guard let inline = DisputeWebErrors.inline(e, form: action, t: t, context: .init(labels: Self.labels(t), incident: true)) else { throw e }
            _ = try await svc.incident(id, visible: p.visible)
            var shown = v
            for k in v.keys where k.hasSuffix(".idNumber") || k.hasSuffix(".phone") { shown[k] = nil }
            let status: HTTPResponseStatus
            switch e {
            case .conflict: status = .conflict
            case .forbidden: status = .forbidden
            default: status = .unprocessableEntity
            }
            return try await Self.renderDetail(req, id: id, error: inline, values: shown, status: status)
        }
    }
}
