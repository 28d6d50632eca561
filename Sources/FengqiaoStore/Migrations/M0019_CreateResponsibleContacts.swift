import FluentKit
import SQLKit

/// The responsible-contact mapping of the whistle (吹哨报到, domain spec §3.8 "each category maps to
/// a default responsible department (configurable table)"; issue 5 "each category and territory
/// maps to its responsible contacts"): per hazard category and territory (a grid or a community),
/// the contact accounts a dispatch may go to. Edited by an administrator. A row may name a webhook
/// (`webhook_url`, and its HMAC secret sealed with the `FieldCipher` in `webhook_secret_enc`).
///
/// `notification_outbox` is the persistent outbox of notifications (issue 5): a row is written in
/// the same transaction as the change it announces and delivered later with retries and
/// exponential backoff (`next_attempt_at`), so nothing is lost while a receiver is down.
public struct M0019_CreateResponsibleContacts: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("responsible_contacts")
            .id()
            .field("category", .string, .required)
            .field("territory_id", .uuid, .required)
            .field("contact_id", .uuid, .required, .references("users", "id"))
            .field("organisation", .string, .required)
            .field("webhook_url", .string)
            .field("webhook_secret_enc", .string)
            .field("created_at", .datetime, .required)
            .create()
        try await database.schema("notification_outbox")
            .id()
            .field("channel", .string, .required)
            .field("target_url", .string, .required)
            .field("secret_enc", .string)
            .field("payload", .string, .required)
            .field("event_id", .uuid)
            .field("state", .string, .required)
            .field("attempts", .int, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("last_status", .int)
            .field("last_error", .string)
            .field("created_at", .datetime, .required)
            .field("delivered_at", .datetime)
            .create()
        let sql = database as! any SQLDatabase
        try await sql.create(index: "notification_outbox_due_idx").on("notification_outbox").column("state").column("next_attempt_at").run()
        try await sql.create(index: "responsible_contacts_uq").on("responsible_contacts").column("category").column("territory_id").column("contact_id").unique().run()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("notification_outbox").delete()
        try await database.schema("responsible_contacts").delete()
    }
}
