import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import NIOFoundationCompat
import Vapor

/// The notification outbox (issue 5 "Notifications"): whistles are written to
/// `notification_outbox` in the transaction that dispatches the event, then delivered as a
/// generic HMAC-signed JSON webhook (`WebhookSignature`) with retries and exponential backoff
/// (`OutboxRetryPolicy`), so a receiver that is down loses nothing. The payload names the event,
/// its category, state, whistle reason and deadline, never personal data.
///
/// This slice delivers on demand (`deliverDue`); in-app notifications, WeCom/DingTalk robot
/// formats, SMS and a periodic background runner are not built yet.
public struct NotificationOutbox: Sendable {
    let app: Fengqiao
    let outbox = OutboxRepository()
    public var policy = OutboxRetryPolicy()

    public init(_ app: Fengqiao) { self.app = app }

    /// The JSON body of a whistle notification.
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
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Queues one message per webhook mapped to the contact for the event's category in its grid or
    /// community (call inside the dispatching transaction).
    static func enqueueDispatch(_ e: GridEvent, contact: UUID, whistle: WhistleReason?, due: Date?, events: GridEventRepository, on db: any Database, now: Date) async throws {
        let hooks = try await events.webhooks(contactID: contact, category: e.progress.category, territoryIDs: [e.gridID, e.communityID], on: db)
        for h in hooks {
            let id = UUID()
            let body = DispatchPayload(
                deliveryId: id, eventId: e.id, category: e.progress.category, categoryName: e.progress.category.nameZH, severity: e.progress.severity,
                state: e.progress.state, whistleReason: whistle, acknowledgeDueAt: due, occurredAt: now, url: "/api/v1/events/\(e.id.uuidString.lowercased())")
            let payload = String(decoding: try encoder.encode(body), as: UTF8.self)
            try await OutboxRepository().enqueue(
                OutboxMessage(id: id, targetURL: h.url, secretSealed: h.secretSealed, payload: payload, eventID: e.id, nextAttemptAt: now), on: db, now: now)
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
    }

    /// Delivers every message due at `now`: a 2xx answer marks it delivered; anything else (an
    /// error status, a refused connection, a timeout) counts an attempt and schedules the next one
    /// after the backoff delay, or marks it `failed` after the last attempt.
    public func deliverDue(client: any Client, now: Date = Date(), timeout: TimeInterval = 10) async throws -> RunResult {
        var result = RunResult()
        for var m in try await outbox.due(now: now, on: app.store.db) {
            let body = Data(m.payload.utf8)
            let ts = Int(now.timeIntervalSince1970)
            var headers = HTTPHeaders()
            headers.contentType = .json
            headers.replaceOrAdd(name: "User-Agent", value: "Fengqiao-Outbox/1")
            headers.replaceOrAdd(name: "X-Fengqiao-Delivery", value: m.id.uuidString.lowercased())
            headers.replaceOrAdd(name: "X-Fengqiao-Timestamp", value: String(ts))
            if let sealed = m.secretSealed, let secret = try? app.cipher.open(sealed) {
                headers.replaceOrAdd(name: "X-Fengqiao-Signature", value: WebhookSignature.sign(secret: secret, timestamp: ts, body: body))
            }
            m.attempts += 1
            do {
                let res = try await client.post(URI(string: m.targetURL), headers: headers) { req in
                    req.body = ByteBuffer(data: body)
                    req.timeout = .seconds(Int64(timeout))
                }
                m.lastStatus = Int(res.status.code)
                if (200..<300).contains(res.status.code) {
                    m.state = .delivered
                    m.deliveredAt = now
                    m.lastError = nil
                } else {
                    m.lastError = "HTTP \(res.status.code)"
                }
            } catch {
                m.lastStatus = nil
                m.lastError = String(String(describing: error).prefix(200))
            }
            if m.state != .delivered {
                if policy.givesUp(after: m.attempts) {
                    m.state = .failed
                    result.failed += 1
                } else {
                    m.nextAttemptAt = now.addingTimeInterval(policy.delay(afterAttempt: m.attempts))
                    result.retried += 1
                }
            } else {
                result.delivered += 1
            }
            try await outbox.record(m, on: app.store.db)
        }
        return result
    }

    /// Every message, newest first (delivery results for administrators).
    public func messages(limit: Int = 100) async throws -> [OutboxMessage] { try await outbox.list(limit: limit, on: app.store.db) }
}
