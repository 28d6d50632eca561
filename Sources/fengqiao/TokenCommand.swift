import ArgumentParser
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import class Vapor.Application

extension Permission: ExpressibleByArgument {}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens from the server's command line.",
        subcommands: [Issue.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a scoped API token for an account and print only its secret (shown once).",
            discussion: """
                The token acts as the account with the given scopes, each of which must be a right of \
                the account's role. Use it as `Authorization: Bearer <token>` against /api/v1. The \
                secret is printed once on standard output and only its hash is stored; the issue is \
                recorded in the audit trail as done by the command-line operator. Revoke a token from \
                the account's page or with DELETE /api/v1/tokens/<id>.

                Example:
                  fengqiao token issue --username ops --scope territory:read --scope territory:write --days 30
                """)
        @OptionGroup var data: DataOptions
        @Option(help: "Login name of the account the token acts as (must be enabled).") var username: String
        @Option(name: .customLong("scope"), help: "A right the token carries (repeat for several); each must be a right of the account's role.")
        var scopes: [Permission] = []
        @Option(help: "Days until the token expires (1–366); without it the token does not expire.") var days: Int?
        @Option(help: "A label to recognise the token by (default: cli-<date>).") var name: String?

        func validate() throws {
            guard !scopes.isEmpty else { throw ValidationError("give at least one --scope") }
            if let days, !(1...366).contains(days) { throw ValidationError("--days must be 1–366") }
        }

        func run() async throws {
            let secret = try await withApp(data, requireExisting: true) { app -> String in
                guard let u = try await app.fengqiao.accounts.find(username: username, on: app.fengqiao.store.db) else {
                    throw ValidationError("no account \(username)")
                }
                guard !u.disabled else { throw ValidationError("account \(username) is disabled") }
                let label = name ?? "cli-\(ISO8601DateFormatter().string(from: Date()).prefix(10))"
                let (_, secret) = try await AuthService(app.fengqiao).issueToken(
                    user: Account(u), name: label, scopes: Set(scopes), days: days, actor: .commandLine())
                return secret
            }
            print(secret)
        }
    }
}
