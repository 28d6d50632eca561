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

/// Issue 5 "Done when", end to end in the demo community as loaded by `fengqiao demo`, through
/// the web pages a phone browser uses: a grid worker reports a broken manhole cover with a photo;
/// the property contact receives the whistle (webhook to a local receiver), acknowledges and
/// submits a repair photo; the grid worker checks and closes it; the grid worker's subsidy claim is
/// approved; the map and the statistics (API and page) reflect it; an Open311 client lists the
/// same request as closed (JSON and XML).
extension HazardTests {
    /// Posts a multipart form (fields, then files) with the browser's cookies and CSRF token.
    func multipart(_ b: inout Browser, _ path: String, _ fields: [String: String], files: [(String, String, Data)]) async throws -> TestingHTTPResponse {
        let boundary = "----fqdone\(UUID().uuidString.prefix(8))"
        var body = Data()
        var all = fields
        all["_csrf"] = b.csrf
        for (k, v) in all.sorted(by: { $0.key < $1.key }) {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n".utf8)
        }
        for (name, filename, data) in files {
            body += Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"; filename=\"\(filename)\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
            body += data
            body += Data("\r\n".utf8)
        }
        body += Data("--\(boundary)--\r\n".utf8)
        var headers = b.cookieHeader
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        var out: TestingHTTPResponse?
        try await b.app.testing().test(.POST, path, headers: headers, body: ByteBuffer(data: body)) { out = $0 }
        b.absorb(out!)
        return out!
    }

    struct MapOut: Decodable {
        struct Item: Decodable { var id: UUID; var category: String; var state: String }
        var items: [Item]
    }
    struct StatsOut: Decodable {
        struct Figures: Decodable { var found: Int; var verified: Int; var whistled: Int; var solved: Int; var onTime: Int; var overdue: Int }
        var summary: String
        var total: Figures
    }

    /// The demo community's accounts by username (id, signed-in browser where it has a password).
    struct DemoPeople {
        var ids: [String: UUID]
        var passwords: [String: String]
    }

    @Test("done when (issue 5), demo community, through the phone pages: photo report → whistle webhook to a local receiver → 报到 → repair photo → check and close → subsidy approved → map and statistics → Open311 lists it closed")
    func doneWhenInDemoCommunity() async throws {
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
                // `fengqiao demo --webhook-url http://127.0.0.1:PORT/hook --webhook-secret …`
                let secret = "demo-whistle-secret-2026"
                let demo = try await DemoCommunity(app.fengqiao).load(actor: .commandLine(), webhook: .init(url: "http://127.0.0.1:\(port)/hook", secret: secret))
                let pw = Dictionary(uniqueKeysWithValues: demo.credentials.map { ($0.username, $0.password) })
                func account(_ username: String) async throws -> Account {
                    let u = try #require(try await app.fengqiao.accounts.find(username: username, on: app.fengqiao.store.db))
                    return try await AccountService(app.fengqiao).get(try #require(u.id), visible: .everything)
                }
                let gridWorker = try await account("demo-grid01"), property = try await account("demo-property1"), officer = try await account("demo-officer")
                let gridOne = try #require(gridWorker.scope.territoryID)
                let (_, adminToken) = try await sysadminToken(app)
                // The demo maps property contact 1 for 市政设施 in grid 1 (no set-up needed).
                let mapping = try await apiCall(app, .GET, "/api/v1/responsible-contacts?territoryId=\(idText(gridOne))", token: adminToken)
                #expect(mapping.status == .ok && mapping.body.string.lowercased().contains(idText(property.id)) && mapping.body.string.contains("演示物业一公司"), "\(mapping.body.string.prefix(300))")
                // An Open311 client (a citizen app) holds a key for the demo community.
                let keyRes = try await apiCall(app, .POST, "/api/v1/open311-keys", token: adminToken,
                                               json: #"{"label":"市民App","territoryId":"\#(idText(demo.communityID))","accountId":"\#(idText(officer.id))"}"#)
                #expect(keyRes.status == .created, "\(keyRes.body.string)")
                let key = try #require((try JSONSerialization.jsonObject(with: Data(keyRes.body.string.utf8)) as? [String: Any])?["key"] as? String)

                var worker = Browser(app)
                #expect(try await worker.login("demo-grid01", try #require(pw["demo-grid01"])).status == .seeOther)
                var contact = Browser(app)
                #expect(try await contact.login("demo-property1", try #require(pw["demo-property1"])).status == .seeOther)
                var reviewer = Browser(app)
                #expect(try await reviewer.login("demo-officer", try #require(pw["demo-officer"])).status == .seeOther)
                let workerToken = try await issueToken(app, gridWorker), officerToken = try await issueToken(app, officer)
                // The demo community's box (its 20 grids lie within 102.900–102.921 E, 24.6656–24.680 N).
                let box = "bbox=102.899,24.664,102.922,24.681"
                let statsBefore = try json(try await apiCall(app, .GET, "/api/v1/events/statistics?territory=\(idText(demo.communityID))", token: officerToken), as: StatsOut.self)
                #expect(statsBefore.total.found == 0 && statsBefore.total.solved == 0)

                // 1. The grid worker reports a broken manhole cover with a photo from the phone form (GPS position in grid 1).
                let form = try await worker.get("/hazards/new")
                #expect(form.status == .ok && form.body.string.contains("capture=\"environment\""))
                let fk = try #require(form.body.string.range(of: "name=\"formKey\" value=\"").map { r -> String in
                    let rest = form.body.string[r.upperBound...]
                    return String(rest[..<rest.firstIndex(of: "\"")!])
                })
                let reported = try await multipart(&worker, "/hazards/new", ["formKey": fk, "category": "municipalFacility", "severity": "normal",
                                                                             "description": "井盖破损，有行人踩空风险", "lon": "102.9021", "lat": "24.6782"],
                                                   files: [("photos", "manhole.jpg", Self.jpeg)])
                #expect(reported.status == .seeOther, "\(reported.body.string.prefix(800))")
                let path = try #require(location(reported))
                let id = try #require(UUID(uuidString: String(path.dropFirst("/hazards/".count))))
                let ev = try json(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: workerToken), as: EventOut.self)
                #expect(ev.state == "reported" && ev.gridId == gridOne && ev.photos?.map(\.stage) == ["report"])

                // 2. Verify, file, whistle to the property contact from the event page.
                var page = try await worker.get(path).body.string
                #expect(page.contains("value=\"verify\""))
                #expect(try await worker.post("\(path)/actions", ["command": "verify"]).status == .seeOther)
                #expect(try await worker.post("\(path)/actions", ["command": "fileCase", "category": "municipalFacility", "severity": "urgent"]).status == .seeOther)
                page = try await worker.get(path).body.string
                #expect(page.contains("演示物业一公司") && page.contains(idText(property.id)) && page.contains("name=\"whistleReason\""), "the whistle form offers the demo property contact")
                #expect(try await contact.get(path).status == .notFound, "not the contact's before the whistle")
                let whistle = try await worker.post("\(path)/actions", ["command": "dispatch", "contactId": idText(property.id), "whistleReason": "emergency"])
                #expect(whistle.status == .seeOther, "\(whistle.body.string.prefix(800))")

                // The whistle reaches the local receiver through the outbox, HMAC-signed, without free text.
                let sent = try await NotificationOutbox(app.fengqiao).deliverDue(client: app.client, now: Date())
                #expect(sent == .init(delivered: 1, retried: 0, failed: 0))
                let got = await receiver.received
                #expect(got.count == 1 && got.first?.status == 200)
                let hook = try #require(got.first)
                let ts = try #require(Int(hook.headers.first(name: "X-Fengqiao-Timestamp") ?? ""))
                #expect(WebhookSignature.verify(try #require(hook.headers.first(name: "X-Fengqiao-Signature")), secret: secret, timestamp: ts, body: hook.body))
                let payload = try #require(try JSONSerialization.jsonObject(with: hook.body) as? [String: Any])
                #expect((payload["eventId"] as? String)?.lowercased() == idText(id) && payload["type"] as? String == "event.dispatched" && payload["whistleReason"] as? String == "emergency")
                #expect(!String(decoding: hook.body, as: UTF8.self).contains("井盖"), "no free text in the webhook")

                // While open: on the map (API and page), counted as found and whistled, open in Open311.
                let mapOpen = try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)", token: workerToken), as: MapOut.self)
                #expect(mapOpen.items.map(\.id) == [id] && mapOpen.items.first?.state == "dispatched")
                let statsPageOpen = try await reviewer.get("/hazards/statistics?territory=\(idText(demo.communityID))").body.string
                #expect(statsPageOpen.contains("/hazards/\(idText(id))") && statsPageOpen.contains("发现风险隐患 1 处，解决群众急难愁盼问题 0 件"))
                let o311Open = try #require(try JSONSerialization.jsonObject(with: Data(try await rawCall(app, .GET, "/open311/v2/requests/\(idText(id)).json?api_key=\(key)").body.string.utf8)) as? [[String: Any]])
                #expect(o311Open.first?["status"] as? String == "open")

                // The timeline names the contact and the whistle reason, never the raw account id.
                page = try await worker.get(path).body.string
                #expect(page.contains("派遣/吹哨对象：演示物业联系人1；吹哨事由：应急处置") && !page.contains("dispatch to"), "\(page)")

                // 3. The property contact finds the whistle among their notifications, linked to the event page,
                // reports in (报到) and sends the repair photo with the result.
                let notes = try await contact.get("/notifications").body.string
                #expect(notes.contains("<a href=\"\(path)\">吹哨报到：市政设施</a>"), "\(notes)")
                let work = try await contact.get("/hazards").body.string
                #expect(work.contains("派遣（吹哨）给您的事件") && work.contains("href=\"\(path)\""), "the contact's work list")
                page = try await contact.get(path).body.string
                #expect(page.contains("value=\"acknowledge\""))
                #expect(try await contact.post("\(path)/actions", ["command": "acknowledge"]).status == .seeOther)
                page = try await contact.get(path).body.string
                #expect(page.contains("value=\"submitResult\""))
                let empty = try await multipart(&contact, "\(path)/photos", ["then": "submitResult"], files: [])
                #expect(empty.status == .unprocessableEntity && empty.body.string.contains("photos: 请先选择至少一张照片"))
                let repaired = try await multipart(&contact, "\(path)/photos", ["then": "submitResult"], files: [("photos", "repaired.png", Self.png)])
                #expect(repaired.status == .seeOther, "\(repaired.body.string.prefix(800))")
                #expect(try json(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: workerToken), as: EventOut.self).state == "awaitingCheck")

                // 4. The grid worker checks on site and closes it.
                page = try await worker.get(path).body.string
                #expect(page.contains("value=\"checkPass\""))
                #expect(try await worker.post("\(path)/actions", ["command": "checkPass"]).status == .seeOther)
                let closed = try json(try await apiCall(app, .GET, "/api/v1/events/\(idText(id))", token: workerToken), as: EventOut.self)
                #expect(closed.state == "closed" && closed.whistled && closed.dispatchedTo == property.id && closed.photos?.map(\.stage).sorted() == ["report", "result"])

                // 5. The grid worker claims the subsidy; the officer approves it: 50.00 yuan from the demo tariff.
                page = try await worker.get(path).body.string
                #expect(page.contains("\(path)/claim"))
                #expect(try await worker.post("\(path)/claim", ["claim": "1"]).status == .seeOther)
                let claimID = try #require(try await app.fengqiao.store.sql.raw("SELECT id FROM subsidy_claims WHERE case_id = \(bind: id)").first()?.decode(column: "id", as: UUID.self))
                #expect(try await reviewer.get("/subsidies/claims?pending=1").body.string.contains("/subsidies/claims/\(idText(claimID))/review"))
                #expect(try await reviewer.post("/subsidies/claims/\(idText(claimID))/review", ["decision": "approve"]).status == .seeOther)
                let claim = try json(try await apiCall(app, .GET, "/api/v1/subsidy-claims/\(idText(claimID))", token: workerToken), as: ClaimOut.self)
                #expect(claim.state == "approved" && claim.amountFen == 5000 && claim.amountYuan == "50.00")
                page = try await worker.get("/subsidies/claims").body.string
                #expect(page.contains("已批准") && page.contains("50.00"))

                // 6. The map and the statistics reflect it: off the map, found 1 / whistled 1 / solved 1.
                #expect(try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)", token: workerToken), as: MapOut.self).items.isEmpty)
                #expect(try json(try await apiCall(app, .GET, "/api/v1/events/map?\(box)", token: officerToken), as: MapOut.self).items.isEmpty)
                let stats = try json(try await apiCall(app, .GET, "/api/v1/events/statistics?territory=\(idText(demo.communityID))", token: officerToken), as: StatsOut.self)
                #expect(stats.total.found == 1 && stats.total.verified == 1 && stats.total.whistled == 1 && stats.total.solved == 1 && stats.total.onTime == 1 && stats.total.overdue == 0)
                #expect(stats.summary == "发现风险隐患 1 处，解决群众急难愁盼问题 1 件")
                let own = try json(try await apiCall(app, .GET, "/api/v1/events/statistics", token: workerToken), as: StatsOut.self)
                #expect(own.total.found == 1 && own.total.solved == 1)
                let statsPage = try await reviewer.get("/hazards/statistics?territory=\(idText(demo.communityID))")
                #expect(statsPage.status == .ok && statsPage.body.string.contains("发现风险隐患 1 处，解决群众急难愁盼问题 1 件"))
                #expect(statsPage.body.string.contains("class=\"gridmap\"") && !statsPage.body.string.contains("/hazards/\(idText(id))\""), "closed: no marker on the page's map")
                let workerStats = try await worker.get("/hazards/statistics")
                #expect(workerStats.status == .ok && workerStats.body.string.contains("发现风险隐患 1 处，解决群众急难愁盼问题 1 件"))

                // 7. An Open311 client lists the same request as closed, in JSON and XML.
                let list = try #require(try JSONSerialization.jsonObject(with: Data(try await rawCall(app, .GET, "/open311/v2/requests.json?status=closed&api_key=\(key)").body.string.utf8)) as? [[String: Any]])
                let mine = try #require(list.first { ($0["service_request_id"] as? String)?.lowercased() == idText(id) })
                #expect(list.count == 1 && mine["status"] as? String == "closed" && mine["service_code"] as? String == "municipalFacility" && mine["status_notes"] as? String == "已结案")
                #expect(try #require(try JSONSerialization.jsonObject(with: Data(try await rawCall(app, .GET, "/open311/v2/requests.json?status=open&api_key=\(key)").body.string.utf8)) as? [[String: Any]]).isEmpty)
                let xml = try await rawCall(app, .GET, "/open311/v2/requests/\(idText(id)).xml?api_key=\(key)")
                #expect(xml.status == .ok && xml.body.string.contains("<service_request_id>\(idText(id))</service_request_id>") && xml.body.string.contains("<status>closed</status>"), "\(xml.body.string.prefix(500))")

                // The whistle was delivered once; nothing else is queued.
                #expect(try await NotificationOutbox(app.fengqiao).deliverDue(client: app.client, now: Date().addingTimeInterval(3600)) == .init())
                #expect(await receiver.received.count == 1)
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
