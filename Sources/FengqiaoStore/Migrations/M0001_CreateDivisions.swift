import FluentKit

/// Division table (行政区划): code, name, level, parent.
public struct M0001_CreateDivisions: AsyncMigration {
    public init() {}
    public func prepare(on database: any Database) async throws {
        try await database.schema("divisions")
            .field("code", .string, .identifier(auto: false))
            .field("name", .string, .required)
            .field("level", .string, .required)
            .field("parent_code", .string)
            .create()
    }
    public func revert(on database: any Database) async throws {
        try await database.schema("divisions").delete()
    }
}
