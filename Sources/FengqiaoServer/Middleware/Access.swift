import FengqiaoCore
import Vapor

/// Every route declares its access rule; it is kept in the route's `userInfo` and enforced by
/// `AccessMiddleware`. A route registered without one is refused at request time and caught by
/// the route-table test.

extension Route {
    /// The declared access rule, if any.
    public var accessRule: AccessRule? { userInfo["fengqiao.access"] as? AccessRule }

    /// Whether the route honours `Idempotency-Key` (creates whose answer holds no secret; an
    /// answer with a temporary password or token is never stored).
    public var isIdempotentCreate: Bool { (userInfo["fengqiao.idempotent"] as? Bool) ?? false }

    /// Marks the route as an idempotent create.
    @discardableResult
    func idempotent() -> Route {
        userInfo["fengqiao.idempotent"] = true
        return self
    }
}

extension RoutesBuilder {
    @discardableResult
    func get<R: AsyncResponseEncodable>(_ path: PathComponent..., access: AccessRule, use handler: @Sendable @escaping (Request) async throws -> R) -> Route {
        let r = on(.GET, path, use: handler)
        r.userInfo["fengqiao.access"] = access
        return r
    }

    @discardableResult
    func post<R: AsyncResponseEncodable>(_ path: PathComponent..., access: AccessRule, use handler: @Sendable @escaping (Request) async throws -> R) -> Route {
        let r = on(.POST, path, use: handler)
        r.userInfo["fengqiao.access"] = access
        return r
    }

    @discardableResult
    func patch<R: AsyncResponseEncodable>(_ path: PathComponent..., access: AccessRule, use handler: @Sendable @escaping (Request) async throws -> R) -> Route {
        let r = on(.PATCH, path, use: handler)
        r.userInfo["fengqiao.access"] = access
        return r
    }

    @discardableResult
    func put<R: AsyncResponseEncodable>(_ path: PathComponent..., access: AccessRule, use handler: @Sendable @escaping (Request) async throws -> R) -> Route {
        let r = on(.PUT, path, use: handler)
        r.userInfo["fengqiao.access"] = access
        return r
    }

    @discardableResult
    func delete<R: AsyncResponseEncodable>(_ path: PathComponent..., access: AccessRule, use handler: @Sendable @escaping (Request) async throws -> R) -> Route {
        let r = on(.DELETE, path, use: handler)
        r.userInfo["fengqiao.access"] = access
        return r
    }
}
