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

/// Notifications (issue 5 "Notifications"): channel formats verified by local receivers started by
/// the test (WeCom and DingTalk robots, SMS gateway template, generic webhook), in-app
/// notifications readable only by their owner, the administrators' delivery page with "retry now",
/// and the background runner: a receiver that goes down and comes back, and a server stopped
/// mid-delivery and replaced by another on the same database, with nothing lost.
@Suite("notifications: outbox channels, in-app, background delivery", .serialized)
struct NotificationTests {
    // MARK: support

    /// What a local receiver saw: one entry per request.
    actor Inbox {
        struct Hit: Sendable { var path: String; var query: String; var headers: HTTPHeaders; var body: Data; var status: Int }
        var hits: [Hit] = []
        /// Robot answers to give before answering `{"errcode":0}` (per path).
        var robotErrors: [String: [Int]] = [:]
        /// HTTP status to answer while > 0 requests remain (per path).
        var failing: [String: Int] = [:]
        var delayMillis = 0

        func setRobotErrors(_ path: String, _ codes: [Int]) { robotErrors[path] = codes }
        func setFailing(_ path: String, _ n: Int) { failing[path] = n }
        func setDelay(_ ms: Int) { delayMillis = ms }

        /// Records a request and decides the answer: (status, errcode for robots).
        func take(path: String, query: String, headers: HTTPHeaders, body: Data) -> (Int, Int?) {
            var status = 200
            if let n = failing[path], n > 0 {
                failing[path] = n - 1
                status = 503
            }
            var errcode: Int?
            if path.hasPrefix("/wecom") || path.hasPrefix("/dingtalk") {
                errcode = 0
                if status == 200, var codes = robotErrors[path], !codes.isEmpty {
                    errcode = codes.removeFirst()
                    robotErrors[path] = codes
                }
            }
            hits.append(Hit(path: path, query: query, headers: headers, body: body, status: status))
            return (status, errcode)
        }

        func ok(_ prefix: String) -> [Hit] { hits.filter { $0.path.hasPrefix(prefix) && $0.status == 200 } }
        var count: Int { hits.count }
        /// Delivery ids answered 200, with how often.
        func acknowledgedIDs() -> [String: Int] {
            var out: [String: Int] = [:]
            for h in hits where h.status == 200 { out[h.headers.first(name: "X-Fengqiao-Delivery") ?? "", default: 0] += 1 }
            return out
        }
    }

    /// Starts a receiver on 127.0.0.1 (`port` 0 = any free port) that records every POST.
    static func startReceiver(_ inbox: Inbox, port: Int = 0) async throws -> (Application, Int) {
        let rx = try await Application.make(.testing)
        rx.logger.logLevel = .critical
        rx.on(.POST, "**", body: .collect(maxSize: "1mb")) { req async throws -> Response in
            var b = req.body.data ?? ByteBuffer()
            let data = b.readData(length: b.readableBytes) ?? Data()
            let delay = await inbox.delayMillis
            if delay > 0 { try await Task.sleep(nanoseconds: UInt64(delay) * 1_000_000) }
            let (status, errcode) = await inbox.take(path: req.url.path, query: req.url.query ?? "", headers: req.headers, body: data)
            let res = Response(status: HTTPResponseStatus(statusCode: status))
            if let errcode {
                res.headers.contentType = .json
                res.body = .init(string: #"{"errcode":\#(errcode),"errmsg":"\#(errcode == 0 ? "ok" : "test error")"}"#)
            }
            return res
        }
        try await rx.server.start(address: .hostname("127.0.0.1", port: port))
        let p = try #require(rx.http.server.shared.localAddress?.port)
        return (rx, p)
    }

    static func stop(_ rx: Application) async {
        await rx.server.shutdown()
        try? await rx.asyncShutdown()
    }

    /// A database shared by the applications of one test, with one key ring.
    struct Env {
        var location: StoreLocation
        var dir: String
        var keys: [String: [UInt8]]
        var indexKey: [UInt8]
        var cleanup: @Sendable () async -> Void

        static func make() async throws -> Env {
            let (location, cleanup) = try await TestDatabase.make()
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-data-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            return Env(location: location, dir: dir, keys: ["k1": FieldCipher.generateKey()], indexKey: FieldCipher.generateKey(), cleanup: {
                await cleanup()
                try? FileManager.default.removeItem(atPath: dir)
            })
        }

        /// Builds and migrates an application on this database; `tune` adjusts the configuration.
        func app(_ tune: (inout AppConfig) -> Void = { _ in }) async throws -> Application {
            var config = AppConfig(
                dataDirectory: dir, location: location, poolSize: 4, bcryptCost: 4, totpRoles: [], cookieSecure: true,
                keys: keys, currentKeyID: "k1", indexKey: indexKey, logLevel: "error")
            tune(&config)
            let app = try await Application.make(.testing)
            do { try await configure(app, config: config) } catch {
                try? await app.asyncShutdown()
                throw error
            }
            return app
        }
    }

    /// `n` generic webhook messages to `url`, due now, written straight into the outbox.
    static func enqueue(_ app: Application, _ n: Int, url: String) async throws -> Set<String> {
        let now = Date()
        let ms = (0..<n).map { i in
            OutboxMessage(targetURL: url, secretSealed: app.fengqiao.cipher.seal("bench-secret-0123456789"), payload: #"{"type":"test","n":\#(i)}"#, eventID: nil, nextAttemptAt: now)
        }
        try await app.fengqiao.store.write { db in try await OutboxRepository().enqueue(many: ms, on: db, now: now) }
        return Set(ms.map { $0.id.uuidString.lowercased() })
    }

    static func delivered(_ app: Application) async throws -> Int {
        try await NotificationOutbox(app.fengqiao).counts()[.delivered] ?? 0
    }

    /// Waits until `cond` holds, polling every 20 ms, for at most `seconds`.
    static func eventually(_ seconds: Double, _ cond: () async throws -> Bool) async throws -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try await cond() { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return try await cond()
    }

    struct DeliveryOut: Decodable { var id: UUID; var channel: String; var state: String; var attempts: Int; var lastStatus: Int?; var lastError: String?; var targetUrl: String }
    struct DeliveryPage: Decodable { var items: [DeliveryOut] }
    struct ChannelOut: Decodable { var id: UUID; var kind: String; var target: String; var label: String }
    struct NoteOut: Decodable { var id: UUID; var kind: String; var title: String; var body: String; var read: Bool; var eventId: UUID? }
    struct NotePage: Decodable { var items: [NoteOut]; var total: Int; var unread: Int }

    let hz = HazardTests()

    /// A filed event in grid A ready for dispatch.
    func filedEvent(_ app: Application, _ w: HazardTests.World) async throws -> UUID {
        let id = try await hz.submitted(app, w)
        #expect(try await hz.transition(app, id, token: w.workerToken, #"{"command":"verify"}"#).status == .ok)
        #expect(try await hz.transition(app, id, token: w.workerToken, #"{"command":"fileCase"}"#).status == .ok)
        return id
    }

    // MARK: channel formats

    @Test("WeCom and DingTalk robots, SMS gateway template and webhook channels: shapes and signatures checked by the receiver, errcode ≠ 0 retried, no keys or phones shown, no personal data sent")
    func channelFormats() async throws {
        let inbox = Inbox()
        let (rx, port) = try await Self.startReceiver(inbox)
        let env = try await Env.make()
        do {
            let base = "http://127.0.0.1:\(port)"
            let app = try await env.app { c in
                c.smsGateway = SMSGatewayTemplate(method: "POST", url: base + "/sms/send?ref={{id}}", headers: ["Content-Type": "application/json", "Authorization": "Bearer gw-token"],
                                                  body: #"{"to":"{{phone}}","content":"{{text}}"}"#, successStatus: [200])
            }
            do {
                let w = try await hz.world(app)
                try await hz.mapContact(app, w)
                let dingSecret = "SECabcdef0123456789"
                func add(_ body: String) async throws -> TestingHTTPResponse {
                    try await apiCall(app, .POST, "/api/v1/notification-channels", token: w.adminToken, json: body)
                }
                let wecom = try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"wecom","url":"\#(base)/wecom/send?key=WECOM-KEY-123"}"#)
                #expect(wecom.status == .created, "\(wecom.body.string)")
                #expect(!wecom.body.string.contains("WECOM-KEY-123"), "the robot key is never shown")
                let ding = try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"dingtalk","url":"\#(base)/dingtalk/send?access_token=DT-TOKEN","secret":"\#(dingSecret)"}"#)
                #expect(ding.status == .created, "\(ding.body.string)")
                let sms = try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"sms","phone":"13800138000","label":"值班手机"}"#)
                #expect(sms.status == .created, "\(sms.body.string)")
                #expect(try json(sms, as: ChannelOut.self).target == "138****8000")
                let hookSecret = "hook-secret-0123456789"
                #expect(try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"webhook","url":"\#(base)/hook","secret":"\#(hookSecret)"}"#).status == .created)

                // Bad input names the field; a worker may not configure channels; a non-contact account is refused.
                #expect(problem(try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"wecom","url":"ftp://x/y"}"#))?.errors?.first?.field == "url")
                #expect(problem(try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"sms","phone":"12345"}"#))?.errors?.first?.field == "phone")
                #expect(problem(try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"webhook","url":"\#(base)/hook","secret":"short"}"#))?.errors?.first?.field == "secret")
                #expect(problem(try await add(#"{"accountId":"\#(idText(w.worker.id))","kind":"sms","phone":"13800138000"}"#))?.errors?.first?.field == "accountId")
                #expect(problem(try await add(#"{"accountId":"\#(idText(w.contact.id))","kind":"fax","url":"\#(base)/x"}"#))?.errors?.first?.field == "kind")
                #expect(try await apiCall(app, .POST, "/api/v1/notification-channels", token: w.workerToken,
                                          json: #"{"accountId":"\#(idText(w.contact.id))","kind":"sms","phone":"13800138000"}"#).status == .forbidden)
                let listed = try await apiCall(app, .GET, "/api/v1/notification-channels?accountId=\(idText(w.contact.id))", token: w.adminToken)
                #expect(listed.status == .ok && !listed.body.string.contains("13800138000") && !listed.body.string.contains("DT-TOKEN"))
                // Sealed at rest.
                let raw = try await rawTable(app, "notification_channels")
                #expect(!raw.contains("13800138000") && !raw.contains("WECOM-KEY-123") && !raw.contains(dingSecret))

                let id = try await filedEvent(app, w)
                await inbox.setRobotErrors("/wecom/send", [93000])
                #expect(try await hz.transition(app, id, token: w.workerToken, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))","whistleReason":"emergency"}"#).status == .ok)
                #expect(try await tableCount(app, "notification_outbox") == 4, "webhook, WeCom, DingTalk, SMS queued with the dispatch")
                #expect(!(try await rawTable(app, "notification_outbox")).contains("13800138000"), "the SMS destination is sealed in the outbox")

                let outbox = NotificationOutbox(app.fengqiao)
                let t0 = Date()
                #expect(try await outbox.deliverDue(client: app.client, now: t0) == .init(delivered: 3, retried: 1, failed: 0), "WeCom answered errcode 93000")
                let page = try json(try await apiCall(app, .GET, "/api/v1/notification-deliveries", token: w.adminToken), as: DeliveryPage.self)
                let wecomRow = try #require(page.items.first { $0.channel == "wecom" })
                #expect(wecomRow.state == "pending" && wecomRow.attempts == 1 && wecomRow.lastStatus == 200 && wecomRow.lastError?.contains("errcode 93000") == true)
                #expect(!page.items.contains { $0.targetUrl.contains("WECOM-KEY-123") || $0.targetUrl.contains("DT-TOKEN") || $0.targetUrl.contains("13800138000") })
                #expect(try await outbox.deliverDue(client: app.client, now: t0.addingTimeInterval(31)) == .init(delivered: 1, retried: 0, failed: 0))

                // WeCom: markdown body, key in the URL.
                let we = await inbox.ok("/wecom/send")
                #expect(we.count == 2 && we.allSatisfy { $0.query == "key=WECOM-KEY-123" })
                let weLast = try #require(we.last)
                let weBody = try #require(try JSONSerialization.jsonObject(with: weLast.body) as? [String: Any])
                #expect(weBody["msgtype"] as? String == "markdown")
                let content = try #require((weBody["markdown"] as? [String: Any])?["content"] as? String)
                #expect(content.hasPrefix("**吹哨报到：") && content.contains("吹哨事由"))
                #expect(Set(we.map { $0.headers.first(name: "X-Fengqiao-Delivery") }).count == 1, "a retry carries the same message id")

                // DingTalk: markdown with title and text, signed URL verified here.
                let dt = try #require(await inbox.ok("/dingtalk/send").first)
                let q = try URLEncodedFormDecoder().decode([String: String].self, from: dt.query)
                #expect(q["access_token"] == "DT-TOKEN")
                let ts = try #require(Int64(q["timestamp"] ?? ""))
                #expect(abs(Double(ts) / 1000 - Date().timeIntervalSince1970) < 120)
                #expect(q["sign"] == DingTalkRobot.sign(secret: dingSecret, timestampMillis: ts), "HMAC-SHA256(\"<ms>\\n<secret>\") in base64")
                let dtBody = try #require(try JSONSerialization.jsonObject(with: dt.body) as? [String: Any])
                let md = try #require(dtBody["markdown"] as? [String: Any])
                #expect(dtBody["msgtype"] as? String == "markdown" && (md["title"] as? String)?.hasPrefix("吹哨报到") == true && (md["text"] as? String)?.isEmpty == false)

                // SMS: the template filled in, the destination phone in the body only.
                let s = try #require(await inbox.ok("/sms/send").first)
                #expect(s.headers.first(name: "Authorization") == "Bearer gw-token")
                let smsBody = try #require(try JSONSerialization.jsonObject(with: s.body) as? [String: String])
                #expect(smsBody["to"] == "+8613800138000" && smsBody["content"]?.hasPrefix("【枫桥】") == true)
                #expect(s.query == "ref=" + (s.headers.first(name: "X-Fengqiao-Delivery") ?? "-"))

                // Generic webhook through a channel: signed.
                let h = try #require(await inbox.ok("/hook").first)
                let hts = try #require(Int(h.headers.first(name: "X-Fengqiao-Timestamp") ?? ""))
                #expect(WebhookSignature.verify(h.headers.first(name: "X-Fengqiao-Signature") ?? "", secret: hookSecret, timestamp: hts, body: h.body))

                // Nothing personal in any message: no description, no reporter, no phone other than the SMS destination.
                for hit in await inbox.hits {
                    let text = String(decoding: hit.body, as: UTF8.self)
                    #expect(!text.contains("井盖破损") && !text.contains(idText(w.worker.id)) && !text.contains(w.worker.username))
                    if !hit.path.hasPrefix("/sms") { #expect(!text.contains("13800138000")) }
                }

                // The contact got an in-app notification.
                let notes = try json(try await apiCall(app, .GET, "/api/v1/notifications", token: w.contactToken), as: NotePage.self)
                #expect(notes.items.map(\.kind) == ["event.dispatched"] && notes.unread == 1 && notes.items.first?.eventId == id)
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
            try await app.asyncShutdown()
        } catch {
            await Self.stop(rx)
            await env.cleanup()
            throw error
        }
        await Self.stop(rx)
        await env.cleanup()
    }

    /// Every stored value of a table as text (to check that nothing is stored in the clear).
    func rawTable(_ app: Application, _ table: String) async throws -> String {
        let rows = try await app.fengqiao.store.sql.raw("SELECT * FROM \(ident: table)").all()
        var out = ""
        for r in rows {
            for c in r.allColumns {
                if let s = try? r.decode(column: c, as: String.self) { out += s + "\n" }
            }
        }
        return out
    }

    // MARK: in-app

    @Test("in-app notifications: the dispatched contact and the reporter are notified; only the owner reads or marks them; the page and the nav badge")
    func inApp() async throws {
        try await withApp { app in
            let w = try await hz.world(app)
            try await hz.mapContact(app, w)
            let id = try await filedEvent(app, w)
            #expect(try await hz.transition(app, id, token: w.workerToken, #"{"command":"dispatch","contactId":"\#(idText(w.contact.id))"}"#).status == .ok)
            let mine = try json(try await apiCall(app, .GET, "/api/v1/notifications", token: w.contactToken), as: NotePage.self)
            let note = try #require(mine.items.first)
            #expect(mine.total == 1 && mine.unread == 1 && note.kind == "event.dispatched" && !note.read && note.title.hasPrefix("事件派遣"))
            #expect(!note.body.contains("井盖破损"), "no free text of the report")
            #expect(try json(try await apiCall(app, .GET, "/api/v1/notifications", token: w.workerToken), as: NotePage.self).total == 0, "nobody is notified of their own dispatch")

            // Another user neither sees nor marks it.
            #expect(try json(try await apiCall(app, .GET, "/api/v1/notifications", token: w.otherContactToken), as: NotePage.self).items.isEmpty)
            #expect(try await apiCall(app, .POST, "/api/v1/notifications/\(idText(note.id))/read", token: w.otherContactToken).status == .notFound)
            #expect(try await apiCall(app, .POST, "/api/v1/notifications/\(idText(note.id))/read", token: w.adminToken).status == .notFound)
            #expect(try await apiCall(app, .POST, "/api/v1/notifications/read-all", token: w.otherContactToken).status == .ok)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/notifications/unread-count", token: w.contactToken), as: [String: Int].self)["unread"] == 1)
            #expect(try await apiCall(app, .GET, "/api/v1/notifications", token: nil).status == .unauthorized)

            // The page lists it with the badge; marking read works for the owner only.
            let page = try await apiCall(app, .GET, "/notifications", token: w.contactToken)
            #expect(page.status == .ok && page.body.string.contains(note.title) && page.body.string.contains("通知 (1)"))
            let read = try json(try await apiCall(app, .POST, "/api/v1/notifications/\(idText(note.id))/read", token: w.contactToken), as: NoteOut.self)
            #expect(read.read)
            #expect(try json(try await apiCall(app, .GET, "/api/v1/notifications?unread=true", token: w.contactToken), as: NotePage.self).items.isEmpty)

            // 报到 notifies the reporter; the result too; a failed check notifies the handler.
            #expect(try await hz.transition(app, id, token: w.contactToken, #"{"command":"acknowledge"}"#).status == .ok)
            #expect(try await hz.upload(app, "/api/v1/events/\(idText(id))/photos", token: w.contactToken, HazardTests.png, type: "application/octet-stream").status == .created)
            #expect(try await hz.transition(app, id, token: w.contactToken, #"{"command":"submitResult"}"#).status == .ok)
            let reporter = try json(try await apiCall(app, .GET, "/api/v1/notifications", token: w.workerToken), as: NotePage.self)
            #expect(reporter.items.map(\.kind) == ["event.resultSubmitted", "event.acknowledged"] && reporter.unread == 2)
            #expect(try await hz.transition(app, id, token: w.workerToken, #"{"command":"checkFail","reason":"井盖仍松动"}"#).status == .ok)
            let handler = try json(try await apiCall(app, .GET, "/api/v1/notifications?unread=1", token: w.contactToken), as: NotePage.self)
            #expect(handler.items.map(\.kind) == ["event.checkFailed"])
            #expect(try json(try await apiCall(app, .POST, "/api/v1/notifications/read-all", token: w.workerToken), as: [String: Int].self)["marked"] == 2)
        }
    }

    // MARK: administrators' delivery page

    @Test("delivery results page for administrators with retry now (audited); forbidden to others")
    func deliveryPage() async throws {
        try await withApp { app in
            let w = try await hz.world(app)
            // A receiver that does not exist: connection refused.
            let m = OutboxMessage(targetURL: "http://127.0.0.1:9/hook", secretSealed: nil, payload: "{}", eventID: nil, nextAttemptAt: Date())
            try await app.fengqiao.store.write { db in try await OutboxRepository().enqueue(m, on: db) }
            var outbox = NotificationOutbox(app.fengqiao)
            outbox.policy = OutboxRetryPolicy(base: 30, cap: 60, maxAttempts: 1)
            #expect(try await outbox.deliverDue(client: app.client, now: Date(), timeout: 2) == .init(delivered: 0, retried: 0, failed: 1))
            let page = try await apiCall(app, .GET, "/admin/notification-deliveries", token: w.adminToken)
            #expect(page.status == .ok && page.body.string.contains("立即重试") && page.body.string.contains(String(idText(m.id).prefix(8))))
            #expect(try await apiCall(app, .GET, "/admin/notification-deliveries", token: w.workerToken).status == .forbidden)
            #expect(try await apiCall(app, .POST, "/api/v1/notification-deliveries/\(idText(m.id))/retry", token: w.workerToken).status == .forbidden)
            #expect(try await apiCall(app, .POST, "/api/v1/notification-deliveries/\(idText(UUID()))/retry", token: w.adminToken).status == .notFound)
            #expect(try await apiCall(app, .POST, "/api/v1/notification-deliveries/\(idText(m.id))/retry", token: w.adminToken).status == .accepted)
            let row = try #require(try json(try await apiCall(app, .GET, "/api/v1/notification-deliveries", token: w.adminToken), as: DeliveryPage.self).items.first)
            #expect(row.state == "pending" && row.attempts == 1 && row.lastError != nil)
            let audited = try await app.fengqiao.store.sql.raw(
                "SELECT COUNT(*) AS n FROM audit_log WHERE object_type = 'notification-delivery' AND object_id = \(bind: idText(m.id))").first()?.decode(column: "n", as: Int.self)
            #expect(audited == 1, "retry now is audited")
            // A delivered message cannot be retried.
            try await app.fengqiao.store.write { db in
                var d = m
                d.state = .delivered
                try await OutboxRepository().record(d, on: db)
            }
            #expect(problem(try await apiCall(app, .POST, "/api/v1/notification-deliveries/\(idText(m.id))/retry", token: w.adminToken))?.errors?.first?.field == "state")
        }
    }

    // MARK: background runner

    @Test("background runner: a receiver that goes down and comes back gets every message, each acknowledged once per id")
    func receiverDownAndBack() async throws {
        let inbox = Inbox()
        var (rx, port) = try await Self.startReceiver(inbox)
        let env = try await Env.make()
        let n = 300
        do {
            let app = try await env.app { c in
                c.outboxIntervalMilliseconds = 20
                c.outboxConcurrency = 8
                c.outboxBatch = 50
                c.outboxRetry = OutboxRetryPolicy(base: 0.05, cap: 0.4, maxAttempts: 100)
            }
            do {
                await inbox.setDelay(2)
                let ids = try await Self.enqueue(app, n, url: "http://127.0.0.1:\(port)/hook")
                try await app.asyncBoot()
                #expect(await app.outboxRunnerRunning)
                #expect(try await Self.eventually(30) { try await Self.delivered(app) >= 50 })
                await Self.stop(rx)  // the receiver goes down mid-way
                try await Task.sleep(nanoseconds: 300_000_000)
                let whileDown = try await Self.delivered(app)
                #expect(whileDown < n)
                (rx, port) = try await Self.startReceiver(inbox, port: port)  // and comes back on the same port
                #expect(try await Self.eventually(60) { try await Self.delivered(app) == n }, "all delivered after the receiver came back")
                let acked = await inbox.acknowledgedIDs()
                #expect(Set(acked.keys) == ids, "every message, and only those, acknowledged")
                // At-least-once: a request answered just as the receiver went down may be sent again,
                // always with the same id; at most the requests in flight then (concurrency 8).
                #expect(acked.values.filter { $0 > 1 }.count <= 8, "duplicates only for requests in flight at the stop")
                let counts = try await NotificationOutbox(app.fengqiao).counts()
                #expect(counts[.pending, default: 0] == 0 && counts[.failed, default: 0] == 0)
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
            try await app.asyncShutdown()
        } catch {
            await Self.stop(rx)
            await env.cleanup()
            throw error
        }
        await Self.stop(rx)
        await env.cleanup()
    }

    @Test("restart: a server stopped mid-delivery and a new one on the same database deliver everything; leases of a dead worker fall due again")
    func restartMidDelivery() async throws {
        let inbox = Inbox()
        let (rx, port) = try await Self.startReceiver(inbox)
        let env = try await Env.make()
        let n = 400
        let tune: (inout AppConfig) -> Void = { c in
            c.outboxIntervalMilliseconds = 20
            c.outboxConcurrency = 4
            c.outboxBatch = 20
            c.outboxLeaseSeconds = 1
            c.outboxRetry = OutboxRetryPolicy(base: 0.05, cap: 0.2, maxAttempts: 100)
        }
        do {
            await inbox.setDelay(5)
            let first = try await env.app(tune)
            var ids = Set<String>()
            do {
                ids = try await Self.enqueue(first, n, url: "http://127.0.0.1:\(port)/hook")
                // A worker that claimed 5 messages and died before sending them.
                let dead = try await first.fengqiao.store.write { db in try await OutboxRepository().claim(now: Date(), limit: 5, lease: 1, on: db) }
                #expect(dead.count == 5)
                try await first.asyncBoot()
                #expect(try await Self.eventually(30) { await inbox.count >= 60 })
            } catch {
                try? await first.asyncShutdown()
                throw error
            }
            try await first.asyncShutdown()  // stops mid-delivery
            let second = try await env.app(tune)
            do {
                let atStop = try await Self.delivered(second)
                #expect(atStop < n, "stopped before the end (\(atStop) of \(n))")
                try await second.asyncBoot()
                #expect(try await Self.eventually(60) { try await Self.delivered(second) == n }, "the new server delivers the rest")
            } catch {
                try? await second.asyncShutdown()
                throw error
            }
            try await second.asyncShutdown()
            let acked = await inbox.acknowledgedIDs()
            #expect(Set(acked.keys) == ids, "none lost: every id acknowledged by the receiver")
            let dupes = acked.values.filter { $0 > 1 }.count
            #expect(dupes <= 20, "duplicates only for messages in flight at the stop (same id): \(dupes)")
        } catch {
            await Self.stop(rx)
            await env.cleanup()
            throw error
        }
        await Self.stop(rx)
        await env.cleanup()
    }
}
