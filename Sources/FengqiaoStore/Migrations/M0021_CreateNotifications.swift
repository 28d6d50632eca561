import FluentKit
import SQLKit

/// Notifications (issue 5 "Notifications"), second slice:
///
/// - `notification_outbox` gains `claim_token` (the lease of a delivery worker: a claimed message
///   has its `next_attempt_at` moved to the end of the lease, so a worker that dies mid-delivery
///   leaves a message that becomes due again, at-least-once) and `target_enc` (the full target
///   sealed with the `FieldCipher`: a robot URL carries its access key, an SMS target is a phone
///   number; `target_url` then holds only a display form without the key or number).
/// - `notification_channels`: the channels of an account (a responsible contact) beside the
///   mapping's generic webhook: `webhook`, `wecom` (企业微信群机器人), `dingtalk` (钉钉自定义机器人),
///   `sms` (through the configured SMS gateway). Target and secret are sealed.
/// - `notifications`: in-app notifications per account (owner-only), `read_at` null while unread.
public struct M0021_CreateNotifications: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("notification_outbox").field("claim_token", .string).update()
        try await database.schema("notification_outbox").field("target_enc", .string).update()
        try await database.schema("notification_channels")
            .id()
            .field("account_id", .uuid, .required, .references("users", "id"))
            .field("kind", .string, .required)
            .field("label", .string, .required)
            .field("target_display", .string, .required)
            .field("target_enc", .string, .required)
            .field("secret_enc", .string)
            .field("format", .string)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("notifications")
            .id()
            .field("account_id", .uuid, .required, .references("users", "id"))
            .field("kind", .string, .required)
            .field("event_id", .uuid)
            .field("title", .string, .required)
            .field("body", .string, .required)
            .field("link", .string)
            .field("created_at", .datetime, .required)
            .field("read_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "notification_channels_account_idx").on("notification_channels").column("account_id").run()
        try await sql.create(index: "notifications_account_idx").on("notifications").column("account_id").column("created_at").run()
        try await sql.create(index: "notifications_unread_idx").on("notifications").column("account_id").column("read_at").run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("notifications").delete()
        try await database.schema("notification_channels").delete()
        try await database.schema("notification_outbox").deleteField("target_enc").update()
        try await database.schema("notification_outbox").deleteField("claim_token").update()
    }
}
