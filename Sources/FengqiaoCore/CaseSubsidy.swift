import Foundation

/// Per-case subsidy (一事一案一补, domain spec §4.4 [P]): one subsidy per case, a reviewer other than
/// the claimant, amounts from a tariff table versioned by effective date, money in integer fen.

/// The kind of case a subsidy is paid for (§4.4 "event or dispute").
public enum SubsidyCaseType: String, CaseIterable, Codable, Sendable, Hashable {
    case event, dispute
}

/// Lifecycle of a claim (§4.4: CLAIMED → APPROVED | REJECTED; APPROVED → PAID).
public enum SubsidyState: String, CaseIterable, Codable, Sendable, Hashable {
    case claimed, approved, rejected, paid
}

/// One version of a tariff row: from `effectiveFrom` on, a case of this type (and category, or any
/// category when `nil`) pays `amountFen`.
public struct SubsidyTariffEntry: Codable, Sendable, Hashable {
    public var caseType: SubsidyCaseType
    /// The event category (`HazardCategory` raw value) or dispute category; `nil` = any.
    public var category: String?
    public var effectiveFrom: CalendarDate
    /// Amount in fen (1 yuan = 100 fen); never a floating-point value.
    public var amountFen: Int

    public init(caseType: SubsidyCaseType, category: String? = nil, effectiveFrom: CalendarDate, amountFen: Int) {
        self.caseType = caseType
        self.category = category
        self.effectiveFrom = effectiveFrom
        self.amountFen = amountFen
    }

    /// - Throws: `.invalidField("amountFen", …)` for a negative amount.
    public func validated() throws(DomainError) -> SubsidyTariffEntry {
        guard amountFen >= 0 else { throw .invalidField(field: "amountFen", reason: "must not be negative") }
        return self
    }
}

/// The tariff table, versioned by effective date (§4.4). Adding a version never touches amounts
/// already fixed on approved claims: the amount is copied onto the claim when it is approved.
public struct SubsidyTariff: Codable, Sendable, Hashable {
    public var entries: [SubsidyTariffEntry]

    public init(entries: [SubsidyTariffEntry]) { self.entries = entries }

    /// The amount in fen that applies to a case of `caseType`/`category` on `date`: the latest version
    /// effective on or before `date`, a row for the category winning over the any-category row of
    /// the same date or later.
    /// - Throws: `.invalidField("tariff", …)` when no row applies.
    public func amountFen(caseType: SubsidyCaseType, category: String?, on date: CalendarDate) throws(DomainError) -> Int {
        let applicable = entries.filter { $0.caseType == caseType && $0.effectiveFrom <= date }
        let specific = applicable.filter { $0.category != nil && $0.category == category }.max { $0.effectiveFrom < $1.effectiveFrom }
        let general = applicable.filter { $0.category == nil }.max { $0.effectiveFrom < $1.effectiveFrom }
        switch (specific, general) {
        case (let s?, let g?): return g.effectiveFrom > s.effectiveFrom ? g.amountFen : s.amountFen
        case (let s?, nil): return s.amountFen
        case (nil, let g?): return g.amountFen
        case (nil, nil): throw .invalidField(field: "tariff", reason: "no tariff for \(caseType.rawValue) \(category ?? "") on \(date)")
        }
    }
}

/// What the rules need to know about the case a subsidy is claimed for.
public struct SubsidyCase: Sendable, Hashable {
    public var caseType: SubsidyCaseType
    public var caseID: UUID
    public var category: String?
    /// Whether the case is closed (`closed`/`evaluated`, or a dispute's `CLOSED_RESOLVED`).
    public var closed: Bool
    /// Whether the closing on-site check passed.
    public var checkPassed: Bool
    /// The day the case closed (the tariff of that day applies).
    public var closedOn: CalendarDate?
    /// The people who handled the case (reporter or in-grid handler); the claimant must be one.
    public var handlers: Set<UUID>

    public init(caseType: SubsidyCaseType, caseID: UUID, category: String?, closed: Bool, checkPassed: Bool, closedOn: CalendarDate?, handlers: Set<UUID>) {
        self.caseType = caseType
        self.caseID = caseID
        self.category = category
        self.closed = closed
        self.checkPassed = checkPassed
        self.closedOn = closedOn
        self.handlers = handlers
    }
}

/// A subsidy claim.
public struct SubsidyClaim: Codable, Sendable, Hashable {
    public var id: UUID
    public var caseType: SubsidyCaseType
    public var caseID: UUID
    public var claimantID: UUID
    public var state: SubsidyState
    public var reviewerID: UUID?
    /// Fixed at approval from the tariff; `nil` before.
    public var amountFen: Int?
    public var reviewNote: String?

    public init(id: UUID = UUID(), caseType: SubsidyCaseType, caseID: UUID, claimantID: UUID, state: SubsidyState = .claimed,
                reviewerID: UUID? = nil, amountFen: Int? = nil, reviewNote: String? = nil) {
        self.id = id
        self.caseType = caseType
        self.caseID = caseID
        self.claimantID = claimantID
        self.state = state
        self.reviewerID = reviewerID
        self.amountFen = amountFen
        self.reviewNote = reviewNote
    }

    /// Opens a claim (§4.4 `claim(gridWorker)` on a closed, checked case).
    /// - Parameter existing: the claim already recorded for the same case, if any (the unique key
    ///   `(caseType, caseId)`); a rejected claim still blocks, since the case was decided.
    /// - Throws: `.conflict("caseId", …)` naming the existing claim; `.invalidField("caseId", …)` when
    ///   the case is not closed or its check did not pass; `.forbidden` when the claimant did not handle it.
    public static func claim(for c: SubsidyCase, by claimant: UUID, existing: SubsidyClaim?, id: UUID = UUID()) throws(DomainError) -> SubsidyClaim {
        if let e = existing {
            throw .conflict(field: "caseId", reason: "this case already has subsidy claim \(e.id.uuidString.lowercased()) (\(e.state.rawValue)); one subsidy per case")
        }
        guard c.closed, c.checkPassed else { throw .invalidField(field: "caseId", reason: "the case must be closed after a passed on-site check") }
        guard c.handlers.contains(claimant) else { throw .forbidden(reason: "only a handler of the case may claim its subsidy") }
        return SubsidyClaim(id: id, caseType: c.caseType, caseID: c.caseID, claimantID: claimant)
    }

    /// Decides a claim (§4.4 review). Approval fixes the amount from the tariff in force on the day
    /// the case closed; later tariff versions never change it.
    /// - Throws: `.forbidden` when the reviewer is the claimant (separation of duties);
    ///   `.conflict("state", …)` when the claim was already decided; `.invalidField("tariff", …)`
    ///   when no tariff applies.
    public func reviewed(approve: Bool, by reviewer: UUID, note: String?, case c: SubsidyCase, tariff: SubsidyTariff) throws(DomainError) -> SubsidyClaim {
        guard reviewer != claimantID else { throw .forbidden(reason: "the reviewer must not be the claimant") }
        guard state == .claimed else { throw .conflict(field: "state", reason: "cannot review a claim in state \(state.rawValue)") }
        var n = self
        n.reviewerID = reviewer
        n.reviewNote = note
        if approve {
            guard let day = c.closedOn else { throw .invalidField(field: "caseId", reason: "the case has no closing date") }
            n.amountFen = try tariff.amountFen(caseType: caseType, category: c.category, on: day)
            n.state = .approved
        } else {
            guard let note, !note.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw .invalidField(field: "note", reason: "a rejection needs a reason")
            }
            n.state = .rejected
        }
        return n
    }

    /// Formats fen as yuan with two decimals (`12345` → `"123.45"`), without floating point.
    public static func yuan(_ fen: Int) -> String {
        let sign = fen < 0 ? "-" : ""
        let a = abs(fen)
        let c = a % 100
        return "\(sign)\(a / 100).\(c < 10 ? "0" : "")\(c)"
    }
}
