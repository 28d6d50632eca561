import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

extension AccountService {
    /// Links an account to its holder's own actual-resident record, or unlinks it.
    ///
    /// The holder is named by ID number (found through the residents' blind index; the number is
    /// neither stored on the account nor written to the audit trail) or by resident id. With the
    /// link, assigning this account as mediator of a dispute in which that resident is a party is
    /// refused from the registry (人民调解法 Art. 20; domain spec §4.1).
    /// - Parameters:
    ///   - idNumber: the holder's document number (15-digit numbers are upgraded); or
    ///   - residentID: the record's id; neither → the link is removed.
    ///   - visible: the administrator's territory: the resident must lie in it.
    /// - Returns: the account after the change.
    /// - Throws: `.notFound("user")` for an unknown account or one outside `visible`;
    ///   `.invalidField("idNumber" | "residentId", …)` when no current resident in `visible`
    ///   matches; `.forbidden` under the administration rules (`AdministrationPolicy`).
    public func linkResident(_ id: UUID, idNumber: String?, residentID: UUID?, actor: Actor, visible: VisibleTerritory) async throws -> Account {
        guard let target = try await app.accounts.find(id, on: app.store.db), visible.owns(territoryID: target.scopeTerritoryID) else {
            throw DomainError.notFound(kind: "user")
        }
        try AdministrationPolicy.checkLifecycle(actorID: actor.id ?? UUID(), actor: actor.role ?? .securityAdmin, targetID: id, targetRole: target.roleValue)
        let residents = ResidentRepository(cipher: app.cipher)
        var link: UUID?
        if let raw = idNumber?.trimmingCharacters(in: .whitespacesAndNewlines), !raw.isEmpty {
            let up = raw.uppercased()
            let holders = try await residents.holders(ofIDNumber: CitizenIDNumber.upgradeLegacy15(up) ?? up, on: app.store.db)
            for h in holders where try await ifFound({ try await residents.find(h.id, visible: visible, on: app.store.db) }) != nil {
                link = h.id
                break
            }
            guard link != nil else { throw DomainError.invalidField(field: "idNumber", reason: "no current actual resident with this number in your territory") }
        } else if let rid = residentID {
            guard try await ifFound({ try await residents.find(rid, visible: visible, on: app.store.db) }) != nil else {
                throw DomainError.invalidField(field: "residentId", reason: "no such actual resident in your territory")
            }
            link = rid
        }
        let linked = link
        try await app.store.write { [app] db in
            guard let u = try await UserModel.find(id, on: db) else { throw DomainError.notFound(kind: "user") }
            u.residentID = linked
            try await u.save(on: db)
            _ = try await app.audit.append(actor.draft(.update, objectType: "user", objectID: id.uuidString.lowercased(), fields: ["residentId"],
                                                       detail: linked.map { "linked to resident \($0.uuidString.lowercased())" } ?? "resident link removed"), on: db)
        }
        return try await get(id, visible: visible)
    }
}
