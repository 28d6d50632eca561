import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import NIOFoundationCompat
import Vapor

/// The notification outbox (issue 5 "Notifications"): messages are written to
/// `notification_outbox` in the transaction that makes the change they announce, then delivered
/// by `deliverDue` (called by the background `OutboxRunner`, or directly by tests) with retries and
/// exponential backoff (`OutboxRetryPolicy`), so a receiver that is down loses nothing.
///
/// Delivery is at-least-once: each round claims due messages with a lease
/// (`OutboxRepository.claim`), sends them with at most `concurrency` requests in flight, and records
/// all outcomes in one transaction. A server that stops between sending and recording sends the
/// same message again later with the same `X-Fengqiao-Delivery` id, so receivers dedupe on it.
///
/// Formats per channel (`NotificationChannelKind`): the generic webhook (JSON, HMAC-SHA-256 in
/// `X-Fengqiao-Signature`, timestamp in `X-Fengqiao-Timestamp`), the WeCom and DingTalk group
/// robots (success only with `errcode` 0), and SMS through the configured `SMSGatewayTemplate`.
/// Payloads name the event, its category, state, whistle reason and deadline, never personal
/// data; robot keys and phone numbers are stored sealed and never logged or listed.
public struct NotificationOutbox: Sendable {
    let app: Fengqiao
    let outbox = OutboxRepository()
    public var policy: OutboxRetryPolicy
    /// Requests in flight at once.
    public var concurrency: Int
    /// Messages claimed per round.
    public var batch: Int
    /// Seconds a claim lasts.
    public var lease: TimeInterval

    public init(_ app: Fengqiao) {
        self.app = app
        policy = app.config.outboxRetry
        concurrency = max(1, app.config.outboxConcurrency)
        batch = max(1, app.config.outboxBatch)
        lease = TimeInterval(max(1, app.config.outboxLeaseSeconds))
    }

    /// The JSON body of a whistle notification (generic webhook).
    struct DispatchPayload: Encodable {
        var type = "event.dispatched"
        var deliveryId: UUID
        var eventId: UUID
        var category: HazardCategory
        var categoryName: String
        var severity: EventSeverity
        var state: GridEventState
        var whistleReason: WhistleReason?
        var acknowledgeDueAt: Date?
        var occurredAt: Date
        var url: String
        var title: String
        var text: String
    }

    /// The text announcing a dispatch (whistle), without personal data: event number (first 8
    /// hex digits of its id), category, severity, whistle reason, acknowledgement deadline.
    static func dispatchText(_ e: GridEvent, whistle: WhistleReason?, due: Date?) -> NotificationText {
        let cat = e.progress.category.nameZH
        var text = "事件 \(shortID(e.id))（\(cat)，\(e.progress.severity.nameZH)）已派遣给您"
        if let w = whistle { text += "，吹哨事由：\(w.nameZH)" }
        if let due { text += "，请于 \(beijingTime(due)) 前报到" }
        text += "。请登录枫桥系统处理。"
        return NotificationText(title: (whistle == nil ? "事件派遣：" : "吹哨报到：") + cat, text: text)
    }

    static func shortID(_ id: UUID) -> String { String(id.uuidString.lowercased().prefix(8)) }

    static func beijingTime(_ d: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = HazardService.timeZone
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: d)
    }

    /// Queues the announcement of a dispatch (call inside the dispatching transaction): one
    /// generic webhook per webhook of the mapping rows of the contact for the event's category in
    /// its grid or community, and one message per channel of the contact's account.
    static func enqueueDispatch(_ e: GridEvent, contact: UUID, whistle: WhistleReason?, due: Date?, events: GridEventRepository, on db: any Database, now: Date) async throws {
        let text = dispatchText(e, whistle: whistle, due: due)
        func webhookBody(_ id: UUID) throws -> String {
            let body = DispatchPayload(
                deliveryId: id, eventId: e.id, category: e.progress.category, categoryName: e.progress.category.nameZH, severity: e.progress.severity,
                state: e.progress.state, whistleReason: whistle, acknowledgeDueAt: due, occurredAt: now, url: "/api/v1/events/\(e.id.uuidString.lowercased())",
                title: text.title, text: text.text)
            return String(decoding: try JSONOut.encoder.encode(body), as: UTF8.self)
        }
        let repo = OutboxRepository()
        let hooks = try await events.webhooks(contactID: contact, category: e.progress.category, territoryIDs: [e.gridID, e.communityID], on: db)
        for h in hooks {
            let id = UUID()
            try await repo.enqueue(OutboxMessage(id: id, targetURL: h.url, secretSealed: h.secretSealed, payload: try webhookBody(id), eventID: e.id, nextAttemptAt: now), on: db, now: now)
        }
        for c in try await NotificationRepository().sealedChannels(accountID: contact, on: db) {
            let id = UUID()
            let payload: String
            switch c.channel.kind {
            case .webhook: payload = try webhookBody(id)
            case .wecom: payload = String(decoding: c.channel.format == "text" ? WeComRobot.text(text) : WeComRobot.markdown(text), as: UTF8.self)
            case .dingtalk: payload = String(decoding: c.channel.format == "text" ? DingTalkRobot.text(text) : DingTalkRobot.markdown(text), as: UTF8.self)
            case .sms: payload = "【枫桥】\(text.title)：\(text.text)"
            }
            try await repo.enqueue(
                OutboxMessage(id: id, channel: c.channel.kind.rawValue, targetURL: c.channel.targetDisplay, targetSealed: c.targetSealed, secretSealed: c.secretSealed,
                              payload: payload, eventID: e.id, nextAttemptAt: now), on: db, now: now)
        }
    }

    /// What one delivery run did.
    public struct RunResult: Sendable, Equatable {
        public var delivered: Int
        public var retried: Int
        public var failed: Int
        public init(delivered: Int = 0, retried: Int = 0, failed: Int = 0) {
            self.delivered = delivered
            self.retried = retried
            self.failed = failed
        }
        public var total: Int { delivered + retried + failed }
        static func + (a: RunResult, b: RunResult) -> RunResult {
            RunResult(delivered: a.delivered + b.delivered, retried: a.retried + b.retried, failed: a.failed + b.failed)
        }
    }

    /// Delivers every message due at `now`, round after round: success marks it delivered;
    /// anything else (an error status, a robot `errcode` ≠ 0, a refused connection, a timeout)
    /// counts an attempt and schedules the next one after the backoff delay, or marks it `failed`
    /// after the last attempt.
    public func deliverDue(client: any Client, now: Date = Date(), timeout: TimeInterval = 10) async throws -> RunResult {
        var total = RunResult()
        while true {
            let (r, claimed) = try await deliverRound(client: client, now: now, timeout: timeout)
            total = total + r
            if claimed < batch { return total }
        }
    }

    /// One round: claims up to `batch` due messages, delivers them, records the outcomes.
    /// Returns the outcome and the number claimed.
    public func deliverRound(client: any Client, now: Date = Date(), timeout: TimeInterval = 10) async throws -> (RunResult, Int) {
        let outbox = self.outbox
        let (limit, lease) = (batch, lease)
        let claimed = try await app.store.write { db in try await outbox.claim(now: now, limit: limit, lease: lease, on: db) }
        if claimed.isEmpty { return (RunResult(), 0) }
        var done: [OutboxMessage] = []
        done.reserveCapacity(claimed.count)
        let me = self
        await withTaskGroup(of: OutboxMessage.self) { group in
            var next = 0
            while next < min(concurrency, claimed.count) {
                let m = claimed[next]
                group.addTask { await me.attempt(m, client: client, now: now, timeout: timeout) }
                next += 1
            }
            while let m = await group.next() {
                done.append(m)
                if next < claimed.count {
                    let m = claimed[next]
                    group.addTask { await me.attempt(m, client: client, now: now, timeout: timeout) }
                    next += 1
                }
            }
        }
        var result = RunResult()
        for m in done {
            switch m.state {
            case .delivered: result.delivered += 1
            case .failed: result.failed += 1
            case .pending: result.retried += 1
            }
        }
        let outcomes = done
        try await app.store.write { db in
            for m in outcomes { try await outbox.record(m, on: db) }
        }
        return (result, claimed.count)
    }

    /// One attempt of one message; returns it with its new state, attempt count and schedule.
    func attempt(_ m0: OutboxMessage, client: any Client, now: Date, timeout: TimeInterval) async -> OutboxMessage {
        var m = m0
        m.attempts += 1
        do {
            let (status, error) = try await send(m, client: client, now: now, timeout: timeout)
            m.lastStatus = status
            m.lastError = error
            if error == nil {
                m.state = .delivered
                m.deliveredAt = now
            }
        } catch {
            m.lastStatus = nil
            m.lastError = Self.describe(error, message: m)
        }
        if m.state != .delivered {
            if policy.givesUp(after: m.attempts) {
                m.state = .failed
            } else {
                m.nextAttemptAt = now.addingTimeInterval(policy.delay(afterAttempt: m.attempts))
            }
        }
        return m
    }

    /// A transport error as recorded for administrators: never the robot key or the phone number.
    static func describe(_ error: any Error, message m: OutboxMessage) -> String {
        var s = String(String(describing: error).prefix(300))
        if m.channel != NotificationChannelKind.webhook.rawValue, let q = s.range(of: "?") { s = String(s[..<q.lowerBound]) + "?…" }
        return String(NotificationText.scrubbed(s).prefix(200))
    }

    /// Sends one message; returns the HTTP status and the failure reason (`nil` = delivered).
    func send(_ m: OutboxMessage, client: any Client, now: Date, timeout: TimeInterval) async throws -> (Int?, String?) {
        let kind = NotificationChannelKind(rawValue: m.channel) ?? .webhook
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: "User-Agent", value: "Fengqiao-Outbox/1")
        headers.replaceOrAdd(name: "X-Fengqiao-Delivery", value: m.id.uuidString.lowercased())
        let target = try m.targetSealed.map { try app.cipher.open($0) } ?? m.targetURL
        let secret = try m.secretSealed.map { try app.cipher.open($0) }
        var method = HTTPMethod.POST
        var url = target
        var body = Data(m.payload.utf8)
        var success: (Int) -> Bool = { (200..<300).contains($0) }
        switch kind {
        case .webhook:
            let ts = Int(now.timeIntervalSince1970)
            headers.contentType = .json
            headers.replaceOrAdd(name: "X-Fengqiao-Timestamp", value: String(ts))
            if let secret { headers.replaceOrAdd(name: "X-Fengqiao-Signature", value: WebhookSignature.sign(secret: secret, timestamp: ts, body: body)) }
        case .wecom:
            headers.contentType = .json
        case .dingtalk:
            headers.contentType = .json
            if let secret, !secret.isEmpty {
                url = DingTalkRobot.signedURL(target, secret: secret, timestampMillis: Int64((Date().timeIntervalSince1970 * 1000).rounded()))
            }
        case .sms:
            guard let gateway = app.config.smsGateway else { return (nil, "no SMS gateway configured (FENGQIAO_SMS_GATEWAY)") }
            let r = gateway.render(phone: target, text: m.payload, id: m.id.uuidString.lowercased(), timestamp: Int(now.timeIntervalSince1970))
            method = HTTPMethod(rawValue: r.method)
            url = r.url
            for (k, v) in r.headers { headers.replaceOrAdd(name: k, value: v) }
            body = Data((r.body ?? "").utf8)
            success = { gateway.succeeded(status: $0) }
        }
        let sendBody = body
        let res = try await client.send(method, headers: headers, to: URI(string: url)) { req in
            if method != .GET { req.body = ByteBuffer(data: sendBody) }
            req.timeout = .seconds(Int64(timeout))
        }
        let status = Int(res.status.code)
        guard success(status) else { return (status, "HTTP \(status)") }
        if kind == .wecom || kind == .dingtalk {
            var b = res.body ?? ByteBuffer()
            if let reason = RobotAnswer.failure(b.readData(length: b.readableBytes) ?? Data()) { return (status, reason) }
        }
        return (status, nil)
    }

    /// Messages, newest first (delivery results for administrators), optionally of one state.
    public func messages(limit: Int = 100, state: OutboxMessage.State? = nil) async throws -> [OutboxMessage] {
        try await outbox.list(limit: limit, state: state, on: app.store.db)
    }

    /// Counts per state.
    public func counts() async throws -> [OutboxMessage.State: Int] { try await outbox.counts(on: app.store.db) }

    /// "Retry now" (administrators): a pending or failed message becomes due at once; recorded in
    /// the audit trail. Rings the runner's doorbell.
    /// - Throws: `.notFound("notification delivery")` for an unknown id, `.conflict("state", …)`
    ///   for a delivered one.
    public func retryNow(_ id: UUID, actor: Actor, now: Date = Date()) async throws {
        let outbox = self.outbox
        guard let m = try await outbox.find(id, on: app.store.db) else { throw DomainError.notFound(kind: "notification delivery") }
        guard m.state != .delivered else { throw DomainError.conflict(field: "state", reason: "the message was delivered already") }
        try await app.store.write { [app] db in
            // Delivered between the look-up and this transaction: nothing to retry, nothing to audit.
            guard try await outbox.retryNow(id, now: now, on: db) else {
                throw DomainError.conflict(field: "state", reason: "the message was delivered already")
            }
            _ = try await app.audit.append(actor.draft(.update, objectType: "notification-delivery", objectID: id.uuidString.lowercased(), fields: ["state", "nextAttemptAt"],
                                                       detail: "retry now (was \(m.state.rawValue) after \(m.attempts) attempt(s))"), on: db)
        }
        OutboxDoorbell.ring()
    }
}
