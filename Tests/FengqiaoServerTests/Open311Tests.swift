import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import NIOFoundationCompat
import SQLKit
import Testing
import Vapor
import VaporTesting
#if canImport(FoundationXML)
import FoundationXML
#endif

/// Open311 GeoReport v2 under /open311/v2 (issue 5): JSON and XML round trips, the API key
/// (required, bound to a territory), bad locations, filters, open → closed after the lifecycle
/// closes the event, no reporter personal data in any answer, cross-territory isolation; and the
/// map's bounding-box query of /api/v1/events/map.
@Suite("Open311 GeoReport v2", .serialized)
struct Open311Tests {
    struct World {
        var t: Territory
        var adminToken: String
        var officer: Account
        var officerToken: String
        var worker: Account
        var workerToken: String
        var workerBToken: String
        var otherOfficer: Account
        var key: String
        var keyID: UUID
        var otherKey: String
    }

    struct KeyOut: Decodable { var id: UUID; var key: String?; var keyPrefix: String; var territoryLevel: String }

    func issueKey(_ app: Application, admin: String, territory: UUID, account: UUID, label: String = "市民App") async throws -> TestingHTTPResponse {
        try await apiCall(app, .POST, "/api/v1/open311-keys", token: admin,
                          json: #"{"label":"\#(label)","territoryId":"\#(idText(territory))","accountId":"\#(idText(account))"}"#)
    }

    func world(_ app: Application) async throws -> World {
        let t = try await seedTerritory(app)
        let (_, admin) = try await sysadminToken(app)
        let officer = try await makeUser(app, "officer", .communityPoliceOfficer, .init(level: .community, territoryID: t.community.id))
        let worker = try await makeUser(app, "grid.a", .gridWorker, .init(level: .grid, territoryID: t.gridA.id))
        let workerB = try await makeUser(app, "grid.b", .gridWorker, .init(level: .grid, territoryID: t.gridB.id))
        let other = try await makeUser(app, "officer.2", .communityPoliceOfficer, .init(level: .community, territoryID: t.otherCommunity.id))
        let k = try await issueKey(app, admin: admin, territory: t.community.id, account: officer.id)
        #expect(k.status == .created, "\(k.body.string)")
        let key = try json(k, as: KeyOut.self)
        let k2 = try json(try await issueKey(app, admin: admin, territory: t.otherCommunity.id, account: other.id, label: "另一社区"), as: KeyOut.self)
        return World(t: t, adminToken: admin, officer: officer, officerToken: try await issueToken(app, officer), worker: worker,
                     workerToken: try await issueToken(app, worker), workerBToken: try await issueToken(app, workerB), otherOfficer: other,
                     key: try #require(key.key), keyID: key.id, otherKey: try #require(k2.key))
    }

    static let inA = (lon: 102.905, lat: 24.675)

    static func form(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed)!)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
    }

    func post(_ app: Application, _ fmt: String = "json", _ fields: [(String, String)], headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var h = HTTPHeaders()
        h.contentType = .urlEncodedForm
        for (k, v) in extra { h.replaceOrAdd(name: k, value: v) }
        return try await rawCall(app, .POST, "/open311/v2/requests.\(fmt)", headers: h, body: Self.form(fields))
    }

    func report(_ app: Application, key: String, code: String = "municipalFacility", lat: Double = inA.lat, lon: Double = inA.lon,
                extra: [(String, String)] = []) async throws -> TestingHTTPResponse {
        try await post(app, "json", [("api_key", key), ("service_code", code), ("lat", "\(lat)"), ("long", "\(lon)"), ("description", "井盖破损")] + extra)
    }

    func get(_ app: Application, _ path: String) async throws -> TestingHTTPResponse { try await rawCall(app, .GET, path) }

    func array(_ res: TestingHTTPResponse) throws -> [[String: Any]] {
        try #require(try JSONSerialization.jsonObject(with: Data(res.body.string.utf8)) as? [[String: Any]], "not a JSON array: \(res.body.string)")
    }

    /// The records of an Open311 XML answer: each child of the root as [element: text].
    final class Records: NSObject, XMLParserDelegate {
        var root: String?
        var records: [[String: String]] = []
        var depth = 0
        var current: [String: String] = [:]
        var text = ""
        func parser(_ p: XMLParser, didStartElement e: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            depth += 1
            if depth == 1 { root = e }
            if depth == 2 { current = [:] }
            text = ""
        }
        func parser(_ p: XMLParser, foundCharacters s: String) { text += s }
        func parser(_ p: XMLParser, didEndElement e: String, namespaceURI: String?, qualifiedName: String?) {
            if depth == 3 { current[e] = text }
            if depth == 2 { records.append(current) }
            depth -= 1
            text = ""
        }
    }

    func xml(_ res: TestingHTTPResponse) throws -> (String?, [[String: String]]) {
        let body = res.body.string
        #expect(body.hasPrefix(#"<?xml version="1.0" encoding="utf-8"?>"#))
        let parser = XMLParser(data: Data(body.utf8))
        let r = Records()
        parser.delegate = r
        #expect(parser.parse(), "well-formed XML: \(body)")
        return (r.root, r.records)
    }

    static let personal = [("first_name", "张"), ("last_name", "三丰"), ("email", "zhang.sanfeng@example.com"), ("phone", "13912345678"),
                           ("device_id", "device-7f3a"), ("account_id", "citizen-acct-42")]

    func assertNoPersonalData(_ body: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for (_, v) in Self.personal where v.count > 1 {
            #expect(!body.contains(v), "answer leaks \(v): \(body)", sourceLocation: sourceLocation)
        }
    }

    @Test("JSON and XML round trip: services, definition, POST, GET one, GET list, token; no reporter personal data anywhere")
    func roundTrip() async throws {
        try await withApp { app in
            let w = try await world(app)
            // Services list and a definition, in both formats.
            let services = try array(try await get(app, "/open311/v2/services.json?api_key=\(w.key)"))
            let mf = try #require(services.first { $0["service_code"] as? String == "municipalFacility" })
            #expect(mf["service_name"] as? String == "市政设施" && mf["metadata"] as? Bool == true && mf["type"] as? String == "realtime")
            #expect((mf["keywords"] as? String)?.contains("井盖") == true && mf["group"] as? String == "市政环境")
            #expect(services.count == HazardCategory.allCases.count)
            let sx = try await get(app, "/open311/v2/services.xml?api_key=\(w.key)")
            #expect(sx.headers.contentType?.description.hasPrefix("text/xml") == true)
            let (sroot, srecs) = try xml(sx)
            #expect(sroot == "services" && srecs.count == services.count)
            #expect(srecs.first { $0["service_code"] == "municipalFacility" }?["service_name"] == "市政设施")
            let def = try await get(app, "/open311/v2/services/municipalFacility.xml?api_key=\(w.key)")
            #expect(def.status == .ok)
            #expect(def.body.string.contains("<service_definition><service_code>municipalFacility</service_code><attributes><attribute><variable>true</variable><code>severity</code><datatype>singlevaluelist</datatype>"))
            #expect(def.body.string.contains("<values><value><key>urgent</key><name>紧急</name></value>"))
            let defJSON = try #require(try JSONSerialization.jsonObject(with: Data(try await get(app, "/open311/v2/services/municipalFacility.json?api_key=\(w.key)").body.string.utf8)) as? [String: Any])
            #expect((defJSON["attributes"] as? [[String: Any]])?.first?["code"] as? String == "severity")
            #expect(try await get(app, "/open311/v2/services/manhole.json?api_key=\(w.key)").status == .notFound)

            // POST (form-encoded) with personal data and a severity attribute.
            let created = try await report(app, key: w.key, extra: Self.personal + [("attribute[severity]", "urgent"), ("media_url", "https://city.example/p/1.jpg"),
                                                                                     ("address_string", "演示路1号旁")])
            #expect(created.status == .created, "\(created.body.string)")
            assertNoPersonalData(created.body.string)
            let c = try #require(try array(created).first)
            let id = try #require(c["service_request_id"] as? String)
            let token = try #require(c["token"] as? String)
            #expect((c["service_notice"] as? String)?.contains("处置 24 小时") == true, "urgent handling limit (§4.2)")
            #expect(c.keys.contains("account_id") && c["account_id"] is NSNull)

            // GET one, JSON.
            let one = try await get(app, "/open311/v2/requests/\(id).json?api_key=\(w.key)")
            #expect(one.status == .ok)
            assertNoPersonalData(one.body.string)
            let r = try #require(try array(one).first)
            #expect(r["status"] as? String == "open" && r["status_notes"] as? String == "已上报")
            #expect(r["service_code"] as? String == "municipalFacility" && r["service_name"] as? String == "市政设施")
            #expect(r["description"] as? String == "井盖破损" && r["media_url"] as? String == "https://city.example/p/1.jpg")
            #expect(r["address"] as? String == "演示路1号旁" && r["agency_responsible"] as? String == "测试社区")
            #expect(r["lat"] as? Double == Self.inA.lat && r["long"] as? Double == Self.inA.lon)
            let requested = try #require(r["requested_datetime"] as? String)
            #expect(requested.hasSuffix("+08:00") && ISO8601DateFormatter().date(from: requested) != nil)
            #expect(r["expected_datetime"] as? String != nil, "verify deadline of an open request")
            let keys = ["service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible", "service_notice",
                        "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"]
            #expect(Set(r.keys) == Set(keys))

            // The same request in XML carries the same values under the same names.
            let ox = try await get(app, "/open311/v2/requests/\(id).xml?api_key=\(w.key)")
            assertNoPersonalData(ox.body.string)
            let (oroot, orecs) = try xml(ox)
            #expect(oroot == "service_requests" && orecs.count == 1)
            let x = try #require(orecs.first)
            for k in ["service_request_id", "status", "status_notes", "service_code", "description", "requested_datetime", "media_url", "address"] {
                #expect(x[k] == r[k] as? String, "\(k): xml \(x[k] ?? "nil") vs json \(String(describing: r[k]))")
            }
            #expect(Double(x["lat"] ?? "") == Self.inA.lat && Double(x["long"] ?? "") == Self.inA.lon)
            #expect(Set(x.keys) == Set(keys))

            // List, token, and POST answered in XML.
            let list = try array(try await get(app, "/open311/v2/requests.json?api_key=\(w.key)"))
            #expect(list.map { $0["service_request_id"] as? String } == [id])
            let tok = try array(try await get(app, "/open311/v2/tokens/\(token).json?api_key=\(w.key)"))
            #expect(tok.first?["service_request_id"] as? String == id && tok.first?["token"] as? String == token)
            #expect(try await get(app, "/open311/v2/tokens/nope.json?api_key=\(w.key)").status == .notFound)
            let px = try await post(app, "xml", [("api_key", w.key), ("service_code", "fire"), ("lat", "24.671"), ("long", "102.901")])
            #expect(px.status == .created)
            let (proot, precs) = try xml(px)
            #expect(proot == "service_requests" && UUID(uuidString: precs.first?["service_request_id"] ?? "") != nil)
            #expect(precs.first?["description"] == nil, "the POST answer lists only id, token, notice and account_id")

            // Stored encrypted: no plaintext in the row, and the sealed value opens to the data.
            let sql = app.fengqiao.store.db as! any SQLDatabase
            let row = try #require(try await sql.raw("SELECT reporter_enc FROM open311_requests WHERE token = \(bind: token)").first())
            let sealed = try #require(try row.decode(column: "reporter_enc", as: String?.self))
            assertNoPersonalData(sealed)
            #expect(try app.fengqiao.cipher.open(sealed).contains("zhang.sanfeng@example.com"))
            // The staff API does not show it either.
            let staff = try await apiCall(app, .GET, "/api/v1/events/\(id)", token: w.workerToken)
            #expect(staff.status == .ok)
            assertNoPersonalData(staff.body.string)
            // Audited as a create under the key.
            let audited = try await app.fengqiao.audit.list(AuditQuery(objectType: "event", objectID: id, limit: 10), on: app.fengqiao.store.db)
            #expect(audited.contains { ($0.actorName ?? "").hasPrefix("open311:fq311_") && $0.action == .create })

            // A retried POST with the same Idempotency-Key files nothing twice.
            let before = try await tableCount(app, "grid_events")
            let h: HTTPHeaders = ["Idempotency-Key": "citizen-app-1"]
            let i1 = try await post(app, "json", [("api_key", w.key), ("service_code", "gas"), ("lat", "24.672"), ("long", "102.902")], headers: h)
            let i2 = try await post(app, "json", [("api_key", w.key), ("service_code", "gas"), ("lat", "24.672"), ("long", "102.902")], headers: h)
            #expect(i2.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try array(i1).first?["service_request_id"] as? String == (try array(i2).first?["service_request_id"] as? String))
            #expect(try await tableCount(app, "grid_events") == before + 1)
        }
    }

    @Test("status: open until the lifecycle closes the event, then closed; internally reported events are listed too")
    func statusMapping() async throws {
        try await withApp { app in
            let w = try await world(app)
            let id = try #require(try array(try await report(app, key: w.key)).first?["service_request_id"] as? String)
            func step(_ body: String) async throws {
                let r = try await apiCall(app, .POST, "/api/v1/events/\(id)/transitions", token: w.workerToken, json: body)
                #expect(r.status == .ok, "\(body): \(r.body.string)")
            }
            try await step(#"{"command":"verify"}"#)
            try await step(#"{"command":"fileCase"}"#)
            try await step(#"{"command":"resolveInGrid"}"#)
            var h = HTTPHeaders()
            h.bearerAuthorization = BearerAuthorization(token: w.workerToken)
            h.replaceOrAdd(name: .contentType, value: "image/jpeg")
            var up: TestingHTTPResponse?
            try await app.testing().test(.POST, "/api/v1/events/\(id)/photos", headers: h, body: ByteBuffer(data: TestImages.jpeg())) { up = $0 }
            #expect(up?.status == .created, "\(up?.body.string ?? "")")
            try await step(#"{"command":"submitResult"}"#)
            let mid = try #require(try array(try await get(app, "/open311/v2/requests/\(id).json?api_key=\(w.key)")).first)
            #expect(mid["status"] as? String == "open" && mid["status_notes"] as? String == "待核查")
            try await step(#"{"command":"checkPass"}"#)
            let closed = try #require(try array(try await get(app, "/open311/v2/requests/\(id).json?api_key=\(w.key)")).first)
            #expect(closed["status"] as? String == "closed" && closed["status_notes"] as? String == "已结案")
            #expect(closed["expected_datetime"] is NSNull)
            #expect(try array(try await get(app, "/open311/v2/requests.json?status=closed&api_key=\(w.key)")).map { $0["service_request_id"] as? String } == [id])
            #expect(try array(try await get(app, "/open311/v2/requests.json?status=open&api_key=\(w.key)")).isEmpty)
            #expect(try array(try await get(app, "/open311/v2/requests.json?status=open,closed&api_key=\(w.key)")).count == 1)

            // A void request is closed with its reason; a phone report by the grid worker is listed once submitted.
            let dup = try #require(try array(try await report(app, key: w.key)).first?["service_request_id"] as? String)
            let v = try await apiCall(app, .POST, "/api/v1/events/\(dup)/transitions", token: w.workerToken, json: #"{"command":"void","voidReason":"duplicate"}"#)
            #expect(v.status == .ok)
            let voided = try #require(try array(try await get(app, "/open311/v2/requests/\(dup).json?api_key=\(w.key)")).first)
            #expect(voided["status"] as? String == "closed" && voided["status_notes"] as? String == "已作废（重复上报）")
            let draft = try await apiCall(app, .POST, "/api/v1/events", token: w.workerToken,
                                          json: #"{"category":"fire","description":"楼道堆物","buildingId":"\#(idText(w.t.buildingA.id))"}"#)
            struct Created: Decodable { struct E: Decodable { var id: UUID }; var event: E }
            let internalID = idText(try json(draft, as: Created.self).event.id)
            #expect(try await get(app, "/open311/v2/requests/\(internalID).json?api_key=\(w.key)").status == .notFound, "drafts are not requests")
        }
    }

    @Test("the API key: required for POST and (by default) GET, 403 in the Open311 error format; revoked keys stop working; public read is configurable")
    func keyRequired() async throws {
        try await withApp { app in
            let w = try await world(app)
            let noKey = try await post(app, "json", [("service_code", "fire"), ("lat", "24.675"), ("long", "102.905")])
            #expect(noKey.status == .forbidden)
            let e = try #require(try array(noKey).first)
            #expect(e["code"] as? Int == 403 && e["description"] as? String == "api_key is required")
            let bad = try await post(app, "xml", [("api_key", "fq311_" + String(repeating: "0", count: 64)), ("service_code", "fire"), ("lat", "24.675"), ("long", "102.905")])
            #expect(bad.status == .forbidden)
            #expect(bad.body.string == #"<?xml version="1.0" encoding="utf-8"?><errors><error><code>403</code><description>invalid api_key</description></error></errors>"#)
            #expect(try await get(app, "/open311/v2/requests.json").status == .forbidden)
            #expect(try await get(app, "/open311/v2/services.xml").status == .forbidden)
            // The key works from a header too.
            #expect(try await rawCall(app, .GET, "/open311/v2/services.json", headers: ["X-API-Key": w.key]).status == .ok)
            #expect(try await tableCount(app, "grid_events") == 0)

            // Keys are listed without the secret; a worker may not issue keys.
            let keys = try await apiCall(app, .GET, "/api/v1/open311-keys", token: w.adminToken)
            #expect(keys.status == .ok && !keys.body.string.contains(w.key) && keys.body.string.contains(String(w.key.prefix(12))))
            #expect(try await issueKey(app, admin: w.workerToken, territory: w.t.gridA.id, account: w.worker.id).status == .forbidden)
            // An account whose scope does not cover the territory cannot be bound.
            let wrong = try await issueKey(app, admin: w.adminToken, territory: w.t.otherCommunity.id, account: w.officer.id)
            #expect(wrong.status == .unprocessableEntity && problem(wrong)?.errors?.first?.field == "accountId")
            let revoke = try await apiCall(app, .DELETE, "/api/v1/open311-keys/\(idText(w.keyID))", token: w.adminToken)
            #expect(revoke.status == .noContent)
            #expect(try await report(app, key: w.key).status == .forbidden)
            #expect(try await apiCall(app, .DELETE, "/api/v1/open311-keys/\(idText(w.keyID))", token: w.adminToken).status == .conflict)

            // FENGQIAO_OPEN311_PUBLIC_READ=true: GET without a key reads; POST still needs one.
            let f = app.fengqiao
            var cfg = f.config
            cfg.open311PublicRead = true
            app.fengqiao = Fengqiao(config: cfg, store: f.store, cipher: f.cipher, passwords: f.passwords)
            #expect(try await get(app, "/open311/v2/requests.json").status == .ok)
            #expect(try await post(app, "json", [("service_code", "fire"), ("lat", "24.675"), ("long", "102.905")]).status == .forbidden)
            #expect(try await get(app, "/open311/v2/requests.json?api_key=wrong").status == .forbidden, "a wrong key is refused even when reading is public")
            // Unknown resources answer in the Open311 error format.
            let unknown = try await get(app, "/open311/v2/nothing.json")
            #expect(unknown.status == .notFound)
            let unknownCode = try array(unknown).first?["code"] as? Int
            #expect(unknownCode == 404)
        }
    }

    @Test("bad input: a position outside the key's grids, no location, unknown service code, bad dates and filters → 400 naming the field")
    func badInput() async throws {
        try await withApp { app in
            let w = try await world(app)
            func description(_ r: TestingHTTPResponse) throws -> String {
                #expect(r.status == .badRequest, "\(r.body.string)")
                return try array(r).first?["description"] as? String ?? ""
            }
            #expect(try description(try await report(app, key: w.key, lat: 25.0, lon: 103.5))
                    == "lat/long: the position lies outside every grid of the API key's territory")
            #expect(try description(try await post(app, "json", [("api_key", w.key), ("service_code", "fire"), ("address_string", "演示路1号")])).hasPrefix("lat/long:"))
            #expect(try description(try await report(app, key: w.key, code: "manhole")) == "service_code: unknown service code manhole")
            #expect(try description(try await report(app, key: w.key, extra: [("attribute[severity]", "very")])).hasPrefix("attribute[severity]:"))
            #expect(try description(try await report(app, key: w.key, extra: [("media_url", "javascript:alert(1)")])).hasPrefix("media_url:"))
            #expect(try description(try await post(app, "json", [("api_key", w.key), ("service_code", "fire"), ("lat", "north"), ("long", "102.9")])).hasPrefix("lat/long:"))
            #expect(try description(try await get(app, "/open311/v2/requests.json?start_date=yesterday&api_key=\(w.key)")).hasPrefix("start_date:"))
            #expect(try description(try await get(app, "/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z&api_key=\(w.key)"))
                    == "start_date and end_date may not span more than 90 days")
            #expect(try description(try await get(app, "/open311/v2/requests.json?status=pending&api_key=\(w.key)")).hasPrefix("status:"))
            #expect(try description(try await get(app, "/open311/v2/requests.json?service_request_id=42&api_key=\(w.key)")).hasPrefix("service_request_id:"))
            #expect(try description(try await get(app, "/open311/v2/requests.json?service_code=nope&api_key=\(w.key)")).hasPrefix("service_code:"))
            #expect(try await tableCount(app, "grid_events") == 0, "nothing filed")
            // A building of the key's territory places the request without a position.
            let byBuilding = try await post(app, "json", [("api_key", w.key), ("service_code", "gas"), ("address_id", idText(w.t.buildingA.id))])
            #expect(byBuilding.status == .created, "\(byBuilding.body.string)")
            // A building with a position: its requests are listed at the building's position (as the map places them).
            let placed = try await TerritoryService(app.fengqiao).createBuilding(
                .init(gridId: w.t.gridA.id, name: "2栋", address: "演示路2号", floors: 5, lon: 102.9012, lat: 24.6712), actor: .commandLine(), visible: .everything)
            let atBuilding = try await post(app, "json", [("api_key", w.key), ("service_code", "gas"), ("address_id", idText(placed.id))])
            let placedID = try #require(try array(atBuilding).first?["service_request_id"] as? String)
            let listed = try array(try await get(app, "/open311/v2/requests/\(placedID).json?api_key=\(w.key)")).first
            #expect(listed?["lat"] as? Double == 24.6712 && listed?["long"] as? Double == 102.9012, "\(String(describing: listed))")
        }
    }

    @Test("filters: service_request_id list, service_code list, start/end dates, status")
    func filters() async throws {
        try await withApp { app in
            let w = try await world(app)
            var ids: [String] = []
            for code in ["fire", "gas", "fire"] {
                ids.append(try #require(try array(try await report(app, key: w.key, code: code)).first?["service_request_id"] as? String))
            }
            func list(_ q: String) async throws -> [String] {
                let r = try await get(app, "/open311/v2/requests.json?\(q)&api_key=\(w.key)")
                #expect(r.status == .ok, "\(q): \(r.body.string)")
                return try array(r).compactMap { $0["service_request_id"] as? String }
            }
            #expect(Set(try await list("service_code=fire")) == [ids[2], ids[0]])
            #expect(Set(try await list("service_code=fire,gas")) == Set(ids))
            #expect(Set(try await list("service_request_id=\(ids[0]),\(ids[1])")) == [ids[0], ids[1]])
            #expect(try await list("service_request_id=\(ids[1])&service_code=fire") == [ids[1]], "ids override the other filters")
            let f = ISO8601DateFormatter()
            let now = Date()
            #expect(try await list("start_date=\(f.string(from: now.addingTimeInterval(3600)))").isEmpty)
            #expect(Set(try await list("start_date=\(f.string(from: now.addingTimeInterval(-3600)))&end_date=\(f.string(from: now.addingTimeInterval(3600)))")) == Set(ids))
            #expect(try await list("end_date=\(f.string(from: now.addingTimeInterval(-3600)))").isEmpty)
            #expect(try await list("status=closed").isEmpty)
            #expect(try await list("status=open").count == 3)
        }
    }

    @Test("cross-territory: a key of one community neither reads nor files in another")
    func crossTerritory() async throws {
        try await withApp { app in
            let w = try await world(app)
            let id = try #require(try array(try await report(app, key: w.key)).first?["service_request_id"] as? String)
            let token = try #require(try array(try await report(app, key: w.key, code: "gas")).first?["token"] as? String)
            #expect(try await get(app, "/open311/v2/requests/\(id).json?api_key=\(w.otherKey)").status == .notFound)
            #expect(try await get(app, "/open311/v2/requests/\(id).xml?api_key=\(w.otherKey)").body.string.contains("<code>404</code>"))
            #expect(try array(try await get(app, "/open311/v2/requests.json?api_key=\(w.otherKey)")).isEmpty)
            #expect(try array(try await get(app, "/open311/v2/requests.json?service_request_id=\(id)&api_key=\(w.otherKey)")).isEmpty)
            #expect(try await get(app, "/open311/v2/tokens/\(token).json?api_key=\(w.otherKey)").status == .notFound)
            // Filing in grid A with the other community's key: outside its grids.
            let r = try await report(app, key: w.otherKey)
            #expect(r.status == .badRequest)
            #expect(try await post(app, "json", [("api_key", w.otherKey), ("service_code", "gas"), ("address_id", idText(w.t.buildingA.id))]).status == .badRequest)
            // The grid worker of grid B does not see the request in the staff API either.
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(id)", token: w.workerBToken).status == .notFound)
        }
    }

    struct MapOut: Decodable {
        struct Item: Decodable { var id: UUID; var category: String; var categoryName: String; var lat: Double; var lon: Double; var ageHours: Int }
        var items: [Item]
        var total: Int
        var truncated: Bool
    }

    @Test("map: open events in a bounding box, capped, only the caller's grids; bad boxes refused")
    func mapQuery() async throws {
        try await withApp { app in
            let w = try await world(app)
            var ids: [String] = []
            for (i, code) in ["fire", "gas", "traffic"].enumerated() {
                ids.append(try #require(try array(try await report(app, key: w.key, code: code, lat: 24.671 + Double(i) * 0.002, lon: 102.901 + Double(i) * 0.002)).first?["service_request_id"] as? String))
            }
            let box = "bbox=102.90,24.67,102.91,24.68"
            let all = try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)", token: w.workerToken), as: MapOut.self)
            #expect(Set(all.items.map { idText($0.id) }) == Set(ids) && !all.truncated)
            #expect(all.items.first { idText($0.id) == ids[0] }?.categoryName == "消防")
            let small = try json(try await apiCall(app, .GET, "/api/v1/events/map?bbox=102.900,24.670,102.902,24.672", token: w.workerToken), as: MapOut.self)
            #expect(small.items.map { idText($0.id) } == [ids[0]])
            let capped = try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)&limit=2", token: w.workerToken), as: MapOut.self)
            #expect(capped.items.count == 2 && capped.truncated)
            let gas = try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)&category=gas", token: w.workerToken), as: MapOut.self)
            #expect(gas.items.map { idText($0.id) } == [ids[1]])
            // Closed ones leave the map.
            _ = try await apiCall(app, .POST, "/api/v1/events/\(ids[1])/transitions", token: w.workerToken, json: #"{"command":"void","voidReason":"false"}"#)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)", token: w.workerToken), as: MapOut.self).items.count == 2)
            // Another grid's worker sees none of them.
            #expect(try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)", token: w.workerBToken), as: MapOut.self).items.isEmpty)
            for bad in ["bbox=1,2,3", "bbox=102.91,24.67,102.90,24.68", "bbox=100,20,105,25", "bbox=a,b,c,d"] {
                let r = try await apiCall(app, .GET, "/api/v1/events/map?\(bad)", token: w.workerToken)
                #expect(r.status == .unprocessableEntity && problem(r)?.errors?.first?.field == "bbox", "\(bad)")
            }
            #expect(try await apiCall(app, .GET, "/api/v1/events/map?\(box)", token: nil).status == .unauthorized)
        }
    }
}
