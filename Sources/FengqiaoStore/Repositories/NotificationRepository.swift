import FengqiaoCore
import FluentKit
import Foundation
import SQLKit

/// A delivery channel of an account (M0021 `notification_channels`); see `NotificationChannelKind`.
public struct NotificationChannel: Codable, Sendable, Hashable, Identifiable {
    public var id: UUID
    public var accountID: UUID
    public var kind: NotificationChannelKind
    public var label: String
    /// What administrators see: a robot URL without its key, a masked phone number.
    public var targetDisplay: String
    /// `markdown` (default) or `text` for the robots.
    public var format: String?
    public var createdAt: Date

    public init(id: UUID = UUID(), accountID: UUID, kind: NotificationChannelKind, label: String, targetDisplay: String, format: String? = nil, createdAt: Date = Date()) {
        self.id = id
        self.accountID = accountID
        self.kind = kind
        self.label = label
        self.targetDisplay = targetDisplay
        self.format = format
        self.createdAt = createdAt
    }
}

/// An in-app notification (M0021 `notifications`): readable and markable only by its owner.
public struct InAppNotification: Codable, Sendable, Hashable, Identifiable {
    public var id: UUID
    public var accountID: UUID
    /// What happened (`event.dispatched`, `event.acknowledged`, `event.returned`,
    /// `event.resultSubmitted`, `event.checkFailed`, `event.closed`).
    public var kind: String
    public var eventID: UUID?
    public var title: String
    public var body: String
    /// A local path to open (the event's page or API resource).
    public var link: String?
    public var createdAt: Date
    public var readAt: Date?

    public init(id: UUID = UUID(), accountID: UUID, kind: String, eventID: UUID?, title: String, body: String, link: String?, createdAt: Date, readAt: Date? = nil) {
        self.id = id
        self.accountID = accountID
        self.kind = kind
        self.eventID = eventID
        self.title = title
        self.body = body
        self.link = link
        self.createdAt = createdAt
        self.readAt = readAt
    }
}

/// Channels and in-app notifications. Every read of notifications is by owner (`accountID`): a
/// notification of another account is indistinguishable from a missing one.
public struct NotificationRepository: Sendable {
    public init() {}

    // MARK: channels

    public func addChannel(_ c: NotificationChannel, targetSealed: String, secretSealed: String?, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "notification_channels").columns("id", "account_id", "kind", "label", "target_display", "target_enc", "secret_enc", "format", "created_at")
            .values(SQLBind(c.id), SQLBind(c.accountID), SQLBind(c.kind.rawValue), SQLBind(c.label), SQLBind(c.targetDisplay), SQLBind(targetSealed), SQLBind(secretSealed),
                    SQLBind(c.format), SQLBind(c.createdAt)).run()
    }

    static func decodeChannel(_ r: any SQLRow) throws -> NotificationChannel {
        NotificationChannel(
            id: try r.decode(column: "id", as: UUID.self), accountID: try r.decode(column: "account_id", as: UUID.self),
            kind: NotificationChannelKind(rawValue: try r.decode(column: "kind", as: String.self)) ?? .webhook,
            label: try r.decode(column: "label", as: String.self), targetDisplay: try r.decode(column: "target_display", as: String.self),
            format: try r.decode(column: "format", as: String?.self), createdAt: try r.decode(column: "created_at", as: Date.self))
    }

    /// The channels of some accounts (all when `accountIDs` is nil), oldest first.
    public func channels(accountIDs: [UUID]?, on db: any Database) async throws -> [NotificationChannel] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns("id", "account_id", "kind", "label", "target_display", "format", "created_at").from("notification_channels")
        if let ids = accountIDs {
            if ids.isEmpty { return [] }
            q = q.where("account_id", .in, SQLBind.group(ids))
        }
        return try await q.orderBy("created_at").all().map(Self.decodeChannel)
    }

    /// The channels of an account with their sealed target and secret (for enqueueing).
    public func sealedChannels(accountID: UUID, on db: any Database) async throws -> [(channel: NotificationChannel, targetSealed: String, secretSealed: String?)] {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("id", "account_id", "kind", "label", "target_display", "format", "created_at", "target_enc", "secret_enc").from("notification_channels")
            .where("account_id", .equal, SQLBind(accountID)).orderBy("created_at").all().map {
                (try Self.decodeChannel($0), try $0.decode(column: "target_enc", as: String.self), try $0.decode(column: "secret_enc", as: String?.self))
            }
    }

    public func channel(_ id: UUID, on db: any Database) async throws -> NotificationChannel? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("id", "account_id", "kind", "label", "target_display", "format", "created_at").from("notification_channels")
            .where("id", .equal, SQLBind(id)).first().map(Self.decodeChannel)
    }

    public func deleteChannel(_ id: UUID, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.delete(from: "notification_channels").where("id", .equal, SQLBind(id)).run()
    }

    // MARK: in-app notifications

    public func insert(_ n: InAppNotification, on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        try await sql.insert(into: "notifications").columns("id", "account_id", "kind", "event_id", "title", "body", "link", "created_at", "read_at")
            .values(SQLBind(n.id), SQLBind(n.accountID), SQLBind(n.kind), SQLBind(n.eventID), SQLBind(n.title), SQLBind(n.body), SQLBind(n.link),
                    SQLBind(n.createdAt), SQLBind(n.readAt)).run()
    }

    static func decodeNotification(_ r: any SQLRow) throws -> InAppNotification {
        InAppNotification(
            id: try r.decode(column: "id", as: UUID.self), accountID: try r.decode(column: "account_id", as: UUID.self),
            kind: try r.decode(column: "kind", as: String.self), eventID: try r.decode(column: "event_id", as: UUID?.self),
            title: try r.decode(column: "title", as: String.self), body: try r.decode(column: "body", as: String.self),
            link: try r.decode(column: "link", as: String?.self), createdAt: try r.decode(column: "created_at", as: Date.self),
            readAt: try r.decode(column: "read_at", as: Date?.self))
    }

    /// The owner's notifications, newest first.
    public func list(owner: UUID, unreadOnly: Bool = false, limit: Int = 50, offset: Int = 0, on db: any Database) async throws -> [InAppNotification] {
        let sql = db as! any SQLDatabase
        var q = sql.select().columns("id", "account_id", "kind", "event_id", "title", "body", "link", "created_at", "read_at").from("notifications")
            .where("account_id", .equal, SQLBind(owner))
        if unreadOnly { q = q.where("read_at", .is, SQLLiteral.null) }
        return try await q.orderBy("created_at", .descending).orderBy("id", .descending).limit(limit).offset(offset).all().map(Self.decodeNotification)
    }

    public func find(_ id: UUID, owner: UUID, on db: any Database) async throws -> InAppNotification? {
        let sql = db as! any SQLDatabase
        return try await sql.select().columns("id", "account_id", "kind", "event_id", "title", "body", "link", "created_at", "read_at").from("notifications")
            .where("id", .equal, SQLBind(id)).where("account_id", .equal, SQLBind(owner)).first().map(Self.decodeNotification)
    }

    public func count(owner: UUID, unreadOnly: Bool, on db: any Database) async throws -> Int {
        let sql = db as! any SQLDatabase
        var q = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("notifications").where("account_id", .equal, SQLBind(owner))
        if unreadOnly { q = q.where("read_at", .is, SQLLiteral.null) }
        return try await q.first()?.decode(column: "n", as: Int.self) ?? 0
    }

    /// Marks one (or, with `id` nil, every) unread notification of the owner read. Returns how many changed.
    @discardableResult
    public func markRead(_ id: UUID?, owner: UUID, at now: Date, on db: any Database) async throws -> Int {
        let sql = db as! any SQLDatabase
        var sel = sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("notifications")
            .where("account_id", .equal, SQLBind(owner)).where("read_at", .is, SQLLiteral.null)
        var q = sql.update("notifications").set("read_at", to: SQLBind(now)).where("account_id", .equal, SQLBind(owner)).where("read_at", .is, SQLLiteral.null)
        if let id {
            q = q.where("id", .equal, SQLBind(id))
            sel = sel.where("id", .equal, SQLBind(id))
        }
        let n = try await sel.first()?.decode(column: "n", as: Int.self) ?? 0
        try await q.run()
        return n
    }
}
