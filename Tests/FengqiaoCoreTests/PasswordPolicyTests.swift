import Testing
@testable import FengqiaoCore

@Suite("Password policy (GB/T 22239-2019 8.1.4.1 a)")
struct PasswordPolicyTests {
    let policy = PasswordPolicy()

    @Test("defaults: 8 characters, 3 classes, 5 remembered, 72 bytes")
    func defaults() {
        #expect(policy.minLength == 8)
        #expect(policy.minClasses == 3)
        #expect(policy.historyCount == 5)
        #expect(policy.maxLength == 72)
    }

    @Test("acceptable passwords", arguments: ["Abcdefg1", "abcdefg1!", "ABCDEFG1!", "Abcdefg!", "Correct-Horse-9", "密码密码Ab12"])
    func accepted(_ pw: String) {
        #expect(policy.violations(of: pw).isEmpty)
    }

    @Test("one class is too few")
    func tooFewClasses() {
        #expect(policy.violations(of: "abcdefgh") == [.tooFewClasses(required: 3, found: 1)])
        #expect(policy.violations(of: "ABCDEFGH") == [.tooFewClasses(required: 3, found: 1)])
        #expect(policy.violations(of: "12345678") == [.tooFewClasses(required: 3, found: 1)])
        #expect(policy.violations(of: "abcdefg1") == [.tooFewClasses(required: 3, found: 2)])
        #expect(policy.violations(of: "Abcdefgh") == [.tooFewClasses(required: 3, found: 2)])
    }

    @Test("short passwords are refused even with every class")
    func tooShort() {
        #expect(policy.violations(of: "Abc1!") == [.tooShort(minimum: 8)])
        #expect(policy.violations(of: "Abcdef1") == [.tooShort(minimum: 8)])
        #expect(policy.violations(of: "Abcdefg1").isEmpty)
    }

    @Test("every violation is listed")
    func multiple() {
        #expect(policy.violations(of: "abc") == [.tooShort(minimum: 8), .tooFewClasses(required: 3, found: 1)])
        #expect(policy.violations(of: "") == [.tooShort(minimum: 8), .tooFewClasses(required: 3, found: 0)])
    }

    @Test("length counts Unicode scalars, the maximum counts UTF-8 bytes")
    func lengthUnits() {
        // 7 scalars: too short although 15 UTF-8 bytes.
        #expect(policy.violations(of: "密码密码Ab1").contains(.tooShort(minimum: 8)))
        #expect(policy.violations(of: String(repeating: "a", count: 70) + "B1") == [])
        #expect(policy.violations(of: String(repeating: "a", count: 71) + "B1") == [.tooLong(maximum: 72)])
        // 24 Chinese characters = 72 bytes: fine; 25 = 75 bytes: too long.
        #expect(!policy.violations(of: "Ab1" + String(repeating: "密", count: 23)).contains(.tooLong(maximum: 72)))
        #expect(policy.violations(of: "Ab1" + String(repeating: "密", count: 24)).contains(.tooLong(maximum: 72)))
    }

    @Test("non-ASCII letters count as symbols")
    func classes() {
        #expect(policy.violations(of: "abcdefgé") == [.tooFewClasses(required: 3, found: 2)])
        #expect(policy.violations(of: "abcdefg 1") == [])
    }

    @Test("a password containing the username is refused, case-insensitively")
    func username() {
        #expect(policy.violations(of: "Zhangsan2024!", username: "zhangsan") == [.containsUsername])
        #expect(policy.violations(of: "xxZHANGSANxx1", username: "ZhangSan") == [.containsUsername])
        #expect(policy.violations(of: "Abcdefg1", username: "zhangsan") == [])
        #expect(policy.violations(of: "Abcdefg1", username: nil) == [])
        // Usernames under 3 characters are not matched (they would forbid too much).
        #expect(policy.violations(of: "Abcdefg1", username: "ab") == [])
        #expect(policy.violations(of: "Abcdefg1", username: "bcd") == [.containsUsername])
    }

    @Test("the numbers are configurable")
    func configurable() {
        let strict = PasswordPolicy(minLength: 12, minClasses: 4, historyCount: 10, maxLength: 20)
        #expect(strict.historyCount == 10)
        #expect(strict.violations(of: "Abcdefg1") == [.tooShort(minimum: 12), .tooFewClasses(required: 4, found: 3)])
        #expect(strict.violations(of: "Abcdefghij1!") == [])
        #expect(strict.violations(of: "Abcdefghijklmnopqr1!x") == [.tooLong(maximum: 20)])
        let lax = PasswordPolicy(minLength: 4, minClasses: 1)
        #expect(lax.violations(of: "abcd") == [])
        #expect(lax.violations(of: "abc") == [.tooShort(minimum: 4)])
    }

    @Test("violations describe themselves in English and Chinese")
    func descriptions() {
        #expect(PasswordPolicy.Violation.tooShort(minimum: 8).description == "must have at least 8 characters")
        #expect(PasswordPolicy.Violation.tooShort(minimum: 8).descriptionZH == "长度至少 8 位")
        #expect(PasswordPolicy.Violation.tooFewClasses(required: 3, found: 1).description.contains("(has 1)"))
        #expect(PasswordPolicy.Violation.reused(history: 5).descriptionZH.contains("5"))
        let e = DomainError.passwordPolicy([.tooShort(minimum: 8), .containsUsername])
        #expect(e.description == "password: must have at least 8 characters; must not contain the username")
    }
}

@Suite("Lockout and session policies")
struct SessionPolicyTests {
    @Test("lockout defaults: 5 failures, 30 minutes")
    func lockout() {
        let p = LockoutPolicy()
        #expect(p.maxFailures == 5)
        #expect(p.lockSeconds == 1800)
    }

    @Test("privileged roles time out after 15 minutes, others after 30; absolute 8 h")
    func idle() {
        let p = SessionPolicy()
        #expect(p.absoluteSeconds == 8 * 3600)
        for role in [Role.sysadmin, .securityAdmin, .auditAdmin, .stationLeader] {
            #expect(p.idleTimeout(for: role) == 900, "\(role)")
        }
        for role in Role.allCases where !role.isPrivileged {
            #expect(p.idleTimeout(for: role) == 1800, "\(role)")
        }
        let custom = SessionPolicy(idleSecondsPrivileged: 60, idleSeconds: 120)
        #expect(custom.idleTimeout(for: .auditAdmin) == 60)
        #expect(custom.idleTimeout(for: .gridWorker) == 120)
    }
}
