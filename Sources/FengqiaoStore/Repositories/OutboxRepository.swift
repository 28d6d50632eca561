import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// One notification waiting in (or done with) the outbox.
public struct OutboxMessage: Codable, Sendable, Hashable, Identifiable {
    public enum State: String, Codable, Sendable { case pending, delivered, failed }
    public var id: UUID
    /// `webhook` (generic HMAC-signed JSON) in this slice.
    public var channel: String
    public var targetURL: String
    /// The HMAC secret sealed with the `FieldCipher`.
    public var secretSealed: String?
    public var payload: String
    public var eventID: UUID?
    public var state: State
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Date?

    public init(id: UUID = UUID(), channel: String = "webhook", targetURL: String, secretSealed: String?, payload: String, eventID: UUID?, nextAttemptAt: Date) {
        self.id = id
        self.channel = channel
        self.targetURL = targetURL
        self.secretSealed = secretSealed
        self.payload = payload
        self.eventID = eventID
        state = .pending
        attempts = 0
        self.nextAttemptAt = nextAttemptAt
    }
}

/// The persistent notification outbox: rows are enqueued inside the transaction of the change they
/// announce and picked up by `due` through the `(state, next_attempt_at)` index.
public struct OutboxRepository: Sendable {
    public init() {}

    static let columns = ["id", "channel", "target_url", "secret_enc", "payload", "event_id", "state", "attempts", "next_attempt_at", "last_status", "last_error", "delivered_at"]

    public func enqueue(_ m: OutboxMessage, on db: any Database, now: Date = Date()) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "notification_outbox").columns(Self.columns + ["created_at"]).values(
            SQLBind(m.id), SQLBind(m.channel), SQLBind(m.targetURL), SQLBind(m.secretSealed), SQLBind(m.payload), SQLBind(m.eventID),
            SQLBind(m.state.rawValue), SQLBind(m.attempts), SQLBind(m.nextAttemptAt), SQLBind(m.lastStatus), SQLBind(m.lastError), SQLBind(m.deliveredAt),
            SQLBind(now)).run()
    }

    static func decode(_ r: any SQLRow) throws -> OutboxMessage {
        var m = OutboxMessage(
            id: try r.decode(column: "id", as: UUID.self), channel: try r.decode(column: "channel", as: String.self),
            targetURL: try r.decode(column: "target_url", as: String.self), secretSealed: try r.decode(column: "secret_enc", as: String?.self),
            payload: try r.decode(column: "payload", as: String.self), eventID: try r.decode(column: "event_id", as: UUID?.self),
            nextAttemptAt: try r.decode(column: "next_attempt_at", as: Date.self))
        m.state = OutboxMessage.State(rawValue: try r.decode(column: "state", as: String.self)) ?? .pending
        m.attempts = try r.decode(column: "attempts", as: Int.self)
        m.lastStatus = try r.decode(column: "last_status", as: Int?.self)
        m.lastError = try r.decode(column: "last_error", as: String?.self)
        m.deliveredAt = try r.decode(column: "delivered_at", as: Date?.self)
        return m
    }

    /// Pending messages whose next attempt is due at `now`, oldest first.
    public func due(now: Date, limit: Int = 100, on db: any Database) async throws -> [OutboxMessage] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("notification_outbox")
            .where("state", .equal, SQLBind(OutboxMessage.State.pending.rawValue)).where("next_attempt_at", .lessThanOrEqual, SQLBind(now))
            .orderBy("next_attempt_at").limit(limit).all().map(Self.decode)
    }

    /// Every message (newest first), for the administrators' delivery view and tests.
    public func list(limit: Int = 100, on db: any Database) async throws -> [OutboxMessage] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns(Self.columns.map { SQLColumn($0) }).from("notification_outbox")
            .orderBy("created_at", .descending).limit(limit).all().map(Self.decode)
    }

    /// Records the outcome of one attempt.
    public func record(_ m: OutboxMessage, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.update("notification_outbox").set("state", to: SQLBind(m.state.rawValue)).set("attempts", to: SQLBind(m.attempts))
            .set("next_attempt_at", to: SQLBind(m.nextAttemptAt)).set("last_status", to: SQLBind(m.lastStatus)).set("last_error", to: SQLBind(m.lastError))
            .set("delivered_at", to: SQLBind(m.deliveredAt)).where("id", .equal, SQLBind(m.id)).run()
    }
}
