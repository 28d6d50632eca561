import Crypto
import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Content-addressed photo store: each photo is written once, under
/// `<data-dir>/photos/<first two hex digits>/<sha256>`, whatever the number of events that attach
/// it. The file name is the SHA-256 of the bytes, so it cannot be chosen by a client; it is never
/// served directly: `GET /api/v1/events/{id}/photos/{sha256}` checks that the caller may see the
/// event and that the event holds that photo.
public struct PhotoStore: Sendable {
    public let directory: String

    public init(dataDirectory: String) { directory = (dataDirectory as NSString).appendingPathComponent("photos") }

    func path(_ sha256: String) -> String {
        (directory as NSString).appendingPathComponent(String(sha256.prefix(2)) + "/" + sha256)
    }

    /// Writes the bytes unless a file with that hash already exists (atomic rename, mode 0600).
    public func put(_ data: Data, _ p: CheckedPhoto) throws {
        let target = path(p.sha256)
        let fm = FileManager.default
        if fm.fileExists(atPath: target) { return }
        let dir = (target as NSString).deletingLastPathComponent
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let tmp = dir + "/." + p.sha256 + "." + UUID().uuidString
        guard fm.createFile(atPath: tmp, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown)
        }
        if rename(tmp, target) != 0 {
            try? fm.removeItem(atPath: tmp)
            // Another upload of the same bytes may have won the race; anything else is a failure.
            guard fm.fileExists(atPath: target) else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    /// The bytes of a stored photo, verified against their hash.
    public func get(_ sha256: String) -> Data? {
        guard CheckedPhoto.isContentHash(sha256), let d = FileManager.default.contents(atPath: path(sha256)) else { return nil }
        let h = Hex.lowercase(SHA256.hash(data: d))
        return h == sha256 ? d : nil
    }
}

/// Grid events and hazards, the whistle (吹哨报到) and the per-case subsidy ledger (issue 5; domain
/// spec §3.8, §4.2–4.4). Rules live in the core (`GridEventProgress`, `SubsidyClaim`); this service
/// checks who may act, writes each change with its audit record in one transaction, and keeps the
/// photos in the `PhotoStore`.
public struct HazardService: Sendable {
    let app: Fengqiao
    let events = GridEventRepository()
    public let photos: PhotoStore
    /// Time limits (§4.2 defaults [P]), as configured (`AppConfig.hazardRules`).
    public var deadlines: EventDeadlinePolicy
    /// The working-day calendar (§5.5); without data Monday–Friday.
    public var calendar = WorkingDayCalendar.weekdaysOnly
    /// The category table (§3.8 [P]), as configured (`AppConfig.hazardRules`).
    public var categories: HazardCategoryTable

    public init(_ app: Fengqiao) {
        self.app = app
        photos = PhotoStore(dataDirectory: app.config.dataDirectory)
        deadlines = app.config.hazardRules.deadlines
        categories = app.config.hazardRules.categories
    }

    public static let timeZone = TimeZone(identifier: "Asia/Shanghai")!

    /// The viewer a principal reads events as: a department/property contact sees only events
    /// dispatched to them; staff see the grids of their scope.
    public static func viewer(_ p: Principal) -> GridEventRepository.Viewer {
        .init(visible: p.visible, contactID: p.role == .departmentContact ? p.id : nil)
    }

    // MARK: report

    /// A point as sent by a device. Only WGS-84 (GPS, Open311) is accepted for now (§5.5).
    public struct PointInput: Codable, Sendable {
        public var lon: Double
        public var lat: Double
        public var datum: String?
    }

    public struct ReportInput: Codable, Sendable {
        public var category: HazardCategory?
        public var severity: EventSeverity?
        public var source: EventSource?
        public var description: String?
        public var buildingId: UUID?
        public var location: PointInput?
    }

    func point(_ p: PointInput?) throws -> GeoPoint? {
        guard let p else { return nil }
        if let d = p.datum, d != GeoDatum.wgs84.rawValue {
            throw DomainError.invalidField(field: "location.datum", reason: "only WGS-84 positions are accepted")
        }
        guard p.lon.isFinite, p.lat.isFinite, (-180...180).contains(p.lon), (-90...90).contains(p.lat) else {
            throw DomainError.invalidField(field: "location", reason: "longitude must lie within ±180 and latitude within ±90")
        }
        return GeoPoint(lon: p.lon, lat: p.lat)
    }

    /// Resolves a location to a grid of the caller's territory: a chosen building gives its grid;
    /// a position must lie inside the boundary of one of the caller's grids.
    /// - Throws: `.invalidField("buildingId", …)` for a building outside the territory;
    ///   `.invalidField("location", …)` for a position outside every grid of the territory or
    ///   when neither is given.
    func locate(buildingID: UUID?, point: GeoPoint?, visible: VisibleTerritory) async throws -> (Grid, UUID?) {
        let db = app.store.db
        if let b = buildingID {
            let building: Building
            do { building = try await app.territories.building(b, visible: visible, on: db) } catch DomainError.notFound {
                throw DomainError.invalidField(field: "buildingId", reason: "no such building in your territory")
            }
            return (try await app.territories.grid(building.gridID, visible: .everything, on: db), b)
        }
        guard let p = point else { throw DomainError.invalidField(field: "location", reason: "give a building or a position") }
        var q = GridModel.query(on: db)
        if let ids = visible.gridIDs { q = q.filter(\.$id ~~ Array(ids)) }
        for m in try await q.all() {
            let g = m.toDomain()
            if let poly = g.polygon, poly.contains(p) { return (g, nil) }
        }
        throw DomainError.invalidField(field: "location", reason: "the position lies outside every grid of your territory")
    }

    /// A new draft event from a report, validated (category in use, description, WGS-84 position)
    /// and placed in a grid of the reporter's territory; nothing is written. Shared by `report` and
    /// the Open311 intake.
    /// - Throws: `.invalidField` naming the field (see `locate`).
    func newEvent(_ i: ReportInput, principal p: Principal, now: Date) async throws -> GridEvent {
        guard let c = i.category else { throw DomainError.invalidField(field: "category", reason: "is required") }
        let category = try categories.requireActive(c)
        let text = try FieldRules.name(i.description, field: "description", max: 2000)
        let pt = try point(i.location)
        let (grid, building) = try await locate(buildingID: i.buildingId, point: pt, visible: p.visible)
        return GridEvent(
            gridID: grid.id, communityID: grid.communityID, buildingID: building, location: pt, source: i.source ?? .gridWorker, description: text,
            reporterID: p.id, progress: GridEventProgress(state: .draft, category: category, severity: i.severity ?? .normal), stageStartedAt: now, createdAt: now)
    }

    /// Records a report as a draft (photos are attached next; `submit` makes it `reported`).
    /// - Returns: the event and open events of the same category nearby (possible duplicates).
    public func report(_ i: ReportInput, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> (GridEvent, [GridEvent]) {
        let e = try await newEvent(i, principal: p, now: now)
        let building = e.buildingID, category = e.progress.category, pt = e.location
        try await app.store.write { [app, events] db in
            try await events.insert(e, on: db, now: now)
            _ = try await app.audit.append(actor.draft(.create, objectType: "event", objectID: e.id.uuidString.lowercased(),
                                                       fields: ["category", "severity", "description", building == nil ? "location" : "buildingId"]), on: db)
        }
        let dups = try await nearby(category: category, buildingID: building, point: pt, excluding: e.id, viewer: Self.viewer(p))
        return (e, dups)
    }

    /// Open events of the category at the same building or within the configured radius, that the
    /// viewer may see.
    public func nearby(category: HazardCategory, buildingID: UUID?, point: GeoPoint?, excluding: UUID?, viewer: GridEventRepository.Viewer) async throws -> [GridEvent] {
        try await events.nearbyOpen(category: category, buildingID: buildingID, point: point, radiusMetres: Double(app.config.duplicateRadiusMetres),
                                    excluding: excluding, on: app.store.db).filter(viewer.canSee)
    }

    public func nearby(_ i: ReportInput, principal p: Principal) async throws -> [GridEvent] {
        guard let c = i.category else { throw DomainError.invalidField(field: "category", reason: "is required") }
        return try await nearby(category: c, buildingID: i.buildingId, point: try point(i.location), excluding: nil, viewer: Self.viewer(p))
    }

    public func event(_ id: UUID, principal p: Principal) async throws -> GridEvent {
        try await events.find(id, viewer: Self.viewer(p), on: app.store.db)
    }

    public func list(principal p: Principal, state: GridEventState?, openOnly: Bool, limit: Int, offset: Int) async throws -> [GridEvent] {
        try await events.list(viewer: Self.viewer(p), state: state, openOnly: openOnly, limit: limit, offset: offset, on: app.store.db)
    }

    public func photoRows(_ e: GridEvent) async throws -> [EventPhotoRow] { try await events.photos(eventID: e.id, on: app.store.db) }

    /// When the current stage is due and whether it is overdue (§4.2).
    public func due(_ e: GridEvent, now: Date = Date()) -> (Date?, Bool) {
        guard let stage = DeadlineStage.current(for: e.progress.state) else { return (nil, false) }
        let d = deadlines.dueAt(stage, category: e.progress.category, severity: e.progress.severity, from: e.stageStartedAt, calendar: calendar)
        return (d, d.map { now > $0 } ?? false)
    }

    // MARK: photos

    /// Attaches a photo: a report photo by the reporter while the event is a draft, a result photo
    /// by the handler while it is in progress. The bytes are checked by content first; a refused
    /// photo changes nothing (a draft stays a draft).
    /// - Throws: `.invalidField("photo", …)` naming the reason; `.notFound("event")`;
    ///   `.conflict("state", …)` in any other state or for another user.
    public func addPhoto(_ id: UUID, data: Data, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> (CheckedPhoto, EventPhotoRow.Stage) {
        let e = try await events.find(id, viewer: Self.viewer(p), on: app.store.db)
        let stage: EventPhotoRow.Stage
        switch e.progress.state {
        case .draft where e.reporterID == p.id: stage = .report
        case .inProgress where e.progress.handler == p.id: stage = .result
        default:
            throw DomainError.conflict(field: "state", reason: "photos are added by the reporter to a draft or by the handler to an event in progress (state \(e.progress.state.rawValue))")
        }
        let checked = try CheckedPhoto(data, field: "photo", maxBytes: app.config.maxPhotoBytes)
        try photos.put(data, checked)
        try await app.store.write { [app, events] db in
            try await events.addPhoto(eventID: e.id, checked, stage: stage, by: p.id, on: db, now: now)
            _ = try await app.audit.append(actor.draft(.update, objectType: "event", objectID: e.id.uuidString.lowercased(), fields: ["photos"],
                                                       detail: "\(stage.rawValue) photo \(checked.sha256.prefix(12)) \(checked.format.rawValue) \(checked.byteCount) B"), on: db)
        }
        return (checked, stage)
    }

    /// A photo's bytes, only if the caller may see the event and the event holds the photo.
    /// - Throws: `.notFound("photo")` otherwise (and `.notFound("event")` for an invisible event).
    public func photo(_ id: UUID, sha256: String, principal p: Principal) async throws -> (Data, PhotoFormat) {
        let e = try await events.find(id, viewer: Self.viewer(p), on: app.store.db)
        guard CheckedPhoto.isContentHash(sha256), let row = try await events.photos(eventID: e.id, on: app.store.db).first(where: { $0.sha256 == sha256 }),
              let data = photos.get(sha256)
        else { throw DomainError.notFound(kind: "photo") }
        return (data, row.format)
    }

    // MARK: transitions

    public struct TransitionInput: Codable, Sendable {
        public var command: String?
        public var reason: String?
        public var voidReason: VoidReason?
        public var category: HazardCategory?
        public var severity: EventSeverity?
        public var contactId: UUID?
        public var whistleReason: WhistleReason?
        public var satisfaction: Int?
    }

    func requirePermission(_ p: Principal, _ perm: Permission) throws {
        guard p.has(perm) else { throw DomainError.forbidden(reason: "needs \(perm.rawValue)") }
    }

    /// Applies a lifecycle command (§4.2/§4.3) to an event the caller may see.
    ///
    /// Commands: `submit` (reporter, needs a report photo), `verify`, `void` (`voidReason`),
    /// `fileCase` (`category`, `severity`), `resolveInGrid`, `dispatch` (`contactId` from the
    /// responsible-contact mapping of the category and the event's grid or community; with
    /// `whistleReason` it is a whistle), `checkPass`, `checkFail` (`reason`), `evaluate`
    /// (`satisfaction` 1–5) need `event:manage` (`submit` needs `event:report`); `acknowledge`,
    /// `return` (`reason`) need `event:respond` and the event dispatched to the caller;
    /// `submitResult` needs the handler and a result photo.
    /// - Throws: `.conflict("state", …)` naming state and command; `.notFound("event")`;
    ///   `.invalidField` naming the field; `.forbidden`.
    public func transition(_ id: UUID, _ i: TransitionInput, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> GridEvent {
        let viewer = Self.viewer(p)
        let current = try await events.find(id, viewer: viewer, on: app.store.db)
        let command: GridEventCommand
        var detail: String?
        switch i.command ?? "" {
        case "submit":
            try requirePermission(p, .eventReport)
            guard current.reporterID == p.id else { throw DomainError.forbidden(reason: "only the reporter submits a draft") }
            command = .submit
        case "verify": try requirePermission(p, .eventManage); command = .verify
        case "void":
            try requirePermission(p, .eventManage)
            guard let r = i.voidReason else { throw DomainError.invalidField(field: "voidReason", reason: "is required: duplicate, outOfScope or false") }
            command = .void(r)
            detail = "void: \(r.rawValue)"
        case "fileCase":
            try requirePermission(p, .eventManage)
            command = .fileCase(category: try categories.requireActive(i.category ?? current.progress.category), severity: i.severity ?? current.progress.severity)
        case "resolveInGrid": try requirePermission(p, .eventManage); command = .resolveInGrid(handler: p.id)
        case "dispatch":
            try requirePermission(p, .eventManage)
            guard let c = i.contactId else { throw DomainError.invalidField(field: "contactId", reason: "is required") }
            let mapped = try await events.contacts(territoryIDs: [current.gridID, current.communityID], category: current.progress.category, on: app.store.db)
            guard mapped.contains(where: { $0.contactID == c }) else {
                throw DomainError.invalidField(field: "contactId", reason: "is not a responsible contact for \(current.progress.category.rawValue) in this grid or community")
            }
            command = .dispatch(contact: c, whistle: i.whistleReason)
            detail = "dispatch to \(c.uuidString.lowercased())" + (i.whistleReason.map { "; whistle: \($0.rawValue)" } ?? "")
        case "acknowledge": try requirePermission(p, .eventRespond); command = .acknowledge(by: p.id)
        case "return":
            try requirePermission(p, .eventRespond)
            command = .returnToSender(by: p.id, reason: i.reason ?? "")
            detail = "returned: \(i.reason ?? "")"
        case "submitResult":
            guard p.has(.eventRespond) || p.has(.eventManage) else { throw DomainError.forbidden(reason: "needs event:respond or event:manage") }
            let results = try await events.photos(eventID: current.id, on: app.store.db).filter { $0.stage == .result }
            if current.progress.state == .inProgress, current.progress.handler == p.id, results.isEmpty {
                throw DomainError.invalidField(field: "photos", reason: "submit at least one result photo first")
            }
            command = .submitResult(by: p.id)
        case "checkPass": try requirePermission(p, .eventManage); command = .checkPass(by: p.id)
        case "checkFail":
            try requirePermission(p, .eventManage)
            command = .checkFail(by: p.id, reason: i.reason ?? "")
            detail = "check failed: \(i.reason ?? "")"
        case "evaluate":
            try requirePermission(p, .eventManage)
            guard let s = i.satisfaction else { throw DomainError.invalidField(field: "satisfaction", reason: "is required (1–5)") }
            command = .evaluate(satisfaction: s)
        default:
            throw DomainError.invalidField(field: "command", reason: "must be one of submit, verify, void, fileCase, resolveInGrid, dispatch, acknowledge, return, submitResult, checkPass, checkFail, evaluate")
        }
        if command == .submit {
            let reportPhotos = try await events.photos(eventID: current.id, on: app.store.db).filter { $0.stage == .report }
            if current.progress.state == .draft, reportPhotos.isEmpty {
                throw DomainError.invalidField(field: "photos", reason: "attach at least one photo before submitting")
            }
        }
        let detailText = detail
        let service = self
        let actorID = p.id
        let changed = try await app.store.write { [app, events] db in
            var e = try await events.find(id, viewer: viewer, forUpdate: true, on: db)
            let before = e.progress.state
            e.progress = try e.progress.applying(command)
            if e.progress.state != before || command.name == "checkFail" { e.stageStartedAt = now }
            if e.progress.state == .closed { e.closedAt = now }
            try await events.update(e, on: db, now: now)
            // In-app notifications, and the outbox messages of a dispatch (issue 5 "Notifications").
            try await NotificationService.announce(e, command: command, actorID: actorID, due: service.due(e, now: now).0, events: events, on: db, now: now)
            _ = try await app.audit.append(actor.draft(.update, objectType: "event", objectID: e.id.uuidString.lowercased(), fields: ["state"],
                                                       detail: "\(command.name): \(before.rawValue) → \(e.progress.state.rawValue)" + (detailText.map { "; \($0)" } ?? "")), on: db)
            return e
        }
        if case .dispatch = command { OutboxDoorbell.ring() }
        return changed
    }

    // MARK: responsible contacts

    public struct ContactInput: Codable, Sendable {
        public var category: HazardCategory?
        public var territoryId: UUID?
        public var contactId: UUID?
        public var organisation: String?
        /// Optional generic webhook announcing whistles to this contact (`http`/`https`).
        public var webhookUrl: String?
        /// The HMAC secret shared with the webhook's receiver (at least 16 characters); stored encrypted.
        public var webhookSecret: String?
    }

    /// Maps a category in a grid or community to a department/property contact account.
    /// - Throws: `.invalidField` naming the field (territory outside the caller's scope, an account
    ///   that is not a department/property contact); `.conflict` for a duplicate row.
    public func addContact(_ i: ContactInput, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> ResponsibleContact {
        guard let category = i.category else { throw DomainError.invalidField(field: "category", reason: "is required") }
        guard let t = i.territoryId else { throw DomainError.invalidField(field: "territoryId", reason: "is required") }
        guard let cid = i.contactId else { throw DomainError.invalidField(field: "contactId", reason: "is required") }
        let org = try FieldRules.name(i.organisation, field: "organisation", max: 100)
        var hook: String?
        if let raw = i.webhookUrl?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            guard raw.count <= 500, let u = URL(string: raw), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), u.host?.isEmpty == false else {
                throw DomainError.invalidField(field: "webhookUrl", reason: "must be an http or https URL")
            }
            guard let secret = i.webhookSecret, secret.count >= 16 else {
                throw DomainError.invalidField(field: "webhookSecret", reason: "a webhook needs a shared secret of at least 16 characters")
            }
            hook = raw
        }
        let sealed = hook == nil ? nil : app.cipher.seal(i.webhookSecret ?? "")
        let hookFields = hook == nil ? [] : ["webhookUrl", "webhookSecret"]
        let db = app.store.db
        let isGrid = (try await ifFound { try await app.territories.grid(t, visible: p.visible, on: db) }) != nil
        let isCommunity = (try await ifFound { try await app.territories.community(t, visible: p.visible, on: db) }) != nil
        guard isGrid || isCommunity else { throw DomainError.invalidField(field: "territoryId", reason: "no such grid or community in your territory") }
        guard let u = try await app.accounts.find(cid, on: db), u.roleValue == .departmentContact else {
            throw DomainError.invalidField(field: "contactId", reason: "is not a department/property contact account")
        }
        let existing = try await events.contacts(territoryIDs: [t], category: category, on: db)
        if let x = existing.first(where: { $0.contactID == cid }) {
            throw DomainError.conflict(field: "contactId", reason: "already mapped as \(x.id.uuidString.lowercased())")
        }
        let row = ResponsibleContact(category: category, territoryID: t, contactID: cid, organisation: org, webhookURL: hook)
        try await app.store.write { [app, events] db in
            try await events.addContact(row, secretSealed: sealed, on: db, now: now)
            _ = try await app.audit.append(actor.draft(.create, objectType: "responsible-contact", objectID: row.id.uuidString.lowercased(),
                                                       fields: ["category", "territoryId", "contactId", "organisation"] + hookFields), on: db)
        }
        return row
    }

    public func contacts(territoryID: UUID, principal p: Principal) async throws -> [ResponsibleContact] {
        guard p.visible.canSee(grid: territoryID) || p.visible.canSee(community: territoryID) else { throw DomainError.notFound(kind: "territory") }
        return try await events.contacts(territoryIDs: [territoryID], on: app.store.db)
    }

    public func deleteContact(_ id: UUID, actor: Actor, principal p: Principal) async throws {
        guard let row = try await events.contact(id, on: app.store.db),
              p.visible.canSee(grid: row.territoryID) || p.visible.canSee(community: row.territoryID)
        else { throw DomainError.notFound(kind: "responsible contact") }
        try await app.store.write { [app, events] db in
            try await events.deleteContact(id, on: db)
            _ = try await app.audit.append(actor.draft(.delete, objectType: "responsible-contact", objectID: id.uuidString.lowercased()), on: db)
        }
    }

    // MARK: subsidies (§4.4)

    public func addTariff(_ t: SubsidyTariffEntry, actor: Actor, now: Date = Date()) async throws -> SubsidyTariffEntry {
        let v = try t.validated()
        try await app.store.write { [app, events] db in
            try await events.addTariff(v, on: db, now: now)
            _ = try await app.audit.append(actor.draft(.create, objectType: "subsidy-tariff", fields: ["caseType", "category", "effectiveFrom", "amountFen"],
                                                       detail: "\(v.caseType.rawValue) \(v.category ?? "*") from \(v.effectiveFrom): \(v.amountFen) fen"), on: db)
        }
        return v
    }

    public func tariff() async throws -> SubsidyTariff { try await events.tariff(on: app.store.db) }

    func subsidyCase(_ e: GridEvent) -> SubsidyCase {
        SubsidyCase(caseType: .event, caseID: e.id, category: e.progress.category.rawValue,
                    closed: e.progress.state == .closed || e.progress.state == .evaluated, checkPassed: e.progress.checkPassed,
                    closedOn: e.closedAt.map { CalendarDate($0, timeZone: Self.timeZone) },
                    handlers: Set([e.reporterID] + (e.progress.handler.map { [$0] } ?? [])))
    }

    /// The subsidy case of a dispute (§4.4): claimable once closed as resolved, which the state
    /// machine reaches only through the follow-up visit (回访), the dispute's check; the handlers
    /// are its mediators and everyone who acted on its timeline; the tariff category is the
    /// dispute category code; the closing day fixes the tariff version.
    func subsidyCase(_ d: DisputeRecord, on db: any Database) async throws -> SubsidyCase {
        let repo = DisputeRepository(cipher: app.cipher)
        let mediators = try await repo.mediators(d.id, on: db).map(\.accountID)
        let actors = try await repo.timeline(d.id, on: db).compactMap(\.actorID)
        return SubsidyCase(caseType: .dispute, caseID: d.id, category: d.category.rawValue,
                           closed: d.state == .closedResolved, checkPassed: d.state == .closedResolved,
                           closedOn: d.closedAt.map { CalendarDate($0, timeZone: Self.timeZone) }, handlers: Set(mediators + actors))
    }

    /// Claims the subsidy of a closed, checked event, or of a dispute closed as resolved after its
    /// follow-up visit (§4.4 一事一案一补), in the caller's territory.
    /// - Throws: `.invalidField("caseId", …)` for a case not in the caller's territory or not yet
    ///   claimable; `.conflict("caseId", …)` naming the first claim; `.forbidden` when the caller
    ///   did not handle the case; see `SubsidyClaim.claim`.
    public func claim(caseType: SubsidyCaseType = .event, caseID: UUID?, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> SubsidyClaim {
        guard let caseID else { throw DomainError.invalidField(field: "caseId", reason: "is required") }
        let c: SubsidyCase, gridID: UUID
        switch caseType {
        case .event:
            let e: GridEvent
            do { e = try await events.find(caseID, viewer: Self.viewer(p), on: app.store.db) } catch DomainError.notFound {
                throw DomainError.invalidField(field: "caseId", reason: "no such event in your territory")
            }
            (c, gridID) = (subsidyCase(e), e.gridID)
        case .dispute:
            let d: DisputeRecord
            do { d = try await DisputeRepository(cipher: app.cipher).find(caseID, access: DisputeService.access(p), on: app.store.db) } catch DomainError.notFound {
                throw DomainError.invalidField(field: "caseId", reason: "no such dispute in your territory")
            }
            (c, gridID) = (try await subsidyCase(d, on: app.store.db), d.gridID)
        }
        return try await app.store.write { [app, events] db in
            try await events.lockCase(caseID, on: db)
            let existing = try await events.claim(caseType: caseType, caseID: caseID, on: db)
            let claim = try SubsidyClaim.claim(for: c, by: p.id, existing: existing)
            try await events.insertClaim(claim, gridID: gridID, on: db, now: now)
            _ = try await app.audit.append(actor.draft(.create, objectType: "subsidy-claim", objectID: claim.id.uuidString.lowercased(),
                                                       fields: ["caseType", "caseId"], detail: "\(caseType.rawValue) \(caseID.uuidString.lowercased())"), on: db)
            return claim
        }
    }

    public func claim(_ id: UUID, principal p: Principal) async throws -> SubsidyClaim {
        let c = try await events.claim(id, visible: p.visible, on: app.store.db)
        if !p.has(.subsidyReview), c.claimantID != p.id { throw DomainError.notFound(kind: "subsidy claim") }
        return c
    }

    /// Approves or rejects a claim; approval fixes the amount from the tariff of the case's closing day.
    public func review(_ id: UUID, approve: Bool, note: String?, actor: Actor, principal p: Principal, now: Date = Date()) async throws -> SubsidyClaim {
        let claim = try await events.claim(id, visible: p.visible, on: app.store.db)
        let c: SubsidyCase
        switch claim.caseType {
        case .event: c = subsidyCase(try await events.find(claim.caseID, viewer: .init(visible: .everything), on: app.store.db))
        case .dispute:
            guard let d = try await DisputeRepository(cipher: app.cipher).find(claim.caseID, on: app.store.db) else { throw DomainError.notFound(kind: "dispute") }
            c = try await subsidyCase(d, on: app.store.db)
        }
        let tariff = try await events.tariff(on: app.store.db)
        let decided = try claim.reviewed(approve: approve, by: p.id, note: note, case: c, tariff: tariff)
        return try await app.store.write { [app, events] db in
            guard try await events.decideClaim(decided, on: db, now: now) else {
                throw DomainError.conflict(field: "state", reason: "the claim was already decided")
            }
            _ = try await app.audit.append(actor.draft(.update, objectType: "subsidy-claim", objectID: id.uuidString.lowercased(), fields: ["state", "amountFen"],
                                                       detail: "\(decided.state.rawValue)" + (decided.amountFen.map { " \($0) fen" } ?? "")), on: db)
            return decided
        }
    }
}
