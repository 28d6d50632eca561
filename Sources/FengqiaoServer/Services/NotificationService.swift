import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// In-app notifications and the delivery channels of accounts (issue 5 "Notifications").
///
/// In-app notifications are written in the transaction of the event change they announce
/// (`announce`): the dispatched contact on dispatch (吹哨/派遣); the reporter when the contact
/// acknowledges (报到), returns the event, or submits the result; the handler when the check fails
/// or the event is closed. Nobody is notified of their own action. Texts carry the event number,
/// category and deadline, never the free-text description or personal data (domain spec §7.4).
/// A notification is read and marked only by its owner; another account's answers 404.
public struct NotificationService: Sendable {
    let app: Fengqiao
    let repo = NotificationRepository()

    public init(_ app: Fengqiao) { self.app = app }

    // MARK: announcing event changes (inside the transition's transaction)

    static func eventLink(_ id: UUID) -> String { "/api/v1/events/\(id.uuidString.lowercased())" }

    /// Writes the in-app notifications for a transition and queues the external deliveries of a
    /// dispatch (`NotificationOutbox.enqueueDispatch`). Call inside the transition's transaction;
    /// ring `OutboxDoorbell` after it commits.
    static func announce(_ e: GridEvent, command: GridEventCommand, actorID: UUID, due: Date?, events: GridEventRepository, on db: any Database, now: Date) async throws {
        let repo = NotificationRepository()
        let cat = e.progress.category.nameZH
        let no = NotificationOutbox.shortID(e.id)
        var notes: [(UUID, String, NotificationText)] = []
        switch command {
        case .dispatch(let contact, let whistle):
            try await NotificationOutbox.enqueueDispatch(e, contact: contact, whistle: whistle, due: due, events: events, on: db, now: now)
            notes.append((contact, "event.dispatched", NotificationOutbox.dispatchText(e, whistle: whistle, due: due)))
        case .acknowledge:
            notes.append((e.reporterID, "event.acknowledged", NotificationText(title: "已报到：\(cat)", text: "事件 \(no)（\(cat)）已由责任单位报到，进入处置。")))
        case .returnToSender:
            notes.append((e.reporterID, "event.returned", NotificationText(title: "被退回：\(cat)", text: "事件 \(no)（\(cat)）被责任单位退回，需重新派遣；退回理由见事件记录。")))
        case .submitResult:
            notes.append((e.reporterID, "event.resultSubmitted", NotificationText(title: "待核查：\(cat)", text: "事件 \(no)（\(cat)）已提交处置结果，请到现场核查。")))
        case .checkFail:
            if let h = e.progress.handler {
                notes.append((h, "event.checkFailed", NotificationText(title: "核查未通过：\(cat)", text: "事件 \(no)（\(cat)）核查未通过，请继续处置。")))
            }
        case .checkPass:
            if let h = e.progress.handler {
                notes.append((h, "event.closed", NotificationText(title: "已结案：\(cat)", text: "事件 \(no)（\(cat)）核查通过，已结案。")))
            }
        default:
            break
        }
        var seen = Set<UUID>()
        for (account, kind, text) in notes {
            guard account != actorID, !seen.contains(account) else { continue }
            seen.insert(account)
            try await repo.insert(InAppNotification(accountID: account, kind: kind, eventID: e.id, title: text.title, body: text.text, link: eventLink(e.id), createdAt: now), on: db)
        }
    }

    // MARK: in-app notifications (owner only)

    public struct Listing: Sendable {
        public var items: [InAppNotification]
        public var total: Int
        public var unread: Int
    }

    public func list(owner: UUID, unreadOnly: Bool = false, limit: Int = 50, offset: Int = 0) async throws -> Listing {
        let db = app.store.db
        let unread = try await repo.count(owner: owner, unreadOnly: true, on: db)
        return Listing(items: try await repo.list(owner: owner, unreadOnly: unreadOnly, limit: min(max(limit, 1), 200), offset: max(offset, 0), on: db),
                       total: unreadOnly ? unread : try await repo.count(owner: owner, unreadOnly: false, on: db),
                       unread: unread)
    }

    public func unreadCount(owner: UUID) async throws -> Int { try await repo.count(owner: owner, unreadOnly: true, on: app.store.db) }

    /// Marks the owner's notification read (idempotent).
    /// - Throws: `.notFound("notification")` when it does not exist or belongs to someone else.
    public func markRead(_ id: UUID, owner: UUID, now: Date = Date()) async throws -> InAppNotification {
        let repo = self.repo
        return try await app.store.write { db in
            try await repo.markRead(id, owner: owner, at: now, on: db)
            guard let n = try await repo.find(id, owner: owner, on: db) else { throw DomainError.notFound(kind: "notification") }
            return n
        }
    }

    /// Marks all of the owner's notifications read; returns how many were unread.
    public func markAllRead(owner: UUID, now: Date = Date()) async throws -> Int {
        let repo = self.repo
        return try await app.store.write { db in try await repo.markRead(nil, owner: owner, at: now, on: db) }
    }

    // MARK: channels (administrators)

    public struct ChannelInput: Codable, Sendable {
        /// The account notified (a department/property contact).
        public var accountId: UUID?
        /// `webhook`, `wecom`, `dingtalk` or `sms`.
        public var kind: NotificationChannelKind?
        public var label: String?
        /// The webhook or robot URL (`webhook`, `wecom`, `dingtalk`), e.g.
        /// `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`,
        /// `https://oapi.dingtalk.com/robot/send?access_token=…`.
        public var url: String?
        /// The HMAC secret: required for `webhook` (≥ 16 characters), optional for `dingtalk` (加签,
        /// `SEC…`).
        public var secret: String?
        /// The phone number for `sms` (mainland mobile or E.164); stored sealed, shown masked.
        public var phone: String?
        /// `markdown` (default) or `text` for the robots.
        public var format: String?
    }

    /// The display form of a URL: scheme, host, port and path; query values replaced by `***`
    /// (a robot's key or access token is a credential).
    static func displayURL(_ u: URL) -> String {
        guard var c = URLComponents(url: u, resolvingAgainstBaseURL: false) else { return "\(u.scheme ?? "")://\(u.host ?? "")" }
        c.user = nil
        c.password = nil
        c.fragment = nil
        if let items = c.queryItems, !items.isEmpty { c.percentEncodedQuery = items.map { "\($0.name)=***" }.joined(separator: "&") }
        return c.string ?? "\(u.scheme ?? "")://\(u.host ?? "")"
    }

    /// Adds a channel to a department/property contact account visible to the caller.
    /// - Throws: `.invalidField` naming `accountId`, `kind`, `url`, `secret`, `phone`, `format` or
    ///   `label`.
    public func addChannel(_ i: ChannelInput, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> NotificationChannel {
        guard let aid = i.accountId else { throw DomainError.invalidField(field: "accountId", reason: "is required") }
        guard let kind = i.kind else { throw DomainError.invalidField(field: "kind", reason: "is required: webhook, wecom, dingtalk or sms") }
        guard let u = try await app.accounts.find(aid, on: app.store.db), u.roleValue == .departmentContact, p.visible.owns(territoryID: Account(u).scope.territoryID) else {
            throw DomainError.invalidField(field: "accountId", reason: "is not a department/property contact account in your territory")
        }
        let label = (i.label?.trimmingCharacters(in: .whitespacesAndNewlines)).flatMap { $0.isEmpty ? nil : $0 } ?? kind.nameZH
        guard label.count <= 60 else { throw DomainError.invalidField(field: "label", reason: "at most 60 characters") }
        if let f = i.format, !["markdown", "text"].contains(f) { throw DomainError.invalidField(field: "format", reason: "must be markdown or text") }
        let target: String
        let display: String
        var secret: String?
        switch kind {
        case .webhook, .wecom, .dingtalk:
            guard let raw = i.url?.trimmingCharacters(in: .whitespaces), !raw.isEmpty, raw.count <= 1000, let url = URL(string: raw),
                  ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false
            else { throw DomainError.invalidField(field: "url", reason: "must be an http or https URL") }
            target = raw
            display = Self.displayURL(url)
            if kind == .webhook {
                guard let s = i.secret, s.count >= 16 else { throw DomainError.invalidField(field: "secret", reason: "a webhook needs a shared secret of at least 16 characters") }
                secret = s
            } else if kind == .dingtalk, let s = i.secret?.trimmingCharacters(in: .whitespaces), !s.isEmpty {
                guard s.count <= 200 else { throw DomainError.invalidField(field: "secret", reason: "at most 200 characters") }
                secret = s
            } else if kind == .wecom, let s = i.secret, !s.isEmpty {
                throw DomainError.invalidField(field: "secret", reason: "a WeCom group robot has no signing secret (its key is part of the URL)")
            }
        case .sms:
            guard let raw = i.phone else { throw DomainError.invalidField(field: "phone", reason: "is required for an SMS channel") }
            let phone = try PhoneNumber(raw, field: "phone")
            target = phone.e164
            display = Masking.phone(phone.e164)
        }
        let hasSecret = secret != nil
        let c = NotificationChannel(accountID: aid, kind: kind, label: label, targetDisplay: display, format: i.format, createdAt: now)
        let sealedTarget = app.cipher.seal(target)
        let sealedSecret = secret.map { app.cipher.seal($0) }
        let repo = self.repo
        try await app.store.write { [app] db in
            try await repo.addChannel(c, targetSealed: sealedTarget, secretSealed: sealedSecret, on: db)
            _ = try await app.audit.append(actor.draft(.create, objectType: "notification-channel", objectID: c.id.uuidString.lowercased(),
                                                       fields: ["accountId", "kind", "label"] + (kind == .sms ? ["phone"] : ["url"]) + (hasSecret ? ["secret"] : []),
                                                       detail: "\(kind.rawValue) for \(aid.uuidString.lowercased())"), on: db)
        }
        return c
    }

    /// The channels of the contact accounts the caller can see (all of one account with `accountID`).
    public func channels(accountID: UUID?, principal p: Principal) async throws -> [NotificationChannel] {
        let all = try await repo.channels(accountIDs: accountID.map { [$0] }, on: app.store.db)
        var visible: [UUID: Bool] = [:]
        var out: [NotificationChannel] = []
        for c in all {
            if visible[c.accountID] == nil {
                let u = try await app.accounts.find(c.accountID, on: app.store.db)
                visible[c.accountID] = u.map { p.visible.owns(territoryID: Account($0).scope.territoryID) } ?? false
            }
            if visible[c.accountID] == true { out.append(c) }
        }
        return out
    }

    /// - Throws: `.notFound("notification channel")` outside the caller's territory.
    public func deleteChannel(_ id: UUID, actor: Actor, principal p: Principal) async throws {
        guard let c = try await repo.channel(id, on: app.store.db), let u = try await app.accounts.find(c.accountID, on: app.store.db),
              p.visible.owns(territoryID: Account(u).scope.territoryID)
        else { throw DomainError.notFound(kind: "notification channel") }
        let repo = self.repo
        try await app.store.write { [app] db in
            try await repo.deleteChannel(id, on: db)
            _ = try await app.audit.append(actor.draft(.delete, objectType: "notification-channel", objectID: id.uuidString.lowercased()), on: db)
        }
    }
}
