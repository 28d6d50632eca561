import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// One notification waiting in (or done with) the outbox.
public struct OutboxMessage: Codable, Sendable, Hashable, Identifiable {
    public enum State: String, Codable, Sendable { case pending, delivered, failed }
    /// Stable across retries; sent as `X-Fengqiao-Delivery` so a receiver can drop duplicates
    /// (delivery is at-least-once).
    public var id: UUID
    /// A `NotificationChannelKind` raw value (`webhook`, `wecom`, `dingtalk`, `sms`).
    public var channel: String
    /// Where it goes, as shown to administrators: for robots and SMS a display form without the
    /// access key or phone number (the real target is `targetSealed`).
    public var targetURL: String
    /// The full target (robot URL with its key, or phone number) sealed with the `FieldCipher`;
    /// `nil` for a generic webhook whose `targetURL` is the target.
    public var targetSealed: String?
    /// The HMAC secret (webhook, DingTalk 加签) sealed with the `FieldCipher`.
    public var secretSealed: String?
    /// The body as sent (webhook, robots) or the message text (SMS, rendered at delivery).
    public var payload: String
    public var eventID: UUID?
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Date?
    /// The lease token of the worker that claimed it, if any.
    public var claimToken: String?
    public var createdAt: Date?

    public init(id: UUID = UUID(), channel: String = "webhook", targetURL: String, targetSealed: String? = nil, secretSealed: String?, payload: String, eventID: UUID?, nextAttemptAt: Date) {
        self.id = id
        self.channel = channel
        self.targetURL = targetURL
        self.targetSealed = targetSealed
        self.secretSealed = secretSealed
        self.payload = payload
        self.eventID = eventID
        state = .pending
        attempts = 0
        self.nextAttemptAt = nextAttemptAt
    }
}

/// The persistent notification outbox: rows are enqueued inside the transaction of the change they
/// announce and picked up through the `(state, next_attempt_at)` index.
///
/// Delivery workers `claim` due rows with a lease: the claim moves `next_attempt_at` to the end of
/// the lease and stamps a `claim_token`, in one UPDATE guarded by the due condition, so two
/// workers (two servers on one PostgreSQL database) never claim the same row at once, and a worker
/// that dies mid-delivery leaves rows that fall due again when the lease ends (at-least-once).
public struct OutboxRepository: Sendable {
    public init() {}

    static let columns = ["id", "channel", "target_url", "target_enc", "secret_enc", "payload", "event_id", "state", "attempts", "next_attempt_at", "last_status", "last_error", "delivered_at", "claim_token", "created_at"]

    public func enqueue(_ m: OutboxMessage, on db: any Database, now: Date = Date()) async throws {
        try await enqueue(many: [m], on: db, now: now)
    }

    /// Enqueues many messages in chunks (benchmark data, bulk announcements).
    public func enqueue(many ms: [OutboxMessage], on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        for chunk in stride(from: 0, to: ms.count, by: 500).map({ Array(ms[$0..<min($0 + 500, ms.count)]) }) {
            var q = sql.insert(into: "notification_outbox").columns(Self.columns)
            for m in chunk {
                q = q.values(
                    SQLBind(m.id), SQLBind(m.channel), SQLBind(m.targetURL), SQLBind(m.targetSealed), SQLBind(m.secretSealed), SQLBind(m.payload), SQLBind(m.eventID),
                    SQLBind(m.state.rawValue), SQLBind(m.attempts), SQLBind(m.nextAttemptAt), SQLBind(m.lastStatus), SQLBind(m.lastError), SQLBind(m.deliveredAt),
                    SQLBind(m.claimToken), SQLBind(m.createdAt ?? now))
            }
            try await q.run()
        }
    }

    static func decode(_ r: any SQLRow) throws -> OutboxMessage {
        var m = OutboxMessage(
            id: try r.decode(column: "id", as: UUID.self), channel: try r.decode(column: "channel", as: String.self),
            targetURL: try r.decode(column: "target_url", as: String.self), targetSealed: try r.decode(column: "target_enc", as: String?.self),
            secretSealed: try r.decode(column: "secret_enc", as: String?.self),
            payload: try r.decode(column: "payload", as: String.self), eventID: try r.decode(column: "event_id", as: UUID?.self),
            nextAttemptAt: try r.decode(column: "next_attempt_at", as: Date.self))
        m.state = OutboxMessage.State(rawValue: try r.decode(column: "state", as: String.self)) ?? .pending
        m.attempts = try r.decode(column: "attempts", as: Int.self)
        m.lastStatus = try r.decode(column: "last_status", as: Int?.self)
        m.lastError = try r.decode(column: "last_error", as: String?.self)
        m.deliveredAt = try r.decode(column: "delivered_at", as: Date?.self)
        m.claimToken = try r.decode(column: "claim_token", as: String?.self)
        m.createdAt = try r.decode(column: "created_at", as: Date?.self)
        return m
    }

    /// Claims up to `limit` due messages for `lease` seconds under a fresh token and returns them.
    /// Run it in its own transaction (`Store.write`).
    public func claim(now: Date, limit: Int, lease: TimeInterval, on db: any Database) async throws -> [OutboxMessage] {
        let sql = db as! any SQLDatabase
        let ids = try await sql.select().column("id").from("notification_outbox")
            .where("state", .equal, SQLBind(OutboxMessage.State.pending.rawValue)).where("next_attempt_at", .lessThanOrEqual, SQLBind(now))
            .orderBy("next_attempt_at").limit(limit).all().map { try $0.decode(column: "id", as: UUID.self) }
        guard !ids.isEmpty else { return [] }
        let token = UUID().uuidString.lowercased()
        // The due condition is repeated: on PostgreSQL a row another worker claimed meanwhile is
        // re-checked after its lock is released and skipped.
        try await sql.update("notification_outbox").set("claim_token", to: SQLBind(token)).set("next_attempt_at", to: SQLBind(now.addingTimeInterval(lease)))
            .where("id", .in, SQLBind.group(ids)).where("state", .equal, SQLBind(OutboxMessage.State.pending.rawValue))
            .where("next_attempt_at", .lessThanOrEqual, SQLBind(now)).run()
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("notification_outbox")
            .where("claim_token", .equal, SQLBind(token)).where("id", .in, SQLBind.group(ids)).all().map(Self.decode)
    }

    /// Makes every claimed pending message due now (at start on SQLite, where one server owns the
    /// database file, so any lease left belongs to a run that stopped). Returns how many.
    @discardableResult
    public func releaseLeases(now: Date, on db: any Database) async throws -> Int {
        let sql = db as! any SQLDatabase
        let n = try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("notification_outbox")
            .where("state", .equal, SQLBind(OutboxMessage.State.pending.rawValue)).where("claim_token", .isNot, SQLLiteral.null)
            .first()?.decode(column: "n", as: Int.self) ?? 0
        try await sql.update("notification_outbox").set("claim_token", to: SQLLiteral.null).set("next_attempt_at", to: SQLBind(now))
            .where("state", .equal, SQLBind(OutboxMessage.State.pending.rawValue)).where("claim_token", .isNot, SQLLiteral.null).run()
        return n
    }

    /// Every message (newest first), for the administrators' delivery view and tests.
    public func list(limit: Int = 100, state: OutboxMessage.State? = nil, on db: any Database) async throws -> [OutboxMessage] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns(Self.columns.map { SQLColumn($0) }).from("notification_outbox")
        if let state { q = q.where("state", .equal, SQLBind(state.rawValue)) }
        return try await q.orderBy("created_at", .descending).limit(limit).all().map(Self.decode)
    }

    public func find(_ id: UUID, on db: any Database) async throws -> OutboxMessage? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("notification_outbox").where("id", .equal, SQLBind(id)).first().map(Self.decode)
    }

    /// Counts per state.
    public func counts(on db: any Database) async throws -> [OutboxMessage.State: Int] {
        let sql = db as! any SQLDatabase
        var out: [OutboxMessage.State: Int] = [:]
        for r in try await sql.select().column("state").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("notification_outbox").groupBy("state").all() {
            if let s = OutboxMessage.State(rawValue: try r.decode(column: "state", as: String.self)) { out[s] = try r.decode(column: "n", as: Int.self) }
        }
        return out
    }

    /// Records the outcome of one attempt. A delivered message is recorded whatever its lease; a
    /// failed attempt only while this worker still holds the lease (`m.claimToken`), so a worker
    /// whose lease ran out does not overwrite the schedule of the one that took the message over.
    public func record(_ m: OutboxMessage, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        var q = sql.update("notification_outbox").set("state", to: SQLBind(m.state.rawValue)).set("attempts", to: SQLBind(m.attempts))
            .set("next_attempt_at", to: SQLBind(m.nextAttemptAt)).set("last_status", to: SQLBind(m.lastStatus)).set("last_error", to: SQLBind(m.lastError))
            .set("delivered_at", to: SQLBind(m.deliveredAt)).set("claim_token", to: SQLLiteral.null).where("id", .equal, SQLBind(m.id))
        if m.state != .delivered, let token = m.claimToken { q = q.where("claim_token", .equal, SQLBind(token)) }
        if m.state == .delivered { q = q.where("state", .notEqual, SQLBind(OutboxMessage.State.delivered.rawValue)) }
        try await q.run()
    }

    /// "Retry now" by an administrator: a pending or failed message becomes pending and due at
    /// `now`, keeping its attempt count. Returns false when there is no such message or it was
    /// delivered already.
    public func retryNow(_ id: UUID, now: Date, on db: any Database) async throws -> Bool {
        let sql = db as! any SQLDatabase
        guard let m = try await find(id, on: db), m.state != .delivered else { return false }
        try await sql.update("notification_outbox").set("state", to: SQLBind(OutboxMessage.State.pending.rawValue)).set("next_attempt_at", to: SQLBind(now))
            .set("claim_token", to: SQLLiteral.null).where("id", .equal, SQLBind(id)).where("state", .notEqual, SQLBind(OutboxMessage.State.delivered.rawValue)).run()
        return true
    }
}
