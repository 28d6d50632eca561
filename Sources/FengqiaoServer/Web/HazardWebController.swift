import FengqiaoCore
import FengqiaoStore
import Foundation
import NIOFoundationCompat
import Vapor

/// Phone-sized pages of the whistle flow (吹哨报到, issue 5; domain spec §4.2–4.3): the report form
/// (隐患上报: category, photos from the camera, device position or building, description), the list
/// of the grid's events with due/overdue flags, and the event page with its photos (through the
/// access-checked photo route), timeline and the actions the user's role allows in the event's
/// state. No external assets; every page works without scripts (`hazard-report.js` only fills the
/// position fields from `navigator.geolocation`).
///
/// The report form carries an idempotency key made by the server for each rendering, so a form
/// sent twice (a dropped connection, a double tap) creates one event: the second answer sends the
/// browser to the event the first created. A refused photo keeps the report as a draft and names
/// the reason inline.
struct HazardWebController: RouteCollection {
    /// The largest form body: several photos at the photo limit plus the fields.
    let maxFormBytes: Int

    init(maxPhotoBytes: Int) { maxFormBytes = maxPhotoBytes * 8 + (1 << 20) }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("hazards", access: .permission(.eventRead), use: list)
        routes.get("hazards", "new", access: .permission(.eventReport), use: newForm)
        multipart(routes, "hazards", "new", access: .permission(.eventReport), use: create)
        routes.get("hazards", ":id", access: .permission(.eventRead), use: detail)
        multipart(routes, "hazards", ":id", "photos", access: .permission(.eventRead), use: addPhotos)
        routes.post("hazards", ":id", "actions", access: .permission(.eventRead), use: action)
        routes.post("hazards", ":id", "claim", access: .permission(.subsidyClaim), use: claim)
    }

    /// A POST whose multipart body is collected (up to `maxFormBytes`) and whose CSRF token the
    /// handler checks from the form (`PrincipalMiddleware` cannot read a body it has not collected).
    func multipart(_ routes: any RoutesBuilder, _ path: PathComponent..., access: AccessRule, use handler: @Sendable @escaping (Request) async throws -> Response) {
        let r = routes.on(.POST, path, body: .collect(maxSize: ByteCount(value: maxFormBytes)), use: handler)
        r.userInfo["fengqiao.access"] = access
        r.checkingCSRFInStreamedForm()
    }

    /// The form of a multipart request, with its CSRF token checked against the session's.
    static func form(_ req: Request) throws -> MultipartForm {
        let p = try req.requirePrincipal()
        guard let ct = req.headers.contentType, ct.type == "multipart", ct.subType == "form-data", let boundary = ct.parameters["boundary"], !boundary.isEmpty,
              var body = req.body.data, let data = body.readData(length: body.readableBytes), let form = MultipartForm.parse(data, boundary: boundary)
        else { throw Abort(.unsupportedMediaType, reason: "The form is sent as multipart/form-data.") }
        guard let expected = p.csrfToken, let sent = form.fields["_csrf"], !expected.isEmpty, constantTimeEquals(sent, expected) else { throw CSRFError() }
        return form
    }

    // MARK: shared rows

    struct Option: Encodable { var value: String; var label: String; var selected: Bool }

    struct EventRow: Encodable {
        var id: String
        var category: String
        var categoryCode: String
        var description: String
        var state: String
        var stateCode: String
        var grid: String
        var reported: String
        var due: String
        var overdue: Bool
        var escalated: Bool
        var draft: Bool
    }

    static func categoryLabel(_ c: HazardCategory, _ t: [String: String]) -> String {
        t["hz.cat.\(c.rawValue)"] ?? c.nameZH
    }

    static func row(_ e: GridEvent, svc: HazardService, gridNames: [UUID: String], escalated: Bool = false, now: Date = Date()) -> EventRow {
        let (due, overdue) = svc.due(e, now: now)
        return EventRow(
            id: e.id.uuidString.lowercased(), category: e.progress.category.nameZH, categoryCode: e.progress.category.rawValue, description: e.description,
            state: e.progress.state.nameZH, stateCode: e.progress.state.rawValue, grid: gridNames[e.gridID] ?? "", reported: ImportWebController.time(e.createdAt),
            due: ImportWebController.time(due), overdue: overdue, escalated: escalated, draft: e.progress.state == .draft)
    }

    /// Grid names by id in one query (`DisputeStatisticsRepository.names`); an unknown id maps to "".
    static func gridNames(_ req: Request, _ ids: some Sequence<UUID>) async throws -> [UUID: String] {
        let unique = Array(Set(ids))
        let names = try await DisputeStatisticsRepository().names(table: "grids", ids: unique, on: req.fengqiao.store.db)
        return Dictionary(uniqueKeysWithValues: unique.map { ($0, names[$0.uuidString.lowercased()] ?? "") })
    }

    // MARK: list

    struct ListData: Encodable {
        var rows: [EventRow]
        var all: Bool
        var canReport: Bool
        var canSupervise: Bool
        /// A department/property contact sees the events dispatched to them, not a grid's.
        var dispatchedOnly: Bool
        /// After an action that took the event out of the caller's view (a contact's return).
        var notice: String?
    }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = HazardService(req.fengqiao)
        let all = req.query[String.self, at: "all"] == "1"
        var items = try await svc.list(principal: p, state: nil, openOnly: !all, limit: 200, offset: 0)
        if !all {
            // The reporter's own drafts stay in view until submitted.
            items += try await svc.list(principal: p, state: .draft, openOnly: false, limit: 50, offset: 0).filter { $0.reporterID == p.id }
        }
        let names = try await Self.gridNames(req, items.map(\.gridID))
        let rows = items.map { Self.row($0, svc: svc, gridNames: names) }.sorted { ($0.overdue ? 0 : 1, $1.reported) < ($1.overdue ? 0 : 1, $0.reported) }
        return try await Page.render(req, "hazards", ListData(rows: rows, all: all, canReport: p.has(.eventReport), canSupervise: p.has(.eventSupervise), dispatchedOnly: HazardService.viewer(p).contactID != nil,
                                                       notice: req.query[String.self, at: "notice"] == "returned" ? t["hz.returnedNotice"] : nil), title: t["hz.title"]!)
    }

    // MARK: report form

    struct NewData: Encodable {
        var formKey: String
        var categories: [Option]
        var severities: [Option]
        var buildings: [Option]
        var description: String
        var lon: String
        var lat: String
        var duplicates: [EventRow]
        var reselect: Bool
        var formError: FormError?
    }

    func buildingOptions(_ req: Request, _ p: Principal, selected: String?) async throws -> [Option] {
        let app = req.fengqiao
        let db = app.store.db
        var out: [Option] = []
        for s in try await app.territories.stations(visible: p.visible, on: db) {
            for c in try await app.territories.communities(stationID: s.id, visible: p.visible, on: db) {
                for g in try await app.territories.grids(communityID: c.id, visible: p.visible, on: db) where p.visible.canSee(grid: g.id) {
                    for b in try await app.territories.buildings(gridID: g.id, on: db) {
                        let id = b.id.uuidString.lowercased()
                        out.append(Option(value: id, label: "\(g.name) · \(b.name)", selected: id == selected))
                    }
                }
            }
        }
        return out
    }

    func renderForm(_ req: Request, values v: [String: String] = [:], duplicates: [EventRow] = [], reselect: Bool = false, formError: FormError? = nil,
                    status: HTTPResponseStatus = .ok) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = HazardService(req.fengqiao)
        let cat = v["category"] ?? ""
        let sev = v["severity"] ?? EventSeverity.normal.rawValue
        let data = NewData(
            // A fresh key per rendering: only a resend of the same rendered form is one request.
            formKey: duplicates.isEmpty || v["formKey"] == nil ? AuthService.randomToken(bytes: 18) : v["formKey"]!,
            categories: svc.categories.rows.filter(\.active).map { Option(value: $0.category.rawValue, label: Self.categoryLabel($0.category, t), selected: $0.category.rawValue == cat) },
            severities: EventSeverity.allCases.map { Option(value: $0.rawValue, label: t["hz.sev.\($0.rawValue)"] ?? $0.nameZH, selected: $0.rawValue == sev) },
            buildings: try await buildingOptions(req, p, selected: v["buildingId"]), description: v["description"] ?? "", lon: v["lon"] ?? "", lat: v["lat"] ?? "",
            duplicates: duplicates, reselect: reselect, formError: formError)
        return try await Page.render(req, "hazard-new", data, title: t["hz.report"]!, status: status)
    }

    func newForm(_ req: Request) async throws -> Response { try await renderForm(req) }

    /// The report input from the form's fields.
    static func reportInput(_ v: [String: String]) throws -> HazardService.ReportInput {
        func enumField<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws -> E? where E.RawValue == String {
            guard let s = v[name], !s.isEmpty else { return nil }
            guard let e = E(rawValue: s) else {
                throw DomainError.invalidField(field: name, reason: .text("must be one of " + E.allCases.map(\.rawValue).joined(separator: ", ")))
            }
            return e
        }
        let lon = try TerritoryWebController.doubleField(v["lon"], "location")
        let lat = try TerritoryWebController.doubleField(v["lat"], "location")
        var point: HazardService.PointInput?
        if let lon, let lat { point = .init(lon: lon, lat: lat, datum: "WGS-84") }
        let building = try TerritoryWebController.uuidField(v["buildingId"], "buildingId")
        return HazardService.ReportInput(category: try enumField("category", HazardCategory.self), severity: try enumField("severity", EventSeverity.self),
                                         source: .gridWorker, description: v["description"], buildingId: building, location: building == nil ? point : nil)
    }

    /// The answer a replayed form gets: back to the event the first sending created.
    static let replayStatus = 303

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let form = try Self.form(req)
        var v = form.fields
        v["_csrf"] = nil
        let photos = form.files("photos")
        guard let key = v["formKey"], (16...64).contains(key.count), key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            return try await renderForm(req, values: v, formError: FormError(form: "report", field: "formKey", message: "formKey: the form is incomplete; reload it", values: v), status: .unprocessableEntity)
        }
        let svc = HazardService(req.fengqiao)
        let input: HazardService.ReportInput
        do {
            input = try Self.reportInput(v)
            if input.category == nil { throw DomainError.invalidField(field: "category", reason: "is required") }
            if input.buildingId == nil, input.location == nil { throw DomainError.invalidField(field: "location", reason: "give a building or use the device position") }
        } catch {
            guard let fe = PopulationWebController.formError(error, form: "report", values: v) else { throw error }
            return try await renderForm(req, values: v, formError: fe, status: .unprocessableEntity)
        }

        // One event per rendered form: the key is claimed once, per user.
        let repo = req.fengqiao.idempotency
        let owner = p.id.uuidString.lowercased()
        let claimed = try await req.fengqiao.store.write { db in try await repo.claim(owner: owner, key: "web-hazard:" + key, hash: "web-hazard-report", on: db) }
        let claim: UUID
        switch claimed {
        case .claimed(let id): claim = id
        case .replay(_, _, _, let location): return req.redirect(to: location ?? "/hazards", redirectType: .normal)
        case .appliedUnanswered(_, _, let objectID): return req.redirect(to: objectID.map { "/hazards/\($0)" } ?? "/hazards", redirectType: .normal)
        case .inFlight, .mismatch: return req.redirect(to: "/hazards", redirectType: .normal)
        }

        // Possible duplicates are offered before anything is saved.
        if v["confirmNew"] != "1" {
            let dups = try await svc.nearby(input, principal: p)
            if !dups.isEmpty {
                await StreamedIdempotency.release(req, claim)
                let names = try await Self.gridNames(req, dups.map(\.gridID))
                return try await renderForm(req, values: v, duplicates: dups.map { Self.row($0, svc: svc, gridNames: names) }, reselect: !photos.isEmpty)
            }
        }

        let event: GridEvent
        do {
            event = try await IdempotencyScope.$claimID.withValue(claim) { try await svc.report(input, actor: req.actor, principal: p).0 }
        } catch {
            await StreamedIdempotency.release(req, claim)
            guard let fe = PopulationWebController.formError(error, form: "report", values: v) else { throw error }
            return try await renderForm(req, values: v, formError: fe, status: .unprocessableEntity)
        }
        let location = "/hazards/\(event.id.uuidString.lowercased())"
        let done = Response(status: .seeOther)
        done.headers.replaceOrAdd(name: .location, value: location)
        await StreamedIdempotency.complete(req, claim, done)

        // Photos, then the submission; a refused photo keeps the draft and says why.
        if let problem = try await attach(req, svc, event.id, photos) {
            return try await renderDetail(req, event.id, formError: problem, status: .unprocessableEntity)
        }
        guard !photos.isEmpty else {
            return try await renderDetail(req, event.id, formError: FormError(form: "photos", field: "photos", message: "photos: attach at least one photo before submitting", values: [:]), status: .unprocessableEntity)
        }
        do {
            _ = try await svc.transition(event.id, .init(command: "submit"), actor: req.actor, principal: p)
        } catch {
            guard let fe = PopulationWebController.formError(error, form: "photos", values: [:]) else { throw error }
            return try await renderDetail(req, event.id, formError: fe, status: .unprocessableEntity)
        }
        return req.redirect(to: location, redirectType: .normal)
    }

    /// Attaches photos in order; the first refused one stops and is named (`photos[i]` and its file name).
    func attach(_ req: Request, _ svc: HazardService, _ id: UUID, _ photos: [MultipartForm.Part]) async throws -> FormError? {
        let p = try req.requirePrincipal()
        for (i, ph) in photos.enumerated() {
            do {
                _ = try await svc.addPhoto(id, data: ph.data, actor: req.actor, principal: p)
            } catch DomainError.invalidField(_, let reason) {
                let name = ph.filename.map { " (\($0))" } ?? ""
                return FormError(form: "photos", field: "photos", message: "photos[\(i)]\(name): \(reason)", values: [:])
            } catch {
                guard let fe = PopulationWebController.formError(error, form: "photos", values: [:]) else { throw error }
                return fe
            }
        }
        return nil
    }

    // MARK: event page

    struct PhotoView: Encodable { var url: String; var stage: String }
    struct TimelineRow: Encodable { var at: String; var actor: String; var what: String; var escalation: Bool }

    struct DetailData: Encodable {
        var e: EventRow
        var severity: String
        var source: String
        var reporter: String
        var dispatchedTo: String
        var whistleReason: String
        var handler: String
        var reopenCount: Int
        var satisfaction: String
        var position: String
        var building: String
        var reportPhotos: [PhotoView]
        var resultPhotos: [PhotoView]
        var timeline: [TimelineRow]
        var formError: FormError?
        var notice: String?
        // What the user may do here.
        var canAddPhotos: Bool
        var canSubmitDraft: Bool
        var canVerify: Bool
        var canVoid: Bool
        var canFile: Bool
        var canDispatch: Bool
        var canRespond: Bool
        var canSubmitResult: Bool
        var canCheck: Bool
        var canEvaluate: Bool
        var canClaim: Bool
        var anyAction: Bool
        var voidReasons: [Option]
        var categories: [Option]
        var severities: [Option]
        var contacts: [Option]
        var whistleReasons: [Option]
    }

    static func name(_ req: Request, _ id: UUID?) async throws -> String {
        guard let id else { return "" }
        return try await req.fengqiao.accounts.find(id, on: req.fengqiao.store.db)?.displayName ?? ""
    }

    /// The timeline: the event's audit records (each change with who and when) and its escalations.
    static func timeline(_ req: Request, _ e: GridEvent, _ t: [String: String]) async throws -> [TimelineRow] {
        let db = req.fengqiao.store.db
        let entries = try await req.fengqiao.audit.list(AuditQuery(objectType: "event", objectID: e.id.uuidString.lowercased(), limit: 200), on: db)
        var rows: [(Date, TimelineRow)] = []
        for a in entries {
            let what: String
            if let d = a.detail, d.hasPrefix("report photo ") || d.hasPrefix("result photo ") {
                what = (d.hasPrefix("report") ? t["hz.reportPhotos"]! : t["hz.resultPhotos"]!) + " +1"
            } else if let d = a.detail, let colon = d.firstIndex(of: ":") {
                let cmd = String(d[..<colon])
                let rest = d[d.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if cmd == "escalated" {
                    what = t["hz.escalated"]! + "：" + rest
                } else if let arrow = rest.range(of: " → ") {
                    let after = String(rest[arrow.upperBound...].prefix { $0 != ";" })
                    let more = rest.range(of: "; ").map { String(rest[$0.upperBound...]) } ?? ""
                    let extra = try await Self.timelineDetail(req, more, t)
                    what = (Self.commandLabel(cmd, t) ?? cmd) + " → " + (GridEventState(rawValue: after)?.nameZH ?? after) + (extra.isEmpty ? "" : "（\(extra)）")
                } else {
                    what = d
                }
            } else {
                what = a.action == .create ? (t["hz.report"] ?? "report") : (a.detail ?? a.action.rawValue)
            }
            rows.append((a.at, TimelineRow(at: ImportWebController.time(a.at), actor: a.actorName ?? "", what: what, escalation: a.detail?.hasPrefix("escalated") ?? false)))
        }
        rows.sort { $0.0 < $1.0 }
        return rows.map(\.1)
    }

    /// The readable form of a transition's audit detail (`HazardService.transition`): "dispatch to
    /// <account id>; whistle: <reason>", "void: <reason>", "returned: <text>", "check failed:
    /// <text>" — the contact by name and the codes by their labels, never a raw id.
    static func timelineDetail(_ req: Request, _ more: String, _ t: [String: String]) async throws -> String {
        guard !more.isEmpty else { return "" }
        var parts: [String] = []
        var rest = Substring(more)
        while !rest.isEmpty {
            if rest.hasPrefix("dispatch to ") {
                let raw = rest.dropFirst("dispatch to ".count).prefix { $0 != ";" }
                rest = rest.dropFirst("dispatch to ".count + raw.count).drop { $0 == ";" || $0 == " " }
                let name = try await Self.name(req, UUID(uuidString: String(raw)))
                parts.append("\(t["hz.dispatchedTo"]!)：\(name.isEmpty ? "—" : name)")
            } else if rest.hasPrefix("whistle: ") {
                let raw = rest.dropFirst("whistle: ".count).prefix { $0 != ";" }
                rest = rest.dropFirst("whistle: ".count + raw.count).drop { $0 == ";" || $0 == " " }
                parts.append("\(t["hz.whistleReason"]!)：\(WhistleReason(rawValue: String(raw))?.nameZH ?? String(raw))")
            } else if rest.hasPrefix("void: ") {
                let raw = String(rest.dropFirst("void: ".count))
                parts.append(t["hz.void.\(raw)"] ?? raw)
                rest = ""
            } else if rest.hasPrefix("returned: ") || rest.hasPrefix("check failed: ") {
                // Free text to the end (it may hold "; " itself).
                parts.append("\(t["hz.reason"]!)：\(rest.drop { $0 != ":" }.dropFirst().trimmingCharacters(in: .whitespaces))")
                rest = ""
            } else {
                parts.append(String(rest))
                rest = ""
            }
        }
        return parts.joined(separator: "；")
    }

    static func commandLabel(_ c: String, _ t: [String: String]) -> String? {
        switch c {
        case "submit": t["hz.submitDraft"]
        case "verify": t["hz.verify"]
        case "void": t["hz.void"]
        case "fileCase": t["hz.file"]
        case "resolveInGrid": t["hz.resolveInGrid"]
        case "dispatch": t["hz.dispatch"]
        case "acknowledge": t["hz.acknowledge"]
        case "return": t["hz.return"]
        case "submitResult": t["hz.submitResult"]
        case "checkPass": t["hz.checkPass"]
        case "checkFail": t["hz.checkFail"]
        case "evaluate": t["hz.evaluate"]
        default: nil
        }
    }

    func detail(_ req: Request) async throws -> Response {
        try await renderDetail(req, try req.uuid("id", kind: "event"), notice: req.query[String.self, at: "notice"] == "claimed" ? Page.t(req)["hz.claimed"] : nil)
    }

    func renderDetail(_ req: Request, _ id: UUID, formError: FormError? = nil, notice: String? = nil, status: HTTPResponseStatus = .ok) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = HazardService(req.fengqiao)
        let e = try await svc.event(id, principal: p)
        let db = req.fengqiao.store.db
        let names = try await Self.gridNames(req, [e.gridID])
        let escalated = try await HazardStatsRepository().escalations(eventID: e.id, on: db)
        let photos = try await svc.photoRows(e)
        let idText = e.id.uuidString.lowercased()
        func view(_ ph: EventPhotoRow) -> PhotoView { PhotoView(url: "/api/v1/events/\(idText)/photos/\(ph.sha256)", stage: ph.stage.rawValue) }
        let st = e.progress.state
        let manage = p.has(.eventManage)
        let isContact = p.has(.eventRespond) && e.progress.dispatchedTo == p.id
        var contacts: [Option] = []
        if manage && st == .filed {
            for c in try await GridEventRepository().contacts(territoryIDs: [e.gridID, e.communityID], category: e.progress.category, on: db) {
                contacts.append(Option(value: c.contactID.uuidString.lowercased(), label: "\(c.organisation) · \(try await Self.name(req, c.contactID))", selected: false))
            }
        }
        var canClaim = p.has(.subsidyClaim) && (st == .closed || st == .evaluated) && e.progress.checkPassed && (e.reporterID == p.id || e.progress.handler == p.id)
        if canClaim { canClaim = try await GridEventRepository().claim(caseType: .event, caseID: e.id, on: db) == nil }
        var building: Building?
        if let b = e.buildingID { building = try await ifFound { try await req.fengqiao.territories.building(b, visible: .everything, on: db) } }
        let flags = (
            addPhotos: (st == .draft && e.reporterID == p.id) || (st == .inProgress && e.progress.handler == p.id),
            submitDraft: st == .draft && e.reporterID == p.id && p.has(.eventReport),
            verify: manage && st == .reported, void: manage && (st == .reported || st == .verified), file: manage && st == .verified,
            dispatch: manage && st == .filed, respond: isContact && st == .dispatched, submitResult: st == .inProgress && e.progress.handler == p.id,
            check: manage && st == .awaitingCheck && !(isContact && e.progress.handler == p.id), evaluate: manage && st == .closed)
        let data = DetailData(
            e: Self.row(e, svc: svc, gridNames: names, escalated: !escalated.isEmpty), severity: t["hz.sev.\(e.progress.severity.rawValue)"] ?? e.progress.severity.nameZH,
            source: e.source.rawValue, reporter: try await Self.name(req, e.reporterID), dispatchedTo: try await Self.name(req, e.progress.dispatchedTo),
            whistleReason: e.progress.whistleReason?.nameZH ?? "", handler: try await Self.name(req, e.progress.handler), reopenCount: e.progress.reopenCount,
            satisfaction: e.progress.satisfaction.map { String(repeating: "★", count: $0) + String(repeating: "☆", count: 5 - $0) } ?? "",
            position: e.location.map { String(format: "%.6f, %.6f", $0.lat, $0.lon) } ?? "", building: building?.name ?? "",
            reportPhotos: photos.filter { $0.stage == .report }.map(view), resultPhotos: photos.filter { $0.stage == .result }.map(view),
            timeline: try await Self.timeline(req, e, t), formError: formError, notice: notice,
            canAddPhotos: flags.addPhotos, canSubmitDraft: flags.submitDraft, canVerify: flags.verify, canVoid: flags.void, canFile: flags.file,
            canDispatch: flags.dispatch, canRespond: flags.respond, canSubmitResult: flags.submitResult, canCheck: flags.check, canEvaluate: flags.evaluate,
            canClaim: canClaim,
            anyAction: flags.addPhotos || flags.verify || flags.void || flags.file || flags.dispatch || flags.respond || flags.check || flags.evaluate || canClaim,
            voidReasons: VoidReason.allCases.map { Option(value: $0.rawValue, label: t["hz.void.\($0.rawValue)"] ?? $0.rawValue, selected: false) },
            categories: svc.categories.rows.filter(\.active).map { Option(value: $0.category.rawValue, label: Self.categoryLabel($0.category, t), selected: $0.category == e.progress.category) },
            severities: EventSeverity.allCases.map { Option(value: $0.rawValue, label: t["hz.sev.\($0.rawValue)"] ?? $0.nameZH, selected: $0 == e.progress.severity) },
            contacts: contacts, whistleReasons: WhistleReason.allCases.map { Option(value: $0.rawValue, label: $0.nameZH, selected: false) })
        return try await Page.render(req, "hazard", data, title: "\(t["hz.eventTitle"]!) · \(e.progress.category.nameZH)", status: status)
    }

    // MARK: actions

    func addPhotos(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "event")
        let form = try Self.form(req)
        let svc = HazardService(req.fengqiao)
        let e = try await svc.event(id, principal: p)
        let photos = form.files("photos")
        guard !photos.isEmpty else {
            return try await renderDetail(req, id, formError: FormError(form: "photos", field: "photos", message: Page.t(req)["hz.choosePhoto"]!, values: [:]), status: .unprocessableEntity)
        }
        if let problem = try await attach(req, svc, id, photos) {
            return try await renderDetail(req, id, formError: problem, status: .unprocessableEntity)
        }
        // "Submit" buttons send the photos and the step in one go.
        let then = form.fields["then"]
        let command: String? = then == "submit" && e.progress.state == .draft ? "submit" : (then == "submitResult" && e.progress.state == .inProgress ? "submitResult" : nil)
        if let command {
            do {
                _ = try await svc.transition(id, .init(command: command), actor: req.actor, principal: p)
            } catch {
                guard let fe = PopulationWebController.formError(error, form: "photos", values: [:]) else { throw error }
                return try await renderDetail(req, id, formError: fe, status: .unprocessableEntity)
            }
        }
        return req.redirect(to: "/hazards/\(id.uuidString.lowercased())", redirectType: .normal)
    }

    func action(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "event")
        let v = TerritoryWebController.values(req)
        let svc = HazardService(req.fengqiao)
        do {
            func e<E: RawRepresentable>(_ name: String, _ type: E.Type) throws -> E? where E.RawValue == String {
                guard let s = v[name], !s.isEmpty else { return nil }
                guard let x = E(rawValue: s) else { throw DomainError.invalidField(field: name, reason: "is not a valid choice") }
                return x
            }
            let input = HazardService.TransitionInput(
                command: v["command"], reason: v["reason"], voidReason: try e("voidReason", VoidReason.self), category: try e("category", HazardCategory.self),
                severity: try e("severity", EventSeverity.self), contactId: try TerritoryWebController.uuidField(v["contactId"], "contactId"),
                whistleReason: try e("whistleReason", WhistleReason.self), satisfaction: try TerritoryWebController.intField(v["satisfaction"], "satisfaction"))
            let after = try await svc.transition(id, input, actor: req.actor, principal: p)
            // A contact who returned the event no longer sees it: back to their list, not a 404.
            if !HazardService.viewer(p).canSee(after) { return req.redirect(to: "/hazards?notice=returned", redirectType: .normal) }
        } catch {
            guard let fe = PopulationWebController.formError(error, form: v["command"] ?? "action", values: v) else { throw error }
            var status = HTTPResponseStatus.unprocessableEntity
            if case DomainError.forbidden = error { status = .forbidden }
            return try await renderDetail(req, id, formError: fe, status: status)
        }
        return req.redirect(to: "/hazards/\(id.uuidString.lowercased())", redirectType: .normal)
    }

    func claim(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "event")
        do {
            _ = try await HazardService(req.fengqiao).claim(caseType: .event, caseID: id, actor: req.actor, principal: p)
        } catch {
            guard let fe = PopulationWebController.formError(error, form: "claim", values: [:]) else { throw error }
            return try await renderDetail(req, id, formError: fe, status: .unprocessableEntity)
        }
        return req.redirect(to: "/hazards/\(id.uuidString.lowercased())?notice=claimed", redirectType: .normal)
    }
}
