import Foundation
import NIOPosix
import Vapor

/// bcrypt hashing off the event loop (each hash costs ~100–300 ms at cost 12).
public struct PasswordHasher: Sendable {
    public let cost: Int
    let threadPool: NIOThreadPool

    let dummyHash: String

    public init(cost: Int, threadPool: NIOThreadPool) {
        self.cost = cost
        self.threadPool = threadPool
        self.dummyHash = (try? Bcrypt.hash("fengqiao-dummy-password", cost: cost)) ?? ""
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await threadPool.runIfActive { try Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await threadPool.runIfActive { (try? Bcrypt.verify(password, created: hash)) ?? false }
    }

    /// A fixed hash to verify against when the account does not exist, so both paths cost the same.
    public func dummyVerify(_ password: String) async {
        _ = try? await verify(password, hash: dummyHash)
    }
}
