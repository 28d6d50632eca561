import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import NIOFoundationCompat
import Testing
import Vapor
import VaporTesting

/// Grid events and hazards through HTTP (issue 5, first slice): report with a photo → whistle to
/// the property contact → 报到 → result photo → check → close → subsidy approved by another user;
/// scopes answer 404 across grids and to contacts the event is not dispatched to; bad input.
@Suite("hazards and the whistle (吹哨报到)", .serialized)
struct HazardTests {
    static let jpeg = TestImages.jpeg(width: 16, height: 16)
    static let png = TestImages.png()

    struct EventOut: Decodable {
        var id: UUID
        var state: String
        var gridId: UUID
        var dispatchedTo: UUID?
        var whistled: Bool
        var reopenCount: Int
        var overdue: Bool
        var dueAt: Date?
        var photos: [PhotoOut]?
    }
    struct PhotoOut: Decodable { var sha256: String; var stage: String; var url: String; var mediaType: String }
    struct Created: Decodable { var event: EventOut; var possibleDuplicates: [EventOut] }
    struct ClaimOut: Decodable { var id: UUID; var state: String; var amountFen: Int?; var amountYuan: String? }
    struct ContactOut: Decodable { var id: UUID }

    struct World {
        var t: Territory
        var worker: Account
        var workerToken: String
        var workerB: Account
        var workerBToken: String
        var contact: Account
        var contactToken: String
        var otherContactToken: String
        var officerToken: String
        var adminToken: String
    }

    func world(_ app: Application) async throws -> World {
        let t = try await seedTerritory(app)
        let worker = try await makeUser(app, "grid.a", .gridWorker, .init(level: .grid, territoryID: t.gridA.id))
        let workerB = try await makeUser(app, "grid.b", .gridWorker, .init(level: .grid, territoryID: t.gridB.id))
        let contact = try await makeUser(app, "property.a", .departmentContact, .init(level: .community, territoryID: t.community.id))
        let other = try await makeUser(app, "property.b", .departmentContact, .init(level: .community, territoryID: t.community.id))
        let officer = try await makeUser(app, "officer", .communityPoliceOfficer, .init(level: .community, territoryID: t.community.id))
        let (_, adminToken) = try await sysadminToken(app)
        return World(
            t: t, worker: worker, workerToken: try await issueToken(app, worker), workerB: workerB, workerBToken: try await issueToken(app, workerB),
            contact: contact, contactToken: try await issueToken(app, contact), otherContactToken: try await issueToken(app, other),
            officerToken: try await issueToken(app, officer), adminToken: adminToken)
    }

    /// Sends raw bytes (a photo) with a bearer token.
    func upload(_ app: Application, _ path: String, token: String, _ data: Data, type: String = "image/jpeg") async throws -> TestingHTTPResponse {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        headers.replaceOrAdd(name: .contentType, value: type)
        var out: TestingHTTPResponse?
        try await app.testing().test(.POST, path, headers: headers, body: ByteBuffer(data: data)) { out = $0 }
        return out!
    }

    func transition(_ app: Application, _ id: UUID, token: String, _ body: String) async throws -> TestingHTTPResponse {
        try await apiCall(app, .POST, "/api/v1/events/\(idText(id))/transitions", token: token, json: body)
    }

    /// A point inside grid A's boundary (lon 102.90–102.91, lat 24.67–24.68).
    static let inA = (lon: 102.905, lat: 24.675)

    func report(_ app: Application, _ w: World, lon: Double = inA.lon, lat: Double = inA.lat, category: String = "municipalFacility", key: String? = nil) async throws -> TestingHTTPResponse {
        var h = HTTPHeaders()
        if let key { h.replaceOrAdd(name: "Idempotency-Key", value: key) }
        return try await apiCall(app, .POST, "/api/v1/events", token: w.workerToken,
                                 json: #"{"category":"\#(category)","severity":"normal","description":"井盖破损","location":{"lon":\#(lon),"lat":\#(lat)}}"#, headers: h)
    }

    func mapContact(_ app: Application, _ w: World) async throws {
        let res = try await apiCall(app, .POST, "/api/v1/responsible-contacts", token: w.adminToken,
                                    json: #"{"category":"municipalFacility","territoryId":"\#(idText(w.t.gridA.id))","contactId":"\#(idText(w.contact.id))","organisation":"阳光物业"}"#)
        #expect(res.status == .created, "\(res.body.string)")
    }

    /// A submitted event (reported) with one report photo.
    func submitted(_ app: Application, _ w: World, lon: Double = inA.lon, lat: Double = inA.lat) async throws -> UUID {
        let id = try json(try await report(app, w, lon: lon, lat: lat), as: Created.self).event.id
        #expect(try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.workerToken, Self.jpeg).status == .created)
        #expect(try await transition(app, id, token: w.workerToken, #"{"command":"submit"}"#).status == .ok)
        return id
    }

    @Test("done-when path: photo report → whistle to the property contact → 报到 → result photo → check → close → subsidy approved by another user")
    func fullPath() async throws {
        try await withApp { app in
            let w = try await world(app)
            let tariff = try await apiCall(app, .POST, "/api/v1/subsidy-tariffs", token: w.adminToken,
                                           json: #"{"caseType":"event","effectiveFrom":"2020-01-01","amountFen":5000}"#)
            #expect(tariff.status == .created, "\(tariff.body.string)")
            try await mapContact(app, w)

            // Report, resent after a dropped connection with the same key: one event.
            let first = try await report(app, w, key: "phone-report-1")
            #expect(first.status == .created, "\(first.body.string)")
            let again = try await report(app, w, key: "phone-report-1")
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            let id = try json(first, as: Created.self).event.id
            #expect(try json(again, as: Created.self).event.id == id)
            #expect(try await tableCount(app, "grid_events") == 1)
            #expect(try json(first, as: Created.self).event.state == "draft")

            let photo = try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.workerToken, Self.jpeg)
            #expect(photo.status == .created, "\(photo.body.string)")
            let p = try json(photo, as: PhotoOut.self)
            #expect(p.mediaType == "image/jpeg" && p.stage == "report")
            // Stored once by content hash under <data-dir>/photos/.
            let stored = (app.fengqiao.config.dataDirectory as NSString).appendingPathComponent("photos/\(p.sha256.prefix(2))/\(p.sha256)")
            #expect(FileManager.default.contents(atPath: stored) == Self.jpeg)

            #expect(try await transition(app, id, token: w.workerToken, #"{"command":"submit"}"#).status == .ok)
            #expect(try await transition(app, id, token: w.workerToken, #"{"command":"verify"}"#).status == .ok)
            #expect(try await transition(app, id, token: w.workerToken, #"{"command":"fileCase","category":"municipalFacility","severity":"urgent"}"#).status == .ok)

            // The contact cannot see it before dispatch.
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.contactToken).status == .notFound)
            let whistle = try await transition(app, id, token: w.workerToken, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))","whistleReason":"emergency"}"#)
            #expect(whistle.status == .ok, "\(whistle.body.string)")
            let dispatched = try json(whistle, as: EventOut.self)
            #expect(dispatched.state == "dispatched" && dispatched.whistled && dispatched.dispatchedTo == w.contact.id && dispatched.dueAt != nil && !dispatched.overdue)

            // The contact sees it now; another contact acknowledging gets 404.
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.contactToken).status == .ok)
            #expect(try await transition(app, id, token: w.otherContactToken, #"{"command":"acknowledge"}"#).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))/photos/\(p.sha256)", token: w.otherContactToken).status == .notFound)
            let ack = try await transition(app, id, token: w.contactToken, #"{"command":"acknowledge"}"#)
            #expect(try json(ack, as: EventOut.self).state == "inProgress")

            // Result without a photo is refused; with one it goes to the check.
            let early = try await transition(app, id, token: w.contactToken, #"{"command":"submitResult"}"#)
            #expect(early.status == .unprocessableEntity && problem(early)?.errors?.first?.field == "photos")
            #expect(try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.contactToken, Self.png, type: "application/octet-stream").status == .created)
            #expect(try json(try await transition(app, id, token: w.contactToken, #"{"command":"submitResult"}"#), as: EventOut.self).state == "awaitingCheck")
            let closed = try json(try await transition(app, id, token: w.workerToken, #"{"command":"checkPass"}"#), as: EventOut.self)
            #expect(closed.state == "closed")
            #expect(closed.photos?.map(\.stage).sorted() == ["report", "result"])

            // The photo is served to those who see the event.
            let img = try await apiCall(app, .GET, "/api/v1/events/\(idText(id))/photos/\(p.sha256)", token: w.workerToken)
            #expect(img.status == .ok && img.headers.contentType?.description == "image/jpeg")
            #expect(Data(buffer: img.body) == Self.jpeg)

            // Subsidy: claimed by the grid worker, refused to self-review, approved by the officer.
            let claimRes = try await apiCall(app, .POST, "/api/v1/subsidy-claims", token: w.workerToken, json: #"{"caseType":"event","caseId":"\#(idText(id))"}"#)
            #expect(claimRes.status == .created, "\(claimRes.body.string)")
            let claim = try json(claimRes, as: ClaimOut.self)
            #expect(claim.state == "claimed")
            let second = try await apiCall(app, .POST, "/api/v1/subsidy-claims", token: w.workerToken, json: #"{"caseType":"event","caseId":"\#(idText(id))"}"#)
            #expect(second.status == .conflict)
            #expect(problem(second)?.detail.contains(idText(claim.id)) == true, "the refusal names the first claim")
            let approved = try await apiCall(app, .POST, "/api/v1/subsidy-claims/\(idText(claim.id))/review", token: w.officerToken, json: #"{"approve":true}"#)
            #expect(approved.status == .ok, "\(approved.body.string)")
            let a = try json(approved, as: ClaimOut.self)
            #expect(a.state == "approved" && a.amountFen == 5000 && a.amountYuan == "50.00")

            // A tariff change never alters the approved amount.
            _ = try await apiCall(app, .POST, "/api/v1/subsidy-tariffs", token: w.adminToken, json: #"{"caseType":"event","effectiveFrom":"2021-01-01","amountFen":9900}"#)
            let after = try json(try await apiCall(app, .GET, "/api/v1/subsidy-claims/\(idText(claim.id))", token: w.workerToken), as: ClaimOut.self)
            #expect(after.amountFen == 5000)

            // Audited: create, photo, every transition.
            let audited = try await app.fengqiao.audit.list(AuditQuery(objectType: "event", objectID: idText(id), limit: 100), on: app.fengqiao.store.db)
            #expect(audited.count >= 10)
        }
    }

    @Test("in-grid resolution: a failed check reopens; only a reviewer decides a claim and a rejection needs a note")
    func inGridAndReview() async throws {
        try await withApp { app in
            let w = try await world(app)
            _ = try await apiCall(app, .POST, "/api/v1/subsidy-tariffs", token: w.adminToken, json: #"{"caseType":"event","effectiveFrom":"2020-01-01","amountFen":100}"#)
            let id = try await submitted(app, w)
            for c in [#"{"command":"verify"}"#, #"{"command":"fileCase"}"#, #"{"command":"resolveInGrid"}"#] {
                #expect(try await transition(app, id, token: w.workerToken, c).status == .ok)
            }
            #expect(try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.workerToken, Self.png).status == .created)
            #expect(try await transition(app, id, token: w.workerToken, #"{"command":"submitResult"}"#).status == .ok)
            let fail = try json(try await transition(app, id, token: w.workerToken, #"{"command":"checkFail","reason":"未修复"}"#), as: EventOut.self)
            #expect(fail.state == "inProgress" && fail.reopenCount == 1)
            #expect(try await transition(app, id, token: w.workerToken, #"{"command":"submitResult"}"#).status == .ok)
            #expect(try await transition(app, id, token: w.workerToken, #"{"command":"checkPass"}"#).status == .ok)
            let claim = try json(try await apiCall(app, .POST, "/api/v1/subsidy-claims", token: w.workerToken, json: #"{"caseId":"\#(idText(id))"}"#), as: ClaimOut.self)
            // The grid worker lacks subsidy:review (403 by the route); the officer may approve.
            #expect(try await apiCall(app, .POST, "/api/v1/subsidy-claims/\(idText(claim.id))/review", token: w.workerToken, json: #"{"approve":true}"#).status == .forbidden)
            let rej = try await apiCall(app, .POST, "/api/v1/subsidy-claims/\(idText(claim.id))/review", token: w.officerToken, json: #"{"approve":false}"#)
            #expect(rej.status == .unprocessableEntity && problem(rej)?.errors?.first?.field == "note")
        }
    }

    @Test("a grid worker of another grid gets 404 for the event, its photos and its transitions")
    func crossGrid() async throws {
        try await withApp { app in
            let w = try await world(app)
            let id = try await submitted(app, w)
            let ev = try json(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.workerToken), as: EventOut.self)
            let sha = try #require(ev.photos?.first?.sha256)
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.workerBToken).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))/photos/\(sha)", token: w.workerBToken).status == .notFound)
            #expect(try await transition(app, id, token: w.workerBToken, #"{"command":"verify"}"#).status == .notFound)
            #expect(try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.workerBToken, Self.jpeg).status == .notFound)
            let list = try json(try await apiCall(app, .GET, "/api/v1/events", token: w.workerBToken), as: ListOut.self)
            #expect(list.items.isEmpty)
            let mine = try json(try await apiCall(app, .GET, "/api/v1/events?open=true", token: w.workerToken), as: ListOut.self)
            #expect(mine.items.map(\.id) == [id])
            // The officer of the community sees it; a contact not dispatched to does not.
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.officerToken).status == .ok)
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.contactToken).status == .notFound)
            #expect(try await transition(app, id, token: w.contactToken, #"{"command":"acknowledge"}"#).status == .notFound)
            // A photo hash that the event does not hold is 404 even for its own grid worker.
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))/photos/\(String(repeating: "a", count: 64))", token: w.workerToken).status == .notFound)
            // A contact has no territory rights beyond its events.
            #expect(try await apiCall(app, .GET, "/api/v1/events", token: w.contactToken).status == .ok)
            #expect(try await apiCall(app, .POST, "/api/v1/events", token: w.contactToken, json: #"{"category":"fire"}"#).status == .forbidden)
        }
    }

    struct ListOut: Decodable { var items: [EventOut]; var total: Int }

    @Test("bad input: a non-image photo is refused and the report stays a draft; a position outside every grid; invalid transitions")
    func badInput() async throws {
        try await withApp { app in
            let w = try await world(app)
            let id = try json(try await report(app, w), as: Created.self).event.id
            let pdf = try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.workerToken, Data("%PDF-1.7 not an image".utf8))
            #expect(pdf.status == .unprocessableEntity)
            #expect(problem(pdf)?.errors?.first?.field == "photo")
            #expect(problem(pdf)?.errors?.first?.reason.contains("not a JPEG, PNG or HEIC") == true)
            let fake = try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.workerToken, Data("GIF89a....".utf8), type: "image/jpeg")
            #expect(fake.status == .unprocessableEntity, "the declared type does not count")
            let limit = app.fengqiao.config.maxPhotoBytes
            let big = try await upload(app, "/api/v1/events/\(idText(id))/photos", token: w.workerToken, Self.jpeg + Data(count: limit))
            #expect(big.status == .unprocessableEntity)
            #expect(problem(big)?.errors?.first?.reason.contains("the limit is \(limit) bytes") == true)
            let ev = try json(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.workerToken), as: EventOut.self)
            #expect(ev.state == "draft" && ev.photos?.isEmpty == true)
            let noPhoto = try await transition(app, id, token: w.workerToken, #"{"command":"submit"}"#)
            #expect(noPhoto.status == .unprocessableEntity && problem(noPhoto)?.errors?.first?.field == "photos")

            let outside = try await report(app, w, lon: 103.5, lat: 25.0)
            #expect(outside.status == .unprocessableEntity)
            #expect(problem(outside)?.errors?.first?.field == "location")
            #expect(problem(outside)?.errors?.first?.reason == "the position lies outside every grid of your territory")
            let noLoc = try await apiCall(app, .POST, "/api/v1/events", token: w.workerToken, json: #"{"category":"fire","description":"x"}"#)
            #expect(problem(noLoc)?.errors?.first?.field == "location")
            let otherBuilding = try await apiCall(app, .POST, "/api/v1/events", token: w.workerToken,
                                                  json: #"{"category":"fire","description":"x","buildingId":"\#(idText(w.t.buildingB.id))"}"#)
            #expect(otherBuilding.status == .unprocessableEntity && problem(otherBuilding)?.errors?.first?.field == "buildingId")
            let badCategory = try await apiCall(app, .POST, "/api/v1/events", token: w.workerToken, json: #"{"category":"manhole","description":"x","buildingId":"\#(idText(w.t.buildingA.id))"}"#)
            #expect(badCategory.status == .badRequest)

            let sub = try await submitted(app, w)
            let early = try await transition(app, sub, token: w.workerToken, #"{"command":"checkPass"}"#)
            #expect(early.status == .conflict)
            #expect(problem(early)?.detail == "state: cannot checkPass an event in state reported")
            let unknown = try await transition(app, sub, token: w.workerToken, #"{"command":"explode"}"#)
            #expect(problem(unknown)?.errors?.first?.field == "command")
            // Dispatch only to a mapped responsible contact.
            _ = try await transition(app, sub, token: w.workerToken, #"{"command":"verify"}"#)
            _ = try await transition(app, sub, token: w.workerToken, #"{"command":"fileCase"}"#)
            let unmapped = try await transition(app, sub, token: w.workerToken, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))"}"#)
            #expect(problem(unmapped)?.errors?.first?.field == "contactId")
            // Claims need a closed, checked case.
            let open = try await apiCall(app, .POST, "/api/v1/subsidy-claims", token: w.workerToken, json: #"{"caseId":"\#(idText(sub))"}"#)
            #expect(problem(open)?.errors?.first?.field == "caseId")
        }
    }

    @Test("return by the contact with a reason goes back for re-dispatch")
    func returnAndRedispatch() async throws {
        try await withApp { app in
            let w = try await world(app)
            try await mapContact(app, w)
            let id = try await submitted(app, w)
            _ = try await transition(app, id, token: w.workerToken, #"{"command":"verify"}"#)
            _ = try await transition(app, id, token: w.workerToken, #"{"command":"fileCase"}"#)
            _ = try await transition(app, id, token: w.workerToken, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))"}"#)
            let noReason = try await transition(app, id, token: w.contactToken, #"{"command":"return"}"#)
            #expect(problem(noReason)?.errors?.first?.field == "reason")
            let back = try json(try await transition(app, id, token: w.contactToken, #"{"command":"return","reason":"不属于物业管理范围"}"#), as: EventOut.self)
            #expect(back.state == "filed" && back.dispatchedTo == nil)
            // No longer theirs.
            #expect(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: w.contactToken).status == .notFound)
            #expect(try await transition(app, id, token: w.workerToken, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))","whistleReason":"jointEnforcement"}"#).status == .ok)
        }
    }

    @Test("open events of the same category nearby are offered as possible duplicates (same building or within 50 m)")
    func duplicates() async throws {
        try await withApp { app in
            let w = try await world(app)
            let first = try await submitted(app, w)
            // ~30 m north (0.00027° latitude ≈ 30 m): offered.
            let near = try json(try await report(app, w, lat: Self.inA.lat + 0.00027), as: Created.self)
            #expect(near.possibleDuplicates.map(\.id) == [first])
            // ~110 m away: not offered; another category: not offered.
            #expect(try json(try await report(app, w, lat: Self.inA.lat + 0.001), as: Created.self).possibleDuplicates.isEmpty)
            #expect(try json(try await report(app, w, lat: Self.inA.lat + 0.00027, category: "fire"), as: Created.self).possibleDuplicates.isEmpty)
            // The same building.
            let b1 = try await apiCall(app, .POST, "/api/v1/events", token: w.workerToken, json: #"{"category":"gas","description":"燃气味","buildingId":"\#(idText(w.t.buildingA.id))"}"#)
            let bid = try json(b1, as: Created.self).event.id
            #expect(try await upload(app, "/api/v1/events/\(idText(bid))/photos", token: w.workerToken, Self.jpeg).status == .created)
            #expect(try await transition(app, bid, token: w.workerToken, #"{"command":"submit"}"#).status == .ok)
            let nearby = try await apiCall(app, .POST, "/api/v1/events/nearby", token: w.workerToken, json: #"{"category":"gas","buildingId":"\#(idText(w.t.buildingA.id))"}"#)
            #expect(try json(nearby, as: ListOut.self).items.map(\.id) == [bid])
            // Another grid's worker is never offered events they cannot see.
            let other = try await apiCall(app, .POST, "/api/v1/events/nearby", token: w.workerBToken, json: #"{"category":"municipalFacility","location":{"lon":\#(Self.inA.lon),"lat":\#(Self.inA.lat)}}"#)
            #expect(try json(other, as: ListOut.self).items.isEmpty)
        }
    }

    /// A local webhook receiver started by the test: answers 503 while `failing` is above zero, then 200.
    actor Receiver {
        var failing = 0
        var received: [(headers: HTTPHeaders, body: Data, status: Int)] = []
        func setFailing(_ n: Int) { failing = n }
        func take(_ h: HTTPHeaders, _ b: Data) -> Int {
            let status = failing > 0 ? 503 : 200
            if failing > 0 { failing -= 1 }
            received.append((h, b, status))
            return status
        }
    }

    struct DeliveryOut: Decodable { var state: String; var attempts: Int; var lastStatus: Int?; var targetUrl: String }
    struct DeliveryPage: Decodable { var items: [DeliveryOut] }

    @Test("the whistle is delivered as an HMAC-signed webhook through the outbox; a failing receiver gets retries with backoff and loses nothing")
    func webhookOutbox() async throws {
        let receiver = Receiver()
        let rx = try await Application.make(.testing)
        rx.post("hook") { req async -> Response in
            var b = req.body.data ?? ByteBuffer()
            let data = b.readData(length: b.readableBytes) ?? Data()
            return Response(status: HTTPResponseStatus(statusCode: await receiver.take(req.headers, data)))
        }
        try await rx.server.start(address: .hostname("127.0.0.1", port: 0))
        do {
            let port = try #require(rx.http.server.shared.localAddress?.port)
            try await withApp { app in
                let w = try await world(app)
                let secret = "whistle-secret-0123456789"
                let map = try await apiCall(app, .POST, "/api/v1/responsible-contacts", token: w.adminToken, json: """
                    {"category":"municipalFacility","territoryId":"\(idText(w.t.gridA.id))","contactId":"\(idText(w.contact.id))","organisation":"阳光物业",
                     "webhookUrl":"http://127.0.0.1:\(port)/hook","webhookSecret":"\(secret)"}
                    """)
                #expect(map.status == .created, "\(map.body.string)")
                let bad = try await apiCall(app, .POST, "/api/v1/responsible-contacts", token: w.adminToken, json: """
                    {"category":"gas","territoryId":"\(idText(w.t.gridA.id))","contactId":"\(idText(w.contact.id))","organisation":"x","webhookUrl":"ftp://x/y","webhookSecret":"\(secret)"}
                    """)
                #expect(problem(bad)?.errors?.first?.field == "webhookUrl")

                let id = try await submitted(app, w)
                _ = try await transition(app, id, token: w.workerToken, #"{"command":"verify"}"#)
                _ = try await transition(app, id, token: w.workerToken, #"{"command":"fileCase"}"#)
                #expect(try await transition(app, id, token: w.workerToken, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))","whistleReason":"emergency"}"#).status == .ok)
                #expect(try await tableCount(app, "notification_outbox") == 1, "queued in the dispatching transaction")

                let outbox = NotificationOutbox(app.fengqiao)
                let t0 = Date()
                await receiver.setFailing(1)
                #expect(try await outbox.deliverDue(client: app.client, now: t0) == .init(delivered: 0, retried: 1, failed: 0))
                #expect(try await outbox.deliverDue(client: app.client, now: t0.addingTimeInterval(10)) == .init(), "not due before the 30 s backoff")
                let pending = try json(try await apiCall(app, .GET, "/api/v1/notification-deliveries", token: w.adminToken), as: DeliveryPage.self)
                #expect(pending.items.first?.state == "pending" && pending.items.first?.attempts == 1 && pending.items.first?.lastStatus == 503)
                #expect(try await outbox.deliverDue(client: app.client, now: t0.addingTimeInterval(31)) == .init(delivered: 1, retried: 0, failed: 0))
                #expect(try await outbox.deliverDue(client: app.client, now: t0.addingTimeInterval(3600)) == .init(), "delivered once only")

                let got = await receiver.received
                #expect(got.map(\.status) == [503, 200])
                let last = try #require(got.last)
                let ts = try #require(Int(last.headers.first(name: "X-Fengqiao-Timestamp") ?? ""))
                let sig = try #require(last.headers.first(name: "X-Fengqiao-Signature"))
                #expect(WebhookSignature.verify(sig, secret: secret, timestamp: ts, body: last.body))
                #expect(!WebhookSignature.verify(sig, secret: "another-secret-0000", timestamp: ts, body: last.body))
                let payload = try JSONSerialization.jsonObject(with: last.body) as? [String: Any]
                #expect((payload?["eventId"] as? String)?.lowercased() == idText(id))
                #expect(payload?["whistleReason"] as? String == "emergency" && payload?["type"] as? String == "event.dispatched")
                #expect(payload?["reporterId"] == nil && !String(decoding: last.body, as: UTF8.self).contains("井盖"), "no personal data or free text")

                let done = try json(try await apiCall(app, .GET, "/api/v1/notification-deliveries", token: w.adminToken), as: DeliveryPage.self)
                #expect(done.items.first?.state == "delivered" && done.items.first?.attempts == 2)
                #expect(try await apiCall(app, .GET, "/api/v1/notification-deliveries", token: w.workerToken).status == .forbidden)
            }
        } catch {
            await rx.server.shutdown()
            try? await rx.asyncShutdown()
            throw error
        }
        await rx.server.shutdown()
        try await rx.asyncShutdown()
    }
}
