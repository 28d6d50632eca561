import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Audit hash chain (GB/T 22239-2019 8.1.4.3)")
struct AuditChainTests {
    static let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    static let actor = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!

    /// A sealed chain of `n` varied rows.
    static func chain(_ n: Int) -> [AuditEntry] {
        var rows: [AuditEntry] = []
        var prev = AuditEntry.genesisHash
        let actions = AuditAction.allCases
        for i in 1...n {
            let e = AuditEntry(
                seq: Int64(i), at: t0.addingTimeInterval(Double(i) * 1.5),
                actorID: i % 4 == 0 ? nil : actor, actorName: i % 4 == 0 ? nil : "zhangsan",
                actorRole: "grid-worker", actorScope: "grid:\(actor.uuidString.lowercased())",
                action: actions[i % actions.count], objectType: "person", objectID: "obj-\(i)",
                fields: i % 2 == 0 ? ["idNumber", "phone"] : [], purpose: i % 3 == 0 ? "核查" : nil,
                legalBasis: "statutoryDuty", result: i % 5 == 0 ? .denied : .success,
                clientIP: "10.0.0.\(i)", userAgent: "test", requestID: "req-\(i)", detail: "row \(i)",
                prevHash: prev
            ).sealed()
            rows.append(e)
            prev = e.hash
        }
        return rows
    }

    static func verify(_ rows: [AuditEntry]) -> AuditChainVerdict {
        var v = AuditChainVerifier()
        for r in rows { v.check(r) }
        return v.finish()
    }

    static func brokenSeq(_ verdict: AuditChainVerdict) -> Int64? {
        if case .broken(let seq, _) = verdict { return seq }
        return nil
    }

    static func reason(_ verdict: AuditChainVerdict) -> String? {
        if case .broken(_, let r) = verdict { return r }
        return nil
    }

    // MARK: hashing

    @Test("genesis hash is 64 zeros")
    func genesis() {
        #expect(AuditEntry.genesisHash == String(repeating: "0", count: 64))
    }

    static func sample() -> AuditEntry {
        AuditEntry(
            seq: 1, at: Date(timeIntervalSince1970: 1_700_000_000.1234), actorID: actor, actorName: "张三",
            actorRole: "grid-worker", actorScope: "city", action: .maskReveal, objectType: "person", objectID: "",
            fields: ["idNumber", "phone"], purpose: "核查", legalBasis: nil, result: .success,
            clientIP: "10.0.0.1", userAgent: nil, requestID: "r-1", detail: nil, prevHash: AuditEntry.genesisHash
        )
    }

    @Test("canonical form: length-prefixed UTF-8 fields, '-' for nil, millisecond time, lower-case UUID")
    func canonicalForm() {
        let expected = "1:1|13:1700000000123|36:e621e1f8-c36c-495a-93fc-0c247a3e6e5f|6:张三|11:grid-worker|4:city|"
            + "11:mask-reveal|6:person|0:|20:8:idNumber;5:phone#2|6:核查|-|7:success|8:10.0.0.1|-|3:r-1|-|64:"
            + String(repeating: "0", count: 64)
        #expect(Self.sample().canonical == expected)
    }

    @Test("hash is SHA-256 of the canonical form, lower-case hex")
    func knownHash() {
        // Computed independently: printf '%s' "<canonical>" | sha256sum
        let e = Self.sample().sealed()
        #expect(e.hash == "363a7b9e17227609cd10e5ce7bf90d39689dedc99c18896ea28ca097c9a100f2")
        #expect(e.computedHash() == e.hash)
        #expect(Self.sample().hash == "")
    }

    @Test("time is kept to the millisecond")
    func millisecondRounding() {
        var a = Self.sample()
        #expect(a.at.timeIntervalSince1970 == 1_700_000_000.123)
        a.at = Date(timeIntervalSince1970: 1_700_000_000.1231)
        #expect(a.computedHash() == Self.sample().computedHash())
        a.at = Date(timeIntervalSince1970: 1_700_000_000.124)
        #expect(a.computedHash() != Self.sample().computedHash())
    }

    @Test("nil and empty string serialise differently")
    func nilVersusEmpty() {
        let paths: [WritableKeyPath<AuditEntry, String?>] = [
            \.actorName, \.actorRole, \.actorScope, \.objectType, \.objectID, \.purpose, \.legalBasis,
            \.clientIP, \.userAgent, \.requestID, \.detail,
        ]
        for p in paths {
            var a = Self.sample(), b = Self.sample()
            a[keyPath: p] = nil
            b[keyPath: p] = ""
            #expect(a.canonical != b.canonical, "\(p)")
            #expect(a.computedHash() != b.computedHash(), "\(p)")
        }
    }

    @Test("field boundaries cannot be shifted")
    func boundaries() {
        var a = Self.sample(), b = Self.sample(), c = Self.sample(), d = Self.sample()
        a.actorName = "a|b"; a.actorRole = nil
        b.actorName = "a"; b.actorRole = "b"
        c.actorName = "a|3:b"; c.actorRole = nil
        d.actorName = "a"; d.actorRole = "1:b"
        let all = [a, b, c, d]
        #expect(Set(all.map(\.canonical)).count == 4)
        #expect(Set(all.map { $0.computedHash() }).count == 4)
        // A payload that imitates the serialisation of two fields does not collide with them.
        var e = Self.sample(), f = Self.sample()
        e.objectType = "person|6:person"; e.objectID = nil
        f.objectType = "person"; f.objectID = "person"
        #expect(e.canonical != f.canonical)
        // Multi-byte text is prefixed with its UTF-8 length, not its character count.
        #expect(Self.sample().canonical.contains("|6:张三|"))
    }

    @Test("distinct field lists serialise differently")
    func fieldLists() {
        var a = Self.sample(), b = Self.sample()
        a.fields = ["phone"]; b.fields = ["phone", "address"]
        #expect(a.computedHash() != b.computedHash())
        a.fields = ["a", "b"]; b.fields = ["b", "a"]
        #expect(a.computedHash() != b.computedHash())
        var c = Self.sample(), d = Self.sample()
        c.fields = ["a,b"]; d.fields = ["a", "b"]
        #expect(c.canonical != d.canonical)
        c.fields = []; d.fields = [""]
        #expect(c.canonical != d.canonical)
    }

    @Test("every field is covered by the hash")
    func everyFieldCovered() {
        let base = Self.sample()
        let mutations: [(String, (inout AuditEntry) -> Void)] = [
            ("seq", { $0.seq = 2 }),
            ("at", { $0.at = $0.at.addingTimeInterval(0.001) }),
            ("actorID", { $0.actorID = UUID() }),
            ("actorID nil", { $0.actorID = nil }),
            ("actorName", { $0.actorName = "李四" }),
            ("actorRole", { $0.actorRole = "sysadmin" }),
            ("actorScope", { $0.actorScope = "grid" }),
            ("action", { $0.action = .read }),
            ("objectType", { $0.objectType = "grid" }),
            ("objectID", { $0.objectID = "x" }),
            ("fields", { $0.fields = ["idNumber"] }),
            ("purpose", { $0.purpose = nil }),
            ("legalBasis", { $0.legalBasis = "consent" }),
            ("result", { $0.result = .denied }),
            ("clientIP", { $0.clientIP = "10.0.0.2" }),
            ("userAgent", { $0.userAgent = "curl" }),
            ("requestID", { $0.requestID = "r-2" }),
            ("detail", { $0.detail = "x" }),
            ("prevHash", { $0.prevHash = String(repeating: "f", count: 64) }),
        ]
        for (name, mutate) in mutations {
            var e = base
            mutate(&e)
            #expect(e.computedHash() != base.computedHash(), "\(name)")
        }
    }

    // MARK: verifier

    @Test("an untouched chain is intact")
    func intact() {
        let rows = Self.chain(12)
        #expect(rows[0].prevHash == AuditEntry.genesisHash)
        for i in 1..<rows.count { #expect(rows[i].prevHash == rows[i - 1].hash) }
        #expect(Self.verify(rows) == .intact(rows: 12))
        #expect(Self.verify([]) == .intact(rows: 0))
        #expect(Self.verify(Array(rows.prefix(1))) == .intact(rows: 1))
    }

    @Test("a changed field in the middle breaks that row", arguments: [
        "detail", "objectID", "actorID", "fields", "result", "at", "action",
    ])
    func tamperedField(_ field: String) {
        var rows = Self.chain(8)
        switch field {
        case "detail": rows[4].detail = "nothing happened"
        case "objectID": rows[4].objectID = "obj-999"
        case "actorID": rows[4].actorID = UUID()
        case "fields": rows[4].fields = ["phone"]
        case "result": rows[4].result = .error
        case "at": rows[4].at = rows[4].at.addingTimeInterval(-3600)
        case "action": rows[4].action = .delete
        default: Issue.record("unknown field \(field)")
        }
        let v = Self.verify(rows)
        #expect(Self.brokenSeq(v) == 5)
        #expect(Self.reason(v)?.contains("hash") == true)
    }

    @Test("a changed and re-sealed row breaks the next link")
    func tamperedAndResealed() {
        var rows = Self.chain(8)
        rows[4].objectID = "obj-999"
        rows[4] = rows[4].sealed()
        let v = Self.verify(rows)
        #expect(Self.brokenSeq(v) == 6)
        #expect(Self.reason(v)?.contains("previous-hash") == true)
    }

    @Test("a changed hash breaks that row")
    func tamperedHash() {
        var rows = Self.chain(8)
        rows[2].hash = String(repeating: "a", count: 64)
        #expect(Self.brokenSeq(Self.verify(rows)) == 3)
        // Upper-casing the hex is a change too.
        var rows2 = Self.chain(8)
        rows2[2].hash = rows2[2].hash.uppercased()
        #expect(Self.brokenSeq(Self.verify(rows2)) == 3)
    }

    @Test("a deleted row shows as a sequence gap at the next row")
    func deletedRow() {
        var rows = Self.chain(8)
        rows.remove(at: 3) // seq 4
        let v = Self.verify(rows)
        #expect(Self.brokenSeq(v) == 5)
        #expect(Self.reason(v)?.contains("gap") == true)
    }

    @Test("a deleted row with renumbered successors breaks the link")
    func deletedAndRenumbered() {
        var rows = Self.chain(8)
        rows.remove(at: 3)
        for i in 3..<rows.count { rows[i].seq -= 1 }
        #expect(Self.brokenSeq(Self.verify(rows)) == 4)
    }

    @Test("a swapped pair breaks at the first out-of-place row")
    func reordered() {
        var rows = Self.chain(8)
        rows.swapAt(2, 3) // seq 3 and 4
        let v = Self.verify(rows)
        #expect(Self.brokenSeq(v) == 4)
    }

    @Test("the first row must link to the genesis hash and carry seq 1")
    func genesisRow() {
        var rows = Self.chain(3)
        rows[0].prevHash = String(repeating: "1", count: 64)
        rows[0] = rows[0].sealed()
        #expect(Self.brokenSeq(Self.verify(rows)) == 1)
        let tail = Array(Self.chain(3).dropFirst())
        #expect(Self.brokenSeq(Self.verify(tail)) == 2)
    }

    @Test("the first break wins; later rows are ignored")
    func firstBreakWins() {
        var rows = Self.chain(8)
        rows[1].detail = "x"
        rows[5].detail = "y"
        var v = AuditChainVerifier()
        for r in rows { v.check(r) }
        #expect(Self.brokenSeq(v.verdict ?? .intact(rows: 0)) == 2)
        #expect(Self.brokenSeq(v.finish()) == 2)
    }

    @Test("a truncated tail verifies with fewer rows (the caller compares the count)")
    func truncatedTail() {
        let rows = Self.chain(8)
        #expect(Self.verify(Array(rows.prefix(7))) == .intact(rows: 7))
        #expect(Self.verify(Array(rows.prefix(7))) != .intact(rows: 8))
    }

    @Test("JSON round trip keeps the hash valid")
    func codable() throws {
        let rows = Self.chain(5)
        let data = try JSONEncoder().encode(rows)
        let back = try JSONDecoder().decode([AuditEntry].self, from: data)
        #expect(Self.verify(back) == .intact(rows: 5))
        #expect(back.map(\.hash) == rows.map(\.hash))
    }

    @Test("action raw values are stable")
    func actionRawValues() {
        #expect(AuditAction.maskReveal.rawValue == "mask-reveal")
        #expect(AuditAction.loginFail.rawValue == "login-fail")
        #expect(AuditAction.permissionChange.rawValue == "permission-change")
        #expect(AuditAction.tokenIssue.rawValue == "token-issue")
        #expect(AuditAction.tokenRevoke.rawValue == "token-revoke")
        #expect(AuditAction.allCases.count == 14)
    }
}
