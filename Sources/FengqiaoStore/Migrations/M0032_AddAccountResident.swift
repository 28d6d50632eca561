import FluentKit

/// Links an account to its holder's own actual-resident record (`users.resident_id`), so that
/// assigning a mediator who is a party to the dispute is refused from the registry, not from
/// what the assigning request declares (人民调解法 Art. 20 / domain spec §4.1: a mediator who is a
/// party or related to one is refused). No ID number is stored on the account: the link is set
/// by looking the holder up by ID number through the residents' blind index.
public struct M0032_AddAccountResident: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("users").field("resident_id", .uuid).update()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("users").deleteField("resident_id").update()
    }
}
