import ArgumentParser
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import class Vapor.Application
import struct Vapor.Environment

extension Role: ExpressibleByArgument {}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage accounts from the server's command line.",
        subcommands: [Create.self, List.self, Disable.self, Enable.self, ResetPassword.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account. Without --password-stdin a temporary password is printed, to be changed at first sign-in.")
        @OptionGroup var data: DataOptions
        @Option(help: "Login name (3–32 of a–z 0–9 . _ -).") var username: String
        @Option(help: "Person's name.") var displayName: String?
        @Option(help: "Role: \(Role.allCases.map(\.rawValue).joined(separator: ", ")).") var role: Role
        @Option(help: "Scope: city, station:<id>, community:<id> or grid:<id>. Required except for the three administrator roles, which default to city.") var scope: String?
        @Flag(help: "Read the password from standard input instead of generating one.") var passwordStdin = false

        func run() async throws {
            var password: String?
            if passwordStdin { password = readLine(strippingNewline: true) }
            guard let raw = scope ?? (role.isAdministrator ? "city" : nil) else {
                let level = AdministrationPolicy.defaultScopeLevel(for: role)
                throw ValidationError("--scope is required for role \(role.rawValue) (usually \(level.rawValue):<id>; ids are on the territory pages and in the API)")
            }
            let parsed = try Self.parse(scope: raw)
            try await withApp(data) { app in
                let (a, temp) = try await AccountService(app.fengqiao).create(
                    .init(username: username, displayName: displayName ?? username, role: role, scope: parsed, password: password), actor: .commandLine())
                print("created \(a.username) (\(a.role.rawValue), scope \(a.scope)) id \(a.id.uuidString.lowercased())")
                if let temp { print("temporary password (shown once, must be changed at first sign-in): \(temp)") }
                if app.fengqiao.config.totpRoles.contains(role) { print("this role enrols a TOTP second factor at first sign-in") }
            }
        }

        static func parse(scope: String) throws -> TerritoryScope {
            if scope == "city" { return .city }
            let parts = scope.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let l = ScopeLevel(rawValue: parts[0]), let id = UUID(uuidString: parts[1]) else {
                throw ValidationError("--scope must be city, station:<id>, community:<id> or grid:<id>")
            }
            return TerritoryScope(level: l, territoryID: id)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts.")
        @OptionGroup var data: DataOptions
        @Option(help: "Only this role.") var role: Role?
        @Option(help: "text or json") var format = "text"
        func run() async throws {
            try await withApp(data, requireExisting: true) { app in
                let (items, total) = try await app.fengqiao.accounts.list(visible: .everything, role: role, limit: 100_000, on: app.fengqiao.store.db)
                if format == "json" {
                    let e = JSONEncoder()
                    e.outputFormatting = [.prettyPrinted, .sortedKeys]
                    e.dateEncodingStrategy = .iso8601
                    print(String(decoding: try e.encode(items), as: UTF8.self))
                    return
                }
                for a in items {
                    let state = a.disabled ? "disabled" : ((a.lockedUntil ?? .distantPast) > Date() ? "locked" : "active")
                    print("\(a.username.padding(toLength: 20, withPad: " ", startingAt: 0)) \(a.role.rawValue.padding(toLength: 26, withPad: " ", startingAt: 0)) \(a.scope.level.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(state)\(a.totpEnabled ? " 2fa" : "")")
                }
                print("\(total) accounts")
            }
        }
    }

    static func setDisabled(_ disabled: Bool, username: String, data: DataOptions) async throws {
        try await withApp(data, requireExisting: true) { app in
            guard let u = try await app.fengqiao.accounts.find(username: username, on: app.fengqiao.store.db) else { throw ValidationError("no account \(username)") }
            try await AccountService(app.fengqiao).setDisabled(u.id!, disabled: disabled, actor: .commandLine())
            print("\(disabled ? "disabled" : "enabled") \(u.username)")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable an account and end its sessions.")
        @OptionGroup var data: DataOptions
        @Argument var username: String
        func run() async throws { try await UserCommand.setDisabled(true, username: username, data: data) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled account.")
        @OptionGroup var data: DataOptions
        @Argument var username: String
        func run() async throws { try await UserCommand.setDisabled(false, username: username, data: data) }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset-password", abstract: "Set a temporary password (printed once) and unlock the account.")
        @OptionGroup var data: DataOptions
        @Argument var username: String
        func run() async throws {
            try await withApp(data, requireExisting: true) { app in
                guard let u = try await app.fengqiao.accounts.find(username: username, on: app.fengqiao.store.db) else { throw ValidationError("no account \(username)") }
                let temp = try await AccountService(app.fengqiao).resetPassword(u.id!, actor: .commandLine())
                print("temporary password for \(u.username) (shown once, must be changed at first sign-in): \(temp)")
            }
        }
    }
}
