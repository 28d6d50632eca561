import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// Open311 GeoReport v2 under `/open311/v2/` (its own specification, not part of `/api/v1`;
/// wiki.open311.org/GeoReport_v2): services, a service definition, POST and GET requests, one
/// request, and the token look-up, each in `.json` and `.xml`.
///
/// Authentication is the Open311 `api_key` (issued by an administrator, bound to a territory and a
/// reporting account): the form field of a POST, the query parameter of a GET, or an `X-API-Key`
/// header. An unknown or revoked key → 403 in the Open311 error format. POST always needs a key;
/// GET needs one too unless `FENGQIAO_OPEN311_PUBLIC_READ=true` (default false: these are
/// government networks) — a key then still limits answers to its territory, and an anonymous
/// reader sees every territory. Errors are `[{"code":…,"description":…}]` /
/// `<errors><error>…</error></errors>`.
///
/// These routes sit outside the session/bearer middleware (no cookie is read, so no CSRF token is
/// needed); their access rule is `anonymous` plus the key check here (`fengqiao.open311Key`).
struct Open311Controller: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let v2 = routes.grouped("open311", "v2").grouped(Open311ErrorMiddleware(), Open311KeyMiddleware(), IdempotencyMiddleware())
        for f in ["json", "xml"] {
            open(v2.on(.GET, PathComponent(stringLiteral: "services.\(f)"), use: services))
            open(v2.on(.GET, PathComponent(stringLiteral: "requests.\(f)"), use: listRequests))
            open(v2.on(.POST, PathComponent(stringLiteral: "requests.\(f)"), use: create)).idempotent()
        }
        open(v2.on(.GET, "services", ":code", use: definition))
        open(v2.on(.GET, "requests", ":id", use: oneRequest))
        open(v2.on(.GET, "tokens", ":token", use: token))
        // Anything else under /open311/ answers in the Open311 error format.
        for m in [HTTPMethod.GET, .POST, .PUT, .DELETE, .PATCH] {
            open(routes.grouped("open311").grouped(Open311ErrorMiddleware()).on(m, "**", use: { _ -> Response in throw Open311Error(404, "no such Open311 resource") }))
        }
    }

    @discardableResult
    func open(_ r: Route) -> Route {
        r.userInfo["fengqiao.access"] = AccessRule.anonymous
        r.userInfo["fengqiao.open311Key"] = true
        return r
    }

    // MARK: helpers

    /// The key's principal, or 403 (POST always; GET unless public read is on).
    static func requireKey(_ req: Request, forWrite: Bool) throws -> Open311KeyMiddleware.Caller? {
        if let c = req.storage[Open311KeyMiddleware.CallerKey.self] { return c }
        if !forWrite && req.fengqiao.config.open311PublicRead { return nil }
        throw Open311Error(403, "api_key is required")
    }

    static func actor(_ req: Request, _ c: Open311KeyMiddleware.Caller) -> Actor {
        Actor(id: c.principal.id, name: "open311:\(c.key.keyPrefix)", role: c.principal.role,
              scope: TerritoryScope(level: c.key.territoryLevel, territoryID: c.key.territoryID),
              clientIP: req.remoteAddress?.ipAddress ?? req.headers.first(name: .xForwardedFor),
              userAgent: req.headers.first(name: .userAgent).map { String($0.prefix(200)) },
              requestID: req.storage[RequestIDKey.self])
    }

    /// The grids a caller may read (nil: every grid, for an anonymous reader with public read on).
    static func grids(_ c: Open311KeyMiddleware.Caller?) -> [UUID]? {
        guard let c else { return nil }
        return Array(c.principal.visible.gridIDs ?? [])
    }

    static func format(_ req: Request, _ name: String) throws -> Open311Format {
        let last = req.url.path.split(separator: "/").last.map(String.init) ?? ""
        let (base, f) = try Open311Format.split(last)
        guard base == name else { throw Open311Error(404, "no such Open311 resource") }
        return f
    }

    // MARK: services

    func services(_ req: Request) async throws -> Response {
        let f = try Self.format(req, "services")
        _ = try Self.requireKey(req, forWrite: false)
        let items: [O311] = Open311Service(req.fengqiao).services.map { info in
            let (group, keywords) = Open311Service.groupAndKeywords(info.category)
            return .object(element: "service", [
                ("service_code", .s(info.category.rawValue)), ("service_name", .s(info.category.nameZH)),
                ("description", .s("\(info.category.nameZH)（默认责任单位：\(info.defaultDepartment)）")),
                ("metadata", .bool(true)), ("type", .s("realtime")), ("keywords", .s(keywords)), ("group", .s(group)),
            ])
        }
        return Open311Render.response(items, root: "services", format: f)
    }

    func definition(_ req: Request) async throws -> Response {
        let (code, f) = try Open311Format.split(req.parameters.get("code") ?? "")
        _ = try Self.requireKey(req, forWrite: false)
        guard let c = Open311Service(req.fengqiao).category(code) else { throw Open311Error(404, "no such service_code \(code)") }
        let values: [O311] = EventSeverity.allCases.map { .object(element: "value", [("key", .s($0.rawValue)), ("name", .s($0.nameZH))]) }
        let attribute = O311.object(element: "attribute", [
            ("variable", .bool(true)), ("code", .s("severity")), ("datatype", .s("singlevaluelist")), ("required", .bool(false)),
            ("datatype_description", .s("紧急程度；不填为“一般”（决定处置时限）")), ("order", .int(1)), ("description", .s("紧急程度")),
            ("values", .array(values)),
        ])
        return Open311Render.single(.object(element: "service_definition", [("service_code", .s(c.rawValue)), ("attributes", .array([attribute]))]), format: f)
    }

    // MARK: requests

    /// The form of `POST requests`.
    struct Form: Decodable {
        var api_key: String?
        var jurisdiction_id: String?
        var service_code: String?
        var lat: String?
        var long: String?
        var address_string: String?
        var address_id: String?
        var description: String?
        var media_url: String?
        var email: String?
        var device_id: String?
        var account_id: String?
        var first_name: String?
        var last_name: String?
        var phone: String?
        var attribute: [String: String]?
    }

    func create(_ req: Request) async throws -> Response {
        let f = try Self.format(req, "requests")
        guard let caller = try Self.requireKey(req, forWrite: true) else { throw Open311Error(403, "api_key is required") }
        let form: Form
        do { form = try req.content.decode(Form.self) } catch {
            throw Open311Error(400, "send the request as application/x-www-form-urlencoded (or multipart/form-data) fields")
        }
        var personal: [String: String] = [:]
        for (k, v) in [("first_name", form.first_name), ("last_name", form.last_name), ("email", form.email), ("phone", form.phone),
                       ("device_id", form.device_id), ("account_id", form.account_id)] {
            if let v { personal[k] = String(v.prefix(200)) }
        }
        let sub = Open311Service.Submission(
            serviceCode: form.service_code, lat: form.lat, long: form.long, addressString: form.address_string, addressID: form.address_id,
            description: form.description, mediaURL: form.media_url, severity: form.attribute?["severity"], personal: personal)
        let service = Open311Service(req.fengqiao)
        let (e, token) = try await service.create(sub, key: caller.key, principal: caller.principal, actor: Self.actor(req, caller))
        let item = O311.object(element: "request", [
            ("service_request_id", .s(e.id.uuidString.lowercased())), ("token", .s(token)),
            ("service_notice", .s(service.notice(e.progress.category, e.progress.severity))), ("account_id", .string(nil)),
        ])
        let res = Open311Render.response([item], root: "service_requests", format: f, status: .created)
        res.headers.replaceOrAdd(name: .location, value: "/open311/v2/requests/\(e.id.uuidString.lowercased()).\(f.rawValue)")
        return res
    }

    /// `GET requests`: `service_request_id` (comma list; overrides the other filters),
    /// `service_code` (comma list), `start_date`, `end_date` (W3C date-time; at most 90 days
    /// apart, default the last 90 days), `status` (`open`, `closed` or both, comma list). Newest
    /// first, at most 1,000.
    func listRequests(_ req: Request) async throws -> Response {
        let f = try Self.format(req, "requests")
        let caller = try Self.requireKey(req, forWrite: false)
        let q = try Self.query(req, now: Date())
        let service = Open311Service(req.fengqiao)
        let rows = try await service.requests(q, gridIDs: Self.grids(caller))
        return try await Self.answer(rows, service: service, format: f)
    }

    static func query(_ req: Request, now: Date) throws -> Open311Query {
        func list(_ name: String) -> [String]? {
            guard let raw = req.query[String.self, at: name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let ids = list("service_request_id") {
            guard ids.count <= Open311Service.maxRequests else { throw Open311Error(400, "service_request_id: at most 1000 ids") }
            let parsed = try ids.map { s -> UUID in
                guard let u = UUID(uuidString: s) else { throw Open311Error(400, "service_request_id: \(String(s.prefix(40))) is not a request id") }
                return u
            }
            return Open311Query(ids: parsed, from: .distantPast, to: .distantFuture)
        }
        var categories: [HazardCategory]?
        if let codes = list("service_code") {
            let service = Open311Service(req.fengqiao)
            categories = try codes.map { c in
                guard let cat = service.category(c) else { throw Open311Error(400, "service_code: unknown service code \(String(c.prefix(40)))") }
                return cat
            }
        }
        func date(_ name: String) throws -> Date? {
            guard let raw = req.query[String.self, at: name], !raw.isEmpty else { return nil }
            guard let d = Open311Dates.parse(raw) else { throw Open311Error(400, "\(name): not a W3C date-time (e.g. 2026-11-30T08:00:00+08:00)") }
            return d
        }
        let start = try date("start_date"), end = try date("end_date")
        let from: Date, to: Date
        switch (start, end) {
        case (nil, nil): (from, to) = (now.addingTimeInterval(-Open311Service.maxWindow), now)
        case (let s?, nil): (from, to) = (s, s.addingTimeInterval(Open311Service.maxWindow))
        case (nil, let e?): (from, to) = (e.addingTimeInterval(-Open311Service.maxWindow), e)
        case (let s?, let e?):
            guard s <= e else { throw Open311Error(400, "start_date is after end_date") }
            guard e.timeIntervalSince(s) <= Open311Service.maxWindow else { throw Open311Error(400, "start_date and end_date may not span more than 90 days") }
            (from, to) = (s, e)
        }
        var open: Bool?
        if let st = list("status") {
            var set = Set<String>()
            for s in st {
                guard s == "open" || s == "closed" else { throw Open311Error(400, "status: must be open, closed or both (comma separated)") }
                set.insert(s)
            }
            if set.count == 1 { open = set.contains("open") }
        }
        return Open311Query(categories: categories, from: from, to: to, open: open, limit: Open311Service.maxRequests)
    }

    func oneRequest(_ req: Request) async throws -> Response {
        let (idText, f) = try Open311Format.split(req.parameters.get("id") ?? "")
        let caller = try Self.requireKey(req, forWrite: false)
        guard let id = UUID(uuidString: idText) else { throw Open311Error(404, "no such service request") }
        let service = Open311Service(req.fengqiao)
        let rows = try await service.requests(Open311Query(ids: [id], from: .distantPast, to: .distantFuture), gridIDs: Self.grids(caller))
        guard !rows.isEmpty else { throw Open311Error(404, "no such service request") }
        return try await Self.answer(rows, service: service, format: f)
    }

    func token(_ req: Request) async throws -> Response {
        let (token, f) = try Open311Format.split(req.parameters.get("token") ?? "")
        let caller = try Self.requireKey(req, forWrite: false)
        guard let row = try await Open311Service(req.fengqiao).request(token: token, gridIDs: Self.grids(caller)) else {
            throw Open311Error(404, "no such token")
        }
        let item = O311.object(element: "request", [("service_request_id", .s(row.event.id.uuidString.lowercased())), ("token", .s(token))])
        return Open311Render.response([item], root: "service_requests", format: f)
    }

    /// Requests as GeoReport v2 lists them. Nothing about the reporter is ever included.
    static func answer(_ rows: [Open311EventRow], service: Open311Service, format: Open311Format) async throws -> Response {
        let names = try await service.names(for: rows)
        let hazard = HazardService(service.app)
        let now = Date()
        let items: [O311] = rows.map { r in
            let e = r.event
            let (due, overdue) = hazard.due(e, now: now)
            let building = e.buildingID.flatMap { names.buildings[$0] }
            let agency = e.progress.dispatchedTo.flatMap { names.organisations[$0] } ?? names.communities[e.communityID]
            let address = r.request?.addressString ?? building.map { b in b.address.map { "\($0) \(b.name)" } ?? b.name }
            return .object(element: "request", [
                ("service_request_id", .s(e.id.uuidString.lowercased())),
                ("status", .s(Open311Service.status(e.progress.state))),
                ("status_notes", .s(service.statusNotes(e, overdue: overdue))),
                ("service_name", .s(e.progress.category.nameZH)),
                ("service_code", .s(e.progress.category.rawValue)),
                ("description", .s(e.description)),
                ("agency_responsible", .s(agency)),
                ("service_notice", .string(nil)),
                ("requested_datetime", .s(e.createdAt)),
                ("updated_datetime", .s(r.updatedAt)),
                ("expected_datetime", .s(e.progress.state.isOpen ? due : nil)),
                ("address", .s(address)),
                ("address_id", .s(e.buildingID?.uuidString.lowercased())),
                ("zipcode", .string(nil)),
                // A request located by building is placed at the building (as the map places it).
                ("lat", .number((e.location ?? building?.location)?.lat)),
                ("long", .number((e.location ?? building?.location)?.lon)),
                ("media_url", .s(r.request?.mediaURL)),
            ])
        }
        return Open311Render.response(items, root: "service_requests", format: format)
    }
}

/// Reads the Open311 `api_key` (POST form field, GET query parameter, or `X-API-Key` header) and,
/// when one is sent, authenticates it: an unknown or revoked key is 403 whatever the route.
struct Open311KeyMiddleware: AsyncMiddleware {
    struct Caller: Sendable {
        var key: Open311Key
        var principal: Principal
    }
    struct CallerKey: StorageKey { typealias Value = Caller }

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if req.method == .POST, req.body.data == nil {
            // Route middleware runs before the route collects its body; the key is a form field.
            _ = try await req.body.collect(max: req.application.routes.defaultMaxBodySize.value).get()
        }
        var secret = req.headers.first(name: "X-API-Key")
        if secret == nil {
            if req.method == .POST {
                secret = try? req.content.get(String.self, at: "api_key")
            } else {
                secret = req.query[String.self, at: "api_key"]
            }
        }
        if let s = secret?.trimmingCharacters(in: .whitespaces), !s.isEmpty {
            guard let (k, p) = try await Open311Service(req.fengqiao).authenticate(s) else {
                throw Open311Error(403, "invalid api_key")
            }
            req.storage[CallerKey.self] = Caller(key: k, principal: p)
            // The idempotency claim is per reporting account.
            req.principal = p
        }
        return try await next.respond(to: req)
    }
}
