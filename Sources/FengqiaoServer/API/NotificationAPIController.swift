import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// In-app notifications (own only), delivery channels of contacts, and "retry now" of outbox
/// deliveries in the JSON API (issue 5 "Notifications"). The delivery list itself is
/// `GET /api/v1/notification-deliveries` (`HazardAPIController`).
///
/// A notification of another account answers 404 whether it exists or not.
struct NotificationAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("notifications", access: .authenticated, use: list)
        api.get("notifications", "unread-count", access: .authenticated, use: unread)
        api.post("notifications", ":id", "read", access: .authenticated, use: markRead)
        api.post("notifications", "read-all", access: .authenticated, use: markAllRead)
        api.get("notification-channels", access: .permission(.eventConfigure), use: channels)
        api.post("notification-channels", access: .permission(.eventConfigure), use: addChannel).idempotent()
        api.delete("notification-channels", ":id", access: .permission(.eventConfigure), use: deleteChannel)
        api.post("notification-deliveries", ":id", "retry", access: .permission(.eventConfigure), use: retry)
    }

    struct NotificationDTO: Encodable {
        var id: UUID
        var kind: String
        var eventId: UUID?
        var title: String
        var body: String
        var link: String?
        var createdAt: Date
        var readAt: Date?
        var read: Bool

        init(_ n: InAppNotification) {
            id = n.id
            kind = n.kind
            eventId = n.eventID
            title = n.title
            body = n.body
            link = n.link
            createdAt = n.createdAt
            readAt = n.readAt
            read = n.readAt != nil
        }
    }

    struct ListDTO: Encodable { var items: [NotificationDTO]; var total: Int; var unread: Int }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let unreadOnly = req.query[String.self, at: "unread"].map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
        let limit = req.query[Int.self, at: "limit"] ?? 50
        guard (1...200).contains(limit) else { throw DomainError.invalidField(field: "limit", reason: "must be 1–200") }
        let offset = req.query[Int.self, at: "offset"] ?? 0
        guard offset >= 0 else { throw DomainError.invalidField(field: "offset", reason: "must be 0 or more") }
        let l = try await NotificationService(req.fengqiao).list(owner: p.id, unreadOnly: unreadOnly, limit: limit, offset: offset)
        return try JSONOut.response(ListDTO(items: l.items.map(NotificationDTO.init), total: l.total, unread: l.unread))
    }

    struct UnreadDTO: Encodable { var unread: Int }

    func unread(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(UnreadDTO(unread: try await NotificationService(req.fengqiao).unreadCount(owner: p.id)))
    }

    func markRead(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let n = try await NotificationService(req.fengqiao).markRead(try req.uuid("id", kind: "notification"), owner: p.id)
        return try JSONOut.response(NotificationDTO(n))
    }

    struct MarkedDTO: Encodable { var marked: Int }

    func markAllRead(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(MarkedDTO(marked: try await NotificationService(req.fengqiao).markAllRead(owner: p.id)))
    }

    struct ChannelDTO: Encodable {
        var id: UUID
        var accountId: UUID
        var kind: NotificationChannelKind
        var kindName: String
        var label: String
        /// The URL without its key, or the masked phone number.
        var target: String
        var format: String?
        var createdAt: Date

        init(_ c: NotificationChannel) {
            id = c.id
            accountId = c.accountID
            kind = c.kind
            kindName = c.kind.nameZH
            label = c.label
            target = c.targetDisplay
            format = c.format
            createdAt = c.createdAt
        }
    }

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    func channels(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        var account: UUID?
        if let s = req.query[String.self, at: "accountId"] {
            guard let id = UUID(uuidString: s) else { throw DomainError.invalidField(field: "accountId", reason: "is not a UUID") }
            account = id
        }
        let items = try await NotificationService(req.fengqiao).channels(accountID: account, principal: p).map(ChannelDTO.init)
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    func addChannel(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let c = try await NotificationService(req.fengqiao).addChannel(try JSONIn.decode(NotificationService.ChannelInput.self, req), actor: req.actor, principal: p)
        return try JSONOut.response(ChannelDTO(c), status: .created, location: "/api/v1/notification-channels/\(c.id.uuidString.lowercased())")
    }

    func deleteChannel(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        try await NotificationService(req.fengqiao).deleteChannel(try req.uuid("id", kind: "notification channel"), actor: req.actor, principal: p)
        return Response(status: .noContent)
    }

    struct RetryDTO: Encodable { var id: UUID; var state: String; var nextAttemptAt: Date }

    func retry(_ req: Request) async throws -> Response {
        let id = try req.uuid("id", kind: "notification delivery")
        let now = Date()
        try await NotificationOutbox(req.fengqiao).retryNow(id, actor: req.actor, now: now)
        return try JSONOut.response(RetryDTO(id: id, state: OutboxMessage.State.pending.rawValue, nextAttemptAt: now), status: .accepted)
    }
}
