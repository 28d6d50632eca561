import FengqiaoCore
import FengqiaoStore
import Foundation
import NIOFoundationCompat
import Vapor

/// Grid events and hazards, the whistle (吹哨报到), photos, the responsible-contact mapping and
/// the per-case subsidy ledger in the JSON API (issue 5; domain spec §3.8, §4.2–4.4).
///
/// An event outside the caller's grids answers 404; a department/property contact sees only the
/// events dispatched to them (404 for any other). Photos are uploaded as the raw request body
/// (`image/jpeg`, `image/png`, `image/heic` or `application/octet-stream`; the type is decided by
/// content) and served only through the event they belong to.
struct HazardAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.post("events", access: .permission(.eventReport), use: create).idempotent()
        api.get("events", access: .permission(.eventRead), use: list)
        api.post("events", "nearby", access: .permission(.eventReport), use: nearby)
        api.get("events", ":id", access: .permission(.eventRead), use: get)
        api.post("events", ":id", "transitions", access: .permission(.eventRead), use: transition)
        let photo = api.on(.POST, "events", ":id", "photos", body: .collect(maxSize: "64mb"), use: addPhoto)
        photo.userInfo["fengqiao.access"] = AccessRule.permission(.eventRead)
        api.get("events", ":id", "photos", ":sha256", access: .permission(.eventRead), use: getPhoto)
        api.get("responsible-contacts", access: .permission(.eventConfigure), use: contacts)
        api.post("responsible-contacts", access: .permission(.eventConfigure), use: addContact)
        api.delete("responsible-contacts", ":id", access: .permission(.eventConfigure), use: deleteContact)
        api.get("subsidy-tariffs", access: .permission(.eventConfigure), use: tariffs)
        api.post("subsidy-tariffs", access: .permission(.eventConfigure), use: addTariff)
        api.post("subsidy-claims", access: .permission(.subsidyClaim), use: claim).idempotent()
        api.get("subsidy-claims", ":id", access: .authenticated, use: getClaim)
        api.post("subsidy-claims", ":id", "review", access: .permission(.subsidyReview), use: review)
        api.get("notification-deliveries", access: .permission(.eventConfigure), use: deliveries)
    }

    /// A delivery as administrators see it (never the secret).
    struct DeliveryDTO: Encodable {
        var id: UUID
        var channel: String
        var targetUrl: String
        var eventId: UUID?
        var state: OutboxMessage.State
        var attempts: Int
        var nextAttemptAt: Date
        var lastStatus: Int?
        var lastError: String?
        var deliveredAt: Date?
    }

    func deliveries(_ req: Request) async throws -> Response {
        let items = try await NotificationOutbox(req.fengqiao).messages(limit: 200).map {
            DeliveryDTO(id: $0.id, channel: $0.channel, targetUrl: $0.targetURL, eventId: $0.eventID, state: $0.state, attempts: $0.attempts,
                        nextAttemptAt: $0.nextAttemptAt, lastStatus: $0.lastStatus, lastError: $0.lastError, deliveredAt: $0.deliveredAt)
        }
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    struct PointDTO: Encodable { var lon: Double; var lat: Double; var datum = "WGS-84" }

    /// An event as the API shows it (no personal data of the reporter beyond the account id).
    struct EventDTO: Encodable {
        var id: UUID
        var gridId: UUID
        var communityId: UUID
        var buildingId: UUID?
        var location: PointDTO?
        var category: HazardCategory
        var categoryName: String
        var severity: EventSeverity
        var source: EventSource
        var description: String
        var state: GridEventState
        var stateName: String
        var reporterId: UUID
        var dispatchedTo: UUID?
        var whistleReason: WhistleReason?
        var whistled: Bool
        var handlerId: UUID?
        var reopenCount: Int
        var returnCount: Int
        var voidReason: VoidReason?
        var satisfaction: Int?
        var stageStartedAt: Date
        var dueAt: Date?
        var overdue: Bool
        var closedAt: Date?
        var createdAt: Date
        var photos: [PhotoDTO]?

        init(_ e: GridEvent, service: HazardService, photos: [EventPhotoRow]? = nil) {
            id = e.id
            gridId = e.gridID
            communityId = e.communityID
            buildingId = e.buildingID
            location = e.location.map { PointDTO(lon: $0.lon, lat: $0.lat) }
            category = e.progress.category
            categoryName = e.progress.category.nameZH
            severity = e.progress.severity
            source = e.source
            description = e.description
            state = e.progress.state
            stateName = e.progress.state.nameZH
            reporterId = e.reporterID
            dispatchedTo = e.progress.dispatchedTo
            whistleReason = e.progress.whistleReason
            whistled = e.progress.whistled
            handlerId = e.progress.handler
            reopenCount = e.progress.reopenCount
            returnCount = e.progress.returnCount
            voidReason = e.progress.voidReason
            satisfaction = e.progress.satisfaction
            stageStartedAt = e.stageStartedAt
            (dueAt, overdue) = service.due(e)
            closedAt = e.closedAt
            createdAt = e.createdAt
            self.photos = photos.map { $0.map { PhotoDTO($0, eventID: e.id) } }
        }
    }

    struct PhotoDTO: Encodable {
        var sha256: String
        var mediaType: String
        var byteCount: Int
        var stage: EventPhotoRow.Stage
        var url: String
        init(_ p: EventPhotoRow, eventID: UUID) {
            sha256 = p.sha256
            mediaType = p.format.mediaType
            byteCount = p.byteCount
            stage = p.stage
            url = "/api/v1/events/\(eventID.uuidString.lowercased())/photos/\(p.sha256)"
        }
    }

    struct CreatedOut: Encodable { var event: EventDTO; var possibleDuplicates: [EventDTO] }

    static func location(_ id: UUID) -> String { "/api/v1/events/\(id.uuidString.lowercased())" }

    func create(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let s = HazardService(req.fengqiao)
        let (e, dups) = try await s.report(try JSONIn.decode(HazardService.ReportInput.self, req), actor: req.actor, principal: p)
        return try JSONOut.response(CreatedOut(event: EventDTO(e, service: s, photos: []), possibleDuplicates: dups.map { EventDTO($0, service: s) }),
                                    status: .created, location: Self.location(e.id))
    }

    func nearby(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let s = HazardService(req.fengqiao)
        let items = try await s.nearby(try JSONIn.decode(HazardService.ReportInput.self, req), principal: p)
        return try JSONOut.response(Page(items: items.map { EventDTO($0, service: s) }, total: items.count))
    }

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let s = HazardService(req.fengqiao)
        let (limit, offset) = try PopulationAPIController.paging(req)
        let state = try OrganizationAPIController.enumQuery(req, "state", as: GridEventState.self)
        let items = try await s.list(principal: p, state: state, openOnly: try RecordsAPISupport.bool(req, "open") ?? false, limit: limit, offset: offset)
        return try JSONOut.response(Page(items: items.map { EventDTO($0, service: s) }, total: items.count))
    }

    func get(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let s = HazardService(req.fengqiao)
        let e = try await s.event(try req.uuid("id", kind: "event"), principal: p)
        return try JSONOut.response(EventDTO(e, service: s, photos: try await s.photoRows(e)))
    }

    func transition(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let s = HazardService(req.fengqiao)
        let e = try await s.transition(try req.uuid("id", kind: "event"), try JSONIn.decode(HazardService.TransitionInput.self, req), actor: req.actor, principal: p)
        return try JSONOut.response(EventDTO(e, service: s, photos: try await s.photoRows(e)))
    }

    func addPhoto(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let id = try req.uuid("id", kind: "event")
        guard var body = req.body.data, body.readableBytes > 0 else {
            throw DomainError.invalidField(field: "photo", reason: "is empty; send the image itself as the request body")
        }
        let data = body.readData(length: body.readableBytes) ?? Data()
        let (c, stage) = try await HazardService(req.fengqiao).addPhoto(id, data: data, actor: req.actor, principal: p)
        let row = EventPhotoRow(sha256: c.sha256, format: c.format, byteCount: c.byteCount, stage: stage, uploadedBy: p.id, createdAt: Date())
        let dto = PhotoDTO(row, eventID: id)
        return try JSONOut.response(dto, status: .created, location: dto.url)
    }

    func getPhoto(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (data, format) = try await HazardService(req.fengqiao).photo(
            try req.uuid("id", kind: "event"), sha256: req.parameters.get("sha256") ?? "", principal: p)
        let res = Response(status: .ok, body: .init(data: data))
        res.headers.replaceOrAdd(name: .contentType, value: format.mediaType)
        res.headers.replaceOrAdd(name: .cacheControl, value: "private, max-age=3600")
        res.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        return res
    }

    func contacts(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        guard let s = req.query[String.self, at: "territoryId"], let t = UUID(uuidString: s) else {
            throw DomainError.invalidField(field: "territoryId", reason: "is required")
        }
        let items = try await HazardService(req.fengqiao).contacts(territoryID: t, principal: p)
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    func addContact(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let row = try await HazardService(req.fengqiao).addContact(try JSONIn.decode(HazardService.ContactInput.self, req), actor: req.actor, principal: p)
        return try JSONOut.response(row, status: .created, location: "/api/v1/responsible-contacts/\(row.id.uuidString.lowercased())")
    }

    func deleteContact(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        try await HazardService(req.fengqiao).deleteContact(try req.uuid("id", kind: "responsible contact"), actor: req.actor, principal: p)
        return Response(status: .noContent)
    }

    func tariffs(_ req: Request) async throws -> Response {
        let t = try await HazardService(req.fengqiao).tariff()
        return try JSONOut.response(Page(items: t.entries, total: t.entries.count))
    }

    func addTariff(_ req: Request) async throws -> Response {
        let t = try await HazardService(req.fengqiao).addTariff(try JSONIn.decode(SubsidyTariffEntry.self, req), actor: req.actor)
        return try JSONOut.response(t, status: .created)
    }

    struct ClaimIn: Decodable { var caseType: SubsidyCaseType?; var caseId: UUID? }
    struct ClaimDTO: Encodable {
        var id: UUID
        var caseType: SubsidyCaseType
        var caseId: UUID
        var claimantId: UUID
        var state: SubsidyState
        var reviewerId: UUID?
        var amountFen: Int?
        var amountYuan: String?
        var reviewNote: String?
        init(_ c: SubsidyClaim) {
            id = c.id
            caseType = c.caseType
            caseId = c.caseID
            claimantId = c.claimantID
            state = c.state
            reviewerId = c.reviewerID
            amountFen = c.amountFen
            amountYuan = c.amountFen.map(SubsidyClaim.yuan)
            reviewNote = c.reviewNote
        }
    }

    func claim(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(ClaimIn.self, req)
        let c = try await HazardService(req.fengqiao).claim(caseType: i.caseType ?? .event, caseID: i.caseId, actor: req.actor, principal: p)
        return try JSONOut.response(ClaimDTO(c), status: .created, location: "/api/v1/subsidy-claims/\(c.id.uuidString.lowercased())")
    }

    func getClaim(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        return try JSONOut.response(ClaimDTO(try await HazardService(req.fengqiao).claim(try req.uuid("id", kind: "subsidy claim"), principal: p)))
    }

    struct ReviewIn: Decodable { var approve: Bool?; var note: String? }
    func review(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let i = try JSONIn.decode(ReviewIn.self, req)
        guard let approve = i.approve else { throw DomainError.invalidField(field: "approve", reason: "is required (true or false)") }
        let c = try await HazardService(req.fengqiao).review(try req.uuid("id", kind: "subsidy claim"), approve: approve, note: i.note, actor: req.actor, principal: p)
        return try JSONOut.response(ClaimDTO(c))
    }
}
