import FengqiaoCore
import FengqiaoStore
import NIOCore
import Vapor

/// 一标三实 pages: the resident search (人口查询, values in POST bodies only), resident and address
/// records, the audited reveal, the per-grid 核采 work list with its marks (verified, changed,
/// moved out), and masked, watermarked, audited CSV/XLSX exports (requested and approved in
/// `ExportApprovalWebController`). The same services serve the API.
struct PopulationWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("population", access: .permission(.personRead), use: searchPage)
        routes.post("population", access: .permission(.personRead), use: search)
        routes.get("residents", ":id", access: .permission(.personRead), use: resident)
        routes.post("residents", ":id", "reveal", access: .permission(.piiReveal), use: reveal)
        routes.post("residents", ":id", "verification", access: .permission(.personWrite), use: markResident)
        routes.get("residents", ":id", "change", access: .permission(.personWrite), use: changeForm)
        routes.post("residents", ":id", "change", access: .permission(.personWrite), use: change)
        routes.get("residents", ":id", "move-out", access: .permission(.personWrite), use: moveOutForm)
        routes.post("residents", ":id", "move-out", access: .permission(.personWrite), use: moveOut)
        routes.get("addresses", ":id", access: .permission(.personRead), use: address)
        routes.post("addresses", ":id", "verification", access: .permission(.personWrite), use: markAddress)
        routes.get("grids", ":id", "verification", access: .permission(.personRead), use: workList)
    }

    static func values(_ req: Request) -> [String: String] { TerritoryWebController.values(req) }

    /// Only bad input is shown in the form; a record outside the territory stays a 404.
    static func formError(_ error: any Error, form: String, values: [String: String]) -> FormError? {
        if case DomainError.notFound = error { return nil }
        return FormError.from(error, form: form, values: values)
    }

    // MARK: Search

    struct SearchData: Encodable {
        var name: String
        var addressText: String
        var building: String
        var gridID: String
        var buildingID = ""
        var buildingName: String?
        var grids: [PopulationViews.Option]
        var searched: Bool
        var exact: Bool
        var rows: [PopulationViews.Row]
        var total: Int
        var from: Int
        var to: Int
        var prevOffset: Int?
        var nextOffset: Int?
        var hasPrev = false
        var canExport: Bool
        var formError: FormError?
    }

    static let pageSize = 50

    func gridOptions(_ req: Request, _ p: Principal, selected: String?) async throws -> ([PopulationViews.Option], [UUID: String]) {
        let app = req.fengqiao
        let db = app.store.db
        var options: [PopulationViews.Option] = []
        var names: [UUID: String] = [:]
        for s in try await app.territories.stations(visible: p.visible, on: db) {
            for c in try await app.territories.communities(stationID: s.id, visible: p.visible, on: db) {
                for g in try await app.territories.grids(communityID: c.id, visible: p.visible, on: db) {
                    let id = g.id.uuidString.lowercased()
                    names[g.id] = g.name
                    options.append(.init(value: id, label: "\(c.name) · \(g.name)", selected: id == selected))
                }
            }
        }
        return (options, names)
    }

    func searchPage(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (grids, _) = try await gridOptions(req, p, selected: nil)
        let data = SearchData(name: "", addressText: "", building: "", gridID: "", grids: grids, searched: false, exact: false, rows: [], total: 0, from: 0, to: 0,
                              canExport: false, formError: nil)
        return try await Page.render(req, "population", data, title: Page.t(req)["pop.title"]!)
    }

    func search(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let v = Self.values(req)
        let t = Page.t(req)
        let offset = max(0, min(Int(v["offset"] ?? "") ?? 0, 10_000_000))
        let (grids, gridNames) = try await gridOptions(req, p, selected: v["gridId"])
        let exact = !(v["idNumber"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty || !(v["phone"] ?? "").trimmingCharacters(in: .whitespaces).isEmpty
        // Typed ID numbers and phones are never echoed into the page (nor carried to paging or export forms).
        var echo = v
        echo["idNumber"] = nil
        echo["phone"] = nil
        var data = SearchData(
            name: v["name"] ?? "", addressText: v["addressText"] ?? "", building: v["building"] ?? "", gridID: v["gridId"] ?? "", grids: grids,
            searched: true, exact: exact, rows: [], total: 0, from: 0, to: 0, canExport: false, formError: nil)
        do {
            let buildingID = try TerritoryWebController.uuidField(v["buildingId"], "buildingId")
            if let bid = buildingID {
                data.buildingName = try await req.fengqiao.territories.building(bid, visible: p.visible, on: req.fengqiao.store.db).name
                data.buildingID = bid.uuidString.lowercased()
            }
            let input = PopulationService.SearchInput(
                idNumber: v["idNumber"], phone: v["phone"], name: v["name"], gridId: try TerritoryWebController.uuidField(v["gridId"], "gridId"),
                addressText: v["addressText"], building: v["building"], buildingId: buildingID, limit: Self.pageSize, offset: offset)
            let (items, total) = try await PopulationService(req.fengqiao).search(input, actor: req.actor, visible: p.visible)
            data.rows = try await rows(items, req: req, gridNames: gridNames)
            data.total = total
            data.from = items.isEmpty ? 0 : offset + 1
            data.to = offset + items.count
            data.prevOffset = offset > 0 ? max(0, offset - Self.pageSize) : nil
            data.hasPrev = offset > 0
            data.nextOffset = offset + items.count < total && !exact ? offset + Self.pageSize : nil
            data.canExport = total > 0 && !exact
        } catch {
            guard let fe = Self.formError(error, form: "search", values: echo) else { throw error }
            data.formError = fe
            return try await Page.render(req, "population", data, title: t["pop.title"]!, status: .unprocessableEntity)
        }
        return try await Page.render(req, "population", data, title: t["pop.title"]!)
    }

    func rows(_ items: [ActualResident], req: Request, gridNames: [UUID: String], withState: Bool = false) async throws -> [PopulationViews.Row] {
        let app = req.fengqiao
        let t = Page.t(req)
        let addrs = try await AddressRepository().find(ids: items.map(\.residenceAddressID), on: app.store.db)
        let states = withState ? try await ResidentRepository(cipher: app.cipher).verificationStates(items.map(\.id), on: app.store.db) : [:]
        return items.map { r in
            PopulationViews.Row(
                id: r.id.uuidString.lowercased(), name: r.name, sex: t["pop.sex.\(r.sex.rawValue)"] ?? "", birthDate: r.maskedBirthDate,
                idNumber: r.maskedIDNumber, phone: r.maskedPhone, populationType: t["pop.type.\(r.populationType.rawValue)"] ?? "",
                address: addrs[r.residenceAddressID]?.formatted() ?? "", addressID: r.residenceAddressID.uuidString.lowercased(),
                gridName: gridNames[r.gridID] ?? "", deregistered: r.deregisteredAt != nil,
                verification: PopulationViews.verification(states[r.id], policy: app.config.verificationPolicy, deregistered: r.deregisteredAt != nil, t))
        }
    }

    // MARK: Export

    /// The export as a download: CSV streamed page by page, XLSX built then sent.
    static func fileResponse(_ prepared: ExportService.Prepared, _ svc: ExportService) async throws -> Response {
        let res: Response
        switch prepared.format {
        case .csv:
            // Managed: the stream is ended (or failed) whatever happens, e.g. when the client
            // goes away mid-download, instead of tripping Vapor's unfinished-writer assertion.
            res = Response(status: .ok, body: .init(managedAsyncStream: { writer in
                try await svc.writeCSV(prepared) { text in try await writer.write(.buffer(ByteBuffer(string: text))) }
            }))
        case .xlsx:
            res = Response(status: .ok, body: .init(data: try await svc.xlsx(prepared)))
        }
        res.headers.replaceOrAdd(name: .contentType, value: prepared.format.contentType)
        res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(prepared.filename)\"")
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        res.headers.replaceOrAdd(name: "X-Export-Rows", value: String(prepared.total))
        res.headers.replaceOrAdd(name: "X-Export-Audit-Seq", value: String(prepared.auditSeq))
        return res
    }

    // MARK: Resident

    struct ResidentData: Encodable {
        var r: PopulationViews.Resident
        var address: PopulationViews.Address?
        var grid: Grid
        var community: Community
        var building: Building?
        var verification: PopulationViews.Verification?
        var canReveal: Bool
        var canWrite: Bool
        var deregistered: Bool
        var revealedLabel: String?
        var revealedValue: String?
        var revealFields: [PopulationViews.Option]
        var formError: FormError?
        var notice: String?
    }

    func resident(_ req: Request) async throws -> Response {
        let notice = req.query[String.self, at: "done"] == "1" ? Page.t(req)["ver.saved"] : nil
        return try await renderResident(req, id: try req.uuid("id", kind: "resident"), notice: notice)
    }

    func renderResident(_ req: Request, id: UUID, revealed: (PopulationService.RevealField, String)? = nil, formError: FormError? = nil, notice: String? = nil) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let db = app.store.db
        let t = Page.t(req)
        let r = try await PopulationService(app).resident(id, actor: req.actor, visible: p.visible)
        let a = try await ifFound { try await AddressRepository().find(r.residenceAddressID, visible: p.visible, on: db) }
        let g = try await app.territories.grid(r.gridID, visible: p.visible, on: db)
        let c = try await app.territories.community(g.communityID, visible: .everything, on: db)
        var b: Building?
        if let bid = a?.buildingID { b = try await ifFound { try await app.territories.building(bid, visible: p.visible, on: db) } }
        let state = try await ResidentRepository(cipher: app.cipher).verificationStates([id], on: db)[id]
        let fields = PopulationService.RevealField.allCases.filter { $0 == .idNumber || r.phone != nil }
        let data = ResidentData(
            r: PopulationViews.resident(r, t), address: a.map { PopulationViews.address($0, t) }, grid: g, community: c, building: b,
            verification: PopulationViews.verification(state, policy: app.config.verificationPolicy, deregistered: r.deregisteredAt != nil, t),
            canReveal: p.has(.piiReveal), canWrite: p.has(.personWrite), deregistered: r.deregisteredAt != nil,
            revealedLabel: revealed.map { t["pop.reveal.\($0.0.rawValue)"] ?? $0.0.rawValue }, revealedValue: revealed?.1,
            revealFields: fields.map { .init(value: $0.rawValue, label: t["pop.reveal.\($0.rawValue)"] ?? $0.rawValue, selected: false) },
            formError: formError, notice: notice)
        return try await Page.render(req, "resident", data, title: r.name, status: formError == nil ? .ok : .unprocessableEntity)
    }

    func reveal(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "resident")
        let v = Self.values(req)
        let field = v["field"].flatMap(PopulationService.RevealField.init(rawValue:))
        do {
            let value = try await PopulationService(req.fengqiao).reveal(id, field: field, purpose: v["purpose"], actor: req.actor, visible: p.visible)
            let res = try await renderResident(req, id: id, revealed: (field!, value))
            res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
            return res
        } catch {
            guard let fe = Self.formError(error, form: "reveal", values: v) else { throw error }
            return try await renderResident(req, id: id, formError: fe)
        }
    }

    // MARK: Verification marks

    func markResident(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "resident")
        let v = Self.values(req)
        let idText = id.uuidString.lowercased()
        let next = req.safeNext(v["next"] ?? "/residents/\(idText)")
        let nextQuery = "?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        switch v["outcome"].flatMap(VerificationOutcome.init(rawValue:)) {
        case .changed:
            _ = try await PopulationService(req.fengqiao).resident(id, visible: p.visible)
            return req.redirect(to: "/residents/\(idText)/change\(nextQuery)")
        case .movedOut:
            _ = try await PopulationService(req.fengqiao).resident(id, visible: p.visible)
            return req.redirect(to: "/residents/\(idText)/move-out\(nextQuery)")
        case .verified:
            do {
                _ = try await VerificationService(req.fengqiao).markResident(id, .init(outcome: .verified), actor: req.actor, visible: p.visible)
            } catch {
                guard let fe = Self.formError(error, form: "verify", values: v) else { throw error }
                return try await renderResident(req, id: id, formError: fe)
            }
            return req.redirect(to: Self.withDone(next))
        case nil:
            return try await renderResident(req, id: id, formError: FormError(form: "verify", field: "outcome", message: "outcome: is required", values: v))
        }
    }

    static func withDone(_ next: String) -> String { next + (next.contains("?") ? "&" : "?") + "done=1" }

    struct ChangeData: Encodable {
        var r: PopulationViews.Resident
        var reasons: [PopulationViews.Option]
        var relations: [PopulationViews.Option]
        var employer: String
        var hukouAddress: String
        var next: String
        var formError: FormError?
    }

    func changeForm(_ req: Request) async throws -> Response {
        try await renderChange(req, id: try req.uuid("id", kind: "resident"), values: nil, formError: nil)
    }

    func renderChange(_ req: Request, id: UUID, values: [String: String]?, formError: FormError?) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let r = try await PopulationService(req.fengqiao).resident(id, visible: p.visible)
        if r.deregisteredAt != nil, formError == nil { return req.redirect(to: "/residents/\(id.uuidString.lowercased())") }
        let next = req.safeNext(values?["next"] ?? req.query[String.self, at: "next"] ?? "/residents/\(id.uuidString.lowercased())")
        let data = ChangeData(
            r: PopulationViews.resident(r, t),
            reasons: PopulationViews.options(ActualResident.ResidenceReason.self, prefix: "pop.reason", selected: values?["residenceReason"] ?? r.residenceReason.rawValue, t),
            relations: PopulationViews.options(ActualResident.HousingRelation.self, prefix: "pop.housing", selected: values?["housingRelation"] ?? r.housingRelation.rawValue, t),
            employer: values?["employer"] ?? r.employer ?? "", hukouAddress: values?["hukouAddress"] ?? r.hukouAddress ?? "", next: next, formError: formError)
        return try await Page.render(req, "resident-change", data, title: "\(t["ver.changeTitle"]!) · \(r.name)", status: formError == nil ? .ok : .unprocessableEntity)
    }

    func change(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "resident")
        let v = Self.values(req)
        let phone = (v["clearPhone"] == "1") ? "" : ((v["phone"] ?? "").isEmpty ? nil : v["phone"])
        let change = ResidentChange(
            phone: phone, employer: v["employer"] ?? "", residenceReason: v["residenceReason"].flatMap(ActualResident.ResidenceReason.init(rawValue:)),
            housingRelation: v["housingRelation"].flatMap(ActualResident.HousingRelation.init(rawValue:)), hukouAddress: v["hukouAddress"] ?? "")
        do {
            _ = try await VerificationService(req.fengqiao).markResident(id, .init(outcome: .changed, changes: change), actor: req.actor, visible: p.visible)
        } catch {
            var echo = v
            echo["phone"] = nil
            guard let fe = Self.formError(error, form: "change", values: echo) else { throw error }
            return try await renderChange(req, id: id, values: echo, formError: fe)
        }
        return req.redirect(to: Self.withDone(req.safeNext(v["next"] ?? "/residents/\(id.uuidString.lowercased())")))
    }

    struct MoveOutData: Encodable {
        var r: PopulationViews.Resident
        var reasons: [PopulationViews.Option]
        var date: String
        var note: String
        var next: String
        var formError: FormError?
    }

    func moveOutForm(_ req: Request) async throws -> Response {
        try await renderMoveOut(req, id: try req.uuid("id", kind: "resident"), values: nil, formError: nil)
    }

    func renderMoveOut(_ req: Request, id: UUID, values: [String: String]?, formError: FormError?) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let r = try await PopulationService(req.fengqiao).resident(id, visible: p.visible)
        if r.deregisteredAt != nil, formError == nil { return req.redirect(to: "/residents/\(id.uuidString.lowercased())") }
        let next = req.safeNext(values?["next"] ?? req.query[String.self, at: "next"] ?? "/residents/\(id.uuidString.lowercased())")
        let data = MoveOutData(
            r: PopulationViews.resident(r, t),
            reasons: PopulationViews.options(DeregistrationReason.self, prefix: "ver.dereg", selected: values?["reason"] ?? DeregistrationReason.movedAway.rawValue, t),
            date: values?["deregisteredAt"] ?? PopulationService.today().description, note: values?["note"] ?? "", next: next, formError: formError)
        return try await Page.render(req, "resident-move-out", data, title: "\(t["ver.moveOutTitle"]!) · \(r.name)", status: formError == nil ? .ok : .unprocessableEntity)
    }

    func moveOut(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "resident")
        let v = Self.values(req)
        let d = Deregistration(deregisteredAt: v["deregisteredAt"], reason: v["reason"].flatMap(DeregistrationReason.init(rawValue:)), note: v["note"])
        do {
            _ = try await VerificationService(req.fengqiao).markResident(id, .init(outcome: .movedOut, deregistration: d), actor: req.actor, visible: p.visible)
        } catch {
            guard let fe = Self.formError(error, form: "moveOut", values: v) else { throw error }
            return try await renderMoveOut(req, id: id, values: v, formError: fe)
        }
        return req.redirect(to: Self.withDone(req.safeNext(v["next"] ?? "/residents/\(id.uuidString.lowercased())")))
    }

    // MARK: Address

    struct AddressData: Encodable {
        var a: PopulationViews.Address
        var grid: Grid
        var community: Community
        var building: Building?
        var residents: [PopulationViews.Row]
        var current: Int
        var verification: PopulationViews.Verification?
        var canWrite: Bool
        var formError: FormError?
        var notice: String?
    }

    func address(_ req: Request) async throws -> Response {
        let notice = req.query[String.self, at: "done"] == "1" ? Page.t(req)["ver.saved"] : nil
        return try await renderAddress(req, id: try req.uuid("id", kind: "address"), formError: nil, notice: notice)
    }

    func renderAddress(_ req: Request, id: UUID, formError: FormError?, notice: String? = nil) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let db = app.store.db
        let t = Page.t(req)
        let a = try await PopulationService(app).address(id, visible: p.visible)
        let g = try await app.territories.grid(a.gridID, visible: p.visible, on: db)
        let c = try await app.territories.community(g.communityID, visible: .everything, on: db)
        var b: Building?
        if let bid = a.buildingID { b = try await ifFound { try await app.territories.building(bid, visible: p.visible, on: db) } }
        let repo = ResidentRepository(cipher: app.cipher)
        let people = try await repo.residents(atAddress: a.id, on: db)
        let division = try await PopulationViews.divisionName(townshipCode: c.townshipCode, on: app) + c.name
        let state = try await AddressRepository().verificationStates([id], on: db)[id]
        let data = AddressData(
            a: PopulationViews.address(a, t, divisionName: division), grid: g, community: c, building: b,
            residents: try await rows(people, req: req, gridNames: [g.id: g.name], withState: true), current: people.filter { $0.deregisteredAt == nil }.count,
            verification: PopulationViews.verification(state, policy: app.config.verificationPolicy, deregistered: a.status != .active, t),
            canWrite: p.has(.personWrite), formError: formError, notice: notice)
        return try await Page.render(req, "address", data, title: a.formatted(), status: formError == nil ? .ok : .unprocessableEntity)
    }

    func markAddress(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "address")
        let v = Self.values(req)
        do {
            _ = try await VerificationService(req.fengqiao).markAddress(id, .init(outcome: v["outcome"].flatMap(VerificationOutcome.init(rawValue:))), actor: req.actor, visible: p.visible)
        } catch {
            guard let fe = Self.formError(error, form: "verify", values: v) else { throw error }
            return try await renderAddress(req, id: id, formError: fe)
        }
        return req.redirect(to: Self.withDone(req.safeNext(v["next"] ?? "/addresses/\(id.uuidString.lowercased())")))
    }

    // MARK: Work list

    struct AddressRow: Encodable {
        var a: PopulationViews.Address
        var verification: PopulationViews.Verification?
    }

    struct WorkListData: Encodable {
        var grid: Grid
        var community: Community
        var kind: String
        var periodDays: Int
        var cutoff: String
        var residents: [PopulationViews.Row]
        var addresses: [AddressRow]
        var residentsTotal: Int
        var addressesTotal: Int
        var page: Int
        var prevPage: Int?
        var nextPage: Int?
        var here: String
        var canWrite: Bool
        var notice: String?
    }

    func workList(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let app = req.fengqiao
        let t = Page.t(req)
        let gid = try req.uuid("id", kind: "grid")
        let kind = VerificationService.Kind(rawValue: req.query[String.self, at: "kind"] ?? "") ?? .residents
        let page = max(1, min(req.query[Int.self, at: "page"] ?? 1, 100_000))
        let perPage = 50
        let svc = VerificationService(app)
        let w = try await svc.workList(gridID: gid, kinds: [.residents, .addresses], visible: p.visible, limit: perPage, offset: (page - 1) * perPage)
        let c = try await app.territories.community(w.grid.communityID, visible: .everything, on: app.store.db)
        let policy = app.config.verificationPolicy
        var residentRows = try await rows(w.residents.map(\.0), req: req, gridNames: [w.grid.id: w.grid.name])
        for i in residentRows.indices {
            residentRows[i].verification = PopulationViews.verification(w.residents[i].1, policy: policy, deregistered: false, t)
        }
        let addressRows = w.addresses.map { AddressRow(a: PopulationViews.address($0.0, t), verification: PopulationViews.verification($0.1, policy: policy, deregistered: false, t)) }
        let total = kind == .residents ? w.residentsTotal : w.addressesTotal
        let gidText = gid.uuidString.lowercased()
        let data = WorkListData(
            grid: w.grid, community: c, kind: kind.rawValue, periodDays: policy.periodDays, cutoff: PopulationViews.day(w.cutoff),
            residents: kind == .residents ? residentRows : [], addresses: kind == .addresses ? addressRows : [],
            residentsTotal: w.residentsTotal, addressesTotal: w.addressesTotal, page: page, prevPage: page > 1 ? page - 1 : nil,
            nextPage: page * perPage < total ? page + 1 : nil, here: "/grids/\(gidText)/verification?kind=\(kind.rawValue)&page=\(page)",
            canWrite: p.has(.personWrite), notice: req.query[String.self, at: "done"] == "1" ? t["ver.saved"] : nil)
        return try await Page.render(req, "verification", data, title: "\(t["ver.title"]!) · \(w.grid.name)")
    }
}
