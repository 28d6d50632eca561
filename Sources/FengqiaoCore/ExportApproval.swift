import Foundation

/// Where an export approval (导出审批) stands.
public enum ExportApprovalStatus: String, Codable, Sendable, CaseIterable {
    /// Requested, waiting for an approver.
    case pending
    /// Approved: the requester may download the export once, until `validUntil`.
    case approved
    /// Refused by an approver; nothing can be exported under it.
    case rejected
    /// Downloaded: an approval is good for one export.
    case used
}

/// An approval record for one export of personal data (domain spec §7.3: "Exports need an
/// approval record and produce a watermarked file"). The requester states the purpose, the
/// filter and the format; an approver — another person, holding `export:approve`, whose territory
/// covers the requester's — approves or rejects it; an approved record allows exactly one download
/// of exactly that filter and format, within a validity period (project default 24 hours [P],
/// `FENGQIAO_EXPORT_APPROVAL_HOURS`). The filter never holds an exact ID number or phone: exports
/// are of lists, not of a person found by such a value.
public struct ExportApproval: Sendable, Equatable {
    public var id: UUID
    /// The record kind exported (`residents`).
    public var kind: String
    public var requesterID: UUID
    public var requesterName: String
    /// The territory of the requester's scope (nil: the whole installation); the approver's must cover it.
    public var requesterTerritoryID: UUID?
    /// The filter as JSON (the search criteria of the export, no exact personal value).
    public var filter: String
    /// `csv` or `xlsx`.
    public var format: String
    public var purpose: String
    /// Rows the filter matched when requested (the export recounts).
    public var rows: Int
    public var status: ExportApprovalStatus
    public var requestedAt: Date
    public var approverID: UUID?
    public var approverName: String?
    public var decidedAt: Date?
    public var note: String?
    public var validUntil: Date?
    public var usedAt: Date?

    public init(id: UUID, kind: String, requesterID: UUID, requesterName: String, requesterTerritoryID: UUID?, filter: String, format: String,
                purpose: String, rows: Int, status: ExportApprovalStatus = .pending, requestedAt: Date, approverID: UUID? = nil,
                approverName: String? = nil, decidedAt: Date? = nil, note: String? = nil, validUntil: Date? = nil, usedAt: Date? = nil) {
        self.id = id
        self.kind = kind
        self.requesterID = requesterID
        self.requesterName = requesterName
        self.requesterTerritoryID = requesterTerritoryID
        self.filter = filter
        self.format = format
        self.purpose = purpose
        self.rows = rows
        self.status = status
        self.requestedAt = requestedAt
        self.approverID = approverID
        self.approverName = approverName
        self.decidedAt = decidedAt
        self.note = note
        self.validUntil = validUntil
        self.usedAt = usedAt
    }

    /// The record after an approver's decision.
    /// - Parameters:
    ///   - validity: how long an approval stays usable, seconds.
    /// - Throws: `DomainError.conflict("status")` unless pending (naming the current status);
    ///   `DomainError.invalidField("approverId")` when the approver is the requester (§7.2
    ///   separation of duties: nobody approves their own export); `.invalidField("note")` when a
    ///   rejection gives no reason or a note is over 500 characters.
    public func decided(approve: Bool, by approverID: UUID, name: String, note: String?, at now: Date, validity: TimeInterval) throws -> ExportApproval {
        guard status == .pending else { throw DomainError.conflict(field: "status", reason: "the export request is already \(status.rawValue)") }
        guard approverID != requesterID else {
            throw DomainError.invalidField(field: "approverId", reason: "the requester cannot approve their own export; another approver must decide")
        }
        let text = note?.trimmed ?? ""
        guard text.count <= 500 else { throw DomainError.invalidField(field: "note", reason: "must have at most 500 characters") }
        guard approve || !text.isEmpty else { throw DomainError.invalidField(field: "note", reason: "state why the export is rejected") }
        var d = self
        d.status = approve ? .approved : .rejected
        d.approverID = approverID
        d.approverName = name
        d.decidedAt = now
        d.note = text.isEmpty ? nil : text
        d.validUntil = approve ? now.addingTimeInterval(validity) : nil
        return d
    }

    /// The record once its export is downloaded.
    /// - Throws: `DomainError.notFound("export approval")` for anyone but the requester;
    ///   `DomainError.invalidField("approvalId")` while pending, after a rejection, after the
    ///   one download, or after `validUntil` (naming when it expired).
    public func used(by requesterID: UUID, at now: Date) throws -> ExportApproval {
        guard requesterID == self.requesterID else { throw DomainError.notFound(kind: "export approval") }
        switch status {
        case .pending: throw DomainError.invalidField(field: "approvalId", reason: "the export request is still waiting for approval")
        case .rejected: throw DomainError.invalidField(field: "approvalId", reason: .text("the export request was rejected" + (note.map { ": \($0)" } ?? "")))
        case .used: throw DomainError.invalidField(field: "approvalId", reason: "the approval has already been used; an approval is good for one export")
        case .approved: break
        }
        if let until = validUntil, now >= until {
            throw DomainError.invalidField(field: "approvalId", reason: "the approval expired at \(until.formatted(.iso8601)); request the export again")
        }
        var d = self
        d.status = .used
        d.usedAt = now
        return d
    }
}
