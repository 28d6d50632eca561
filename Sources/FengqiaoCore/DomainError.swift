/// The errors the domain core reports. One file in the server maps them to HTTP
/// (RFC 9457 problem details in the API, inline messages in forms).
public enum DomainError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A field failed validation; `field` is the API/form field name. The reason has an English
    /// text (the API's) and, when catalogued, a Chinese one (`ValidationReason`); a string
    /// literal at the throw site makes an English-only reason.
    case invalidField(field: String, reason: ValidationReason)
    /// The record does not exist or lies outside the caller's territory (both answer 404,
    /// so a scope never reveals that a record exists).
    case notFound(kind: String)
    /// The caller lacks the right.
    case forbidden(reason: String)
    /// A uniqueness rule was broken (e.g. username already taken).
    case conflict(field: String, reason: String)
    /// The password does not meet the policy; each violation is listed.
    case passwordPolicy([PasswordPolicy.Violation])

    public var description: String {
        switch self {
        case .invalidField(let f, let r): "\(f): \(r)"
        case .notFound(let k): "\(k) not found"
        case .forbidden(let r): "forbidden: \(r)"
        case .conflict(let f, let r): "\(f): \(r)"
        case .passwordPolicy(let v): "password: " + v.map(\.description).joined(separator: "; ")
        }
    }
}

/// The value `body` finds, or nil when it throws `DomainError.notFound` (a record that is absent
/// or outside the caller's territory); any other error — a failed query — is rethrown instead of
/// being mistaken for absence, as `try?` would.
public func ifFound<T>(_ body: () async throws -> T) async throws -> T? {
    do { return try await body() } catch DomainError.notFound { return nil }
}
