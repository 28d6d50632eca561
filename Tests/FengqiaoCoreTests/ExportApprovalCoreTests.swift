import FengqiaoCore
import Foundation
import Testing

/// The export approval rules of domain spec §7.3, without a database.
@Suite("export approval rules")
struct ExportApprovalCoreTests {
    let requester = UUID()
    let approver = UUID()
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func pending() -> ExportApproval {
        ExportApproval(id: UUID(), kind: "residents", requesterID: requester, requesterName: "网格员", requesterTerritoryID: UUID(),
                       filter: "{}", format: "csv", purpose: "核查", rows: 3, requestedAt: t0)
    }

    @Test("approve sets the validity window; the requester uses it once, before it ends")
    func lifecycle() throws {
        let a = try pending().decided(approve: true, by: approver, name: "民警", note: nil, at: t0, validity: 3600)
        #expect(a.status == .approved && a.validUntil == t0.addingTimeInterval(3600) && a.approverName == "民警")
        let used = try a.used(by: requester, at: t0.addingTimeInterval(3599))
        #expect(used.status == .used && used.usedAt == t0.addingTimeInterval(3599))
        #expect(throws: DomainError.invalidField(field: "approvalId", reason: "the approval has already been used; an approval is good for one export")) {
            try used.used(by: requester, at: t0.addingTimeInterval(10))
        }
        #expect(throws: DomainError.notFound(kind: "export approval")) { try a.used(by: approver, at: t0) }
        do {
            _ = try a.used(by: requester, at: t0.addingTimeInterval(3600))
            Issue.record("an expired approval was usable")
        } catch DomainError.invalidField(let field, let reason) {
            #expect(field == "approvalId" && reason.english.contains("expired at"))
        }
    }

    @Test("separation of duties, reasons for rejection, and one decision only")
    func decisions() throws {
        #expect(throws: DomainError.self) { try pending().decided(approve: true, by: requester, name: "x", note: nil, at: t0, validity: 60) }
        #expect(throws: DomainError.invalidField(field: "note", reason: "state why the export is rejected")) {
            try pending().decided(approve: false, by: approver, name: "x", note: "  ", at: t0, validity: 60)
        }
        let r = try pending().decided(approve: false, by: approver, name: "x", note: "用途不明", at: t0, validity: 60)
        #expect(r.status == .rejected && r.validUntil == nil && r.note == "用途不明")
        #expect(throws: DomainError.conflict(field: "status", reason: "the export request is already rejected")) {
            try r.decided(approve: true, by: approver, name: "x", note: nil, at: t0, validity: 60)
        }
        #expect(throws: DomainError.invalidField(field: "approvalId", reason: "the export request is still waiting for approval")) {
            try pending().used(by: requester, at: t0)
        }
    }
}
