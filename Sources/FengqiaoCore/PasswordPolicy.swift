/// Password rules (口令复杂度), GB/T 22239-2019 8.1.4.1 a as interpreted by assessors (domain
/// spec §7.2, [P]): at least 8 characters, at least 3 of the 4 classes (upper, lower, digit,
/// symbol), none of the last 5 passwords reused. Every number is configurable.
public struct PasswordPolicy: Sendable, Equatable, Codable {
    /// Minimum length in characters (Unicode scalars).
    public var minLength: Int
    /// How many of the four character classes must appear.
    public var minClasses: Int
    /// How many previous passwords may not be reused.
    public var historyCount: Int
    /// Maximum length, to bound hashing cost (bcrypt reads 72 bytes).
    public var maxLength: Int

    public init(minLength: Int = 8, minClasses: Int = 3, historyCount: Int = 5, maxLength: Int = 72) {
        self.minLength = minLength
        self.minClasses = minClasses
        self.historyCount = historyCount
        self.maxLength = maxLength
    }

    /// One reason a password is refused.
    public enum Violation: Equatable, Sendable, Codable, CustomStringConvertible {
        case tooShort(minimum: Int)
        case tooLong(maximum: Int)
        case tooFewClasses(required: Int, found: Int)
        case containsUsername
        case reused(history: Int)

        public var description: String {
            switch self {
            case .tooShort(let m): "must have at least \(m) characters"
            case .tooLong(let m): "must have at most \(m) bytes"
            case .tooFewClasses(let r, let f):
                "must mix at least \(r) of upper case, lower case, digits and symbols (has \(f))"
            case .containsUsername: "must not contain the username"
            case .reused(let h): "must differ from the last \(h) passwords"
            }
        }

        public var descriptionZH: String {
            switch self {
            case .tooShort(let m): "长度至少 \(m) 位"
            case .tooLong(let m): "长度不得超过 \(m) 字节"
            case .tooFewClasses(let r, _): "须包含大写字母、小写字母、数字、符号中的至少 \(r) 类"
            case .containsUsername: "不得包含用户名"
            case .reused(let h): "不得与最近 \(h) 次使用的口令相同"
            }
        }
    }

    /// Checks the composition rules (history is checked by the caller, who holds the hashes).
    /// - Returns: every violation, empty when the password is acceptable.
    public func violations(of password: String, username: String? = nil) -> [Violation] {
        var out: [Violation] = []
        if password.unicodeScalars.count < minLength { out.append(.tooShort(minimum: minLength)) }
        if password.utf8.count > maxLength { out.append(.tooLong(maximum: maxLength)) }
        var upper = false, lower = false, digit = false, symbol = false
        for s in password.unicodeScalars {
            switch s {
            case "A"..."Z": upper = true
            case "a"..."z": lower = true
            case "0"..."9": digit = true
            default: symbol = true
            }
        }
        let classes = [upper, lower, digit, symbol].filter { $0 }.count
        if classes < minClasses { out.append(.tooFewClasses(required: minClasses, found: classes)) }
        if let username, username.count >= 3, password.lowercased().contains(username.lowercased()) {
            out.append(.containsUsername)
        }
        return out
    }
}

/// Login lockout (登录失败处理), GB/T 22239-2019 8.1.4.1 b: lock after `maxFailures` consecutive
/// failures for `lockMinutes` minutes (defaults 5 and 30, domain spec §7.2 [P]).
public struct LockoutPolicy: Sendable, Equatable, Codable {
    public var maxFailures: Int
    public var lockSeconds: Double

    public init(maxFailures: Int = 5, lockSeconds: Double = 30 * 60) {
        self.maxFailures = maxFailures
        self.lockSeconds = lockSeconds
    }
}

/// Session lifetimes (会话超时), domain spec §7.2 [P]: idle 15 min for privileged roles and 30 min
/// for the others, and 8 h absolute.
public struct SessionPolicy: Sendable, Equatable, Codable {
    public var idleSecondsPrivileged: Double
    public var idleSeconds: Double
    public var absoluteSeconds: Double

    public init(idleSecondsPrivileged: Double = 15 * 60, idleSeconds: Double = 30 * 60, absoluteSeconds: Double = 8 * 3600) {
        self.idleSecondsPrivileged = idleSecondsPrivileged
        self.idleSeconds = idleSeconds
        self.absoluteSeconds = absoluteSeconds
    }

    /// Idle timeout in seconds for an account of `role`.
    public func idleTimeout(for role: Role) -> Double {
        role.isPrivileged ? idleSecondsPrivileged : idleSeconds
    }
}
