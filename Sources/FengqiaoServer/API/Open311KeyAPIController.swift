import FengqiaoCore
import FengqiaoStore
import Foundation
import Vapor

/// Administration of Open311 API keys in the JSON API (issue 5): an administrator
/// (`event:configure`) issues a key bound to a grid or community and a reporting account, lists
/// the keys of their territory (never the key itself) and revokes them.
struct Open311KeyAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("open311-keys", access: .permission(.eventConfigure), use: list)
        api.post("open311-keys", access: .permission(.eventConfigure), use: issue)
        api.delete("open311-keys", ":id", access: .permission(.eventConfigure), use: revoke)
    }

    struct KeyDTO: Encodable {
        var id: UUID
        var keyPrefix: String
        var label: String
        var territoryId: UUID
        var territoryLevel: ScopeLevel
        var accountId: UUID
        var createdAt: Date
        var revokedAt: Date?
        /// Only in the answer of the POST that issued it.
        var key: String?
        init(_ k: Open311Key, key: String? = nil) {
            id = k.id
            keyPrefix = k.keyPrefix
            label = k.label
            territoryId = k.territoryID
            territoryLevel = k.territoryLevel
            accountId = k.accountID
            createdAt = k.createdAt
            revokedAt = k.revokedAt
            self.key = key
        }
    }

    struct Page: Encodable { var items: [KeyDTO]; var total: Int }

    func list(_ req: Request) async throws -> Response {
        let items = try await Open311Service(req.fengqiao).keys(principal: try req.requirePrincipal()).map { KeyDTO($0) }
        return try JSONOut.response(Page(items: items, total: items.count))
    }

    /// Not idempotent on purpose: the answer holds the key, which is never stored.
    func issue(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let (k, secret) = try await Open311Service(req.fengqiao).issueKey(try JSONIn.decode(Open311Service.KeyInput.self, req), actor: req.actor, principal: p)
        return try JSONOut.response(KeyDTO(k, key: secret), status: .created, location: "/api/v1/open311-keys/\(k.id.uuidString.lowercased())")
    }

    func revoke(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        _ = try await Open311Service(req.fengqiao).revokeKey(try req.uuid("id", kind: "Open311 key"), actor: req.actor, principal: p)
        return Response(status: .noContent)
    }
}

/// The map's open events in a bounding box (issue 5 "the community's SVG map shows open hazards by
/// category and age"): `GET /api/v1/events/map?bbox=minLon,minLat,maxLon,maxLat` (WGS-84, at most
/// 1° on a side) with optional `category` and `limit` (default 500, at most 2,000). Only events the
/// caller may see: staff by the grids of their scope, a contact only those dispatched to them.
/// Answers `{items: [{id, gridId, category, categoryName, state, lon, lat, createdAt, ageHours}],
/// total, truncated}`; `truncated` says the cap was reached (zoom in). Served by the index
/// `grid_events_map_idx (is_open, lat_e6, lon_e6, …)` (covering) (M0022).
struct EventMapAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.get("events", "map", access: .permission(.eventRead), use: map)
    }

    struct Item: Encodable {
        var id: UUID
        var gridId: UUID
        var category: HazardCategory
        var categoryName: String
        var state: GridEventState
        var lon: Double
        var lat: Double
        var createdAt: Date
        var ageHours: Int
    }
    struct Out: Encodable { var items: [Item]; var total: Int; var truncated: Bool }

    func map(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        guard let raw = req.query[String.self, at: "bbox"] else {
            throw DomainError.invalidField(field: "bbox", reason: "is required: minLon,minLat,maxLon,maxLat (WGS-84)")
        }
        let v = raw.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard v.count == 4, let minLon = v[0], let minLat = v[1], let maxLon = v[2], let maxLat = v[3],
              [minLon, minLat, maxLon, maxLat].allSatisfy(\.isFinite), (-180...180).contains(minLon), (-180...180).contains(maxLon),
              (-90...90).contains(minLat), (-90...90).contains(maxLat), minLon < maxLon, minLat < maxLat
        else { throw DomainError.invalidField(field: "bbox", reason: "must be minLon,minLat,maxLon,maxLat with min < max, longitudes within ±180 and latitudes within ±90") }
        guard maxLon - minLon <= 1, maxLat - minLat <= 1 else { throw DomainError.invalidField(field: "bbox", reason: "may span at most 1 degree on a side") }
        let category = try OrganizationAPIController.enumQuery(req, "category", as: HazardCategory.self)
        var limit = 500
        if let l = req.query[String.self, at: "limit"] {
            guard let n = Int(l), (1...2000).contains(n) else { throw DomainError.invalidField(field: "limit", reason: "must be 1 to 2000") }
            limit = n
        }
        let viewer = HazardService.viewer(p)
        let rows = try await Open311Repository().openInBox(
            minLat: minLat, minLon: minLon, maxLat: maxLat, maxLon: maxLon, category: category,
            gridIDs: viewer.contactID == nil ? viewer.visible.gridIDs.map(Array.init) : nil, dispatchedTo: viewer.contactID, limit: limit + 1,
            on: req.fengqiao.store.db)
        return Self.body(rows, limit: limit, now: Date()).response()
    }

    /// The answer as `Out` (the documented shape; `JSONOut` would encode it exactly as `body`).
    static func out(_ rows: [MapEventRow], limit: Int, now: Date) -> Out {
        let items = rows.prefix(limit).map {
            Item(id: $0.id, gridId: $0.gridID, category: $0.category, categoryName: $0.category.nameZH, state: $0.state, lon: $0.location.lon,
                 lat: $0.location.lat, createdAt: $0.createdAt, ageHours: max(0, Int(now.timeIntervalSince($0.createdAt) / 3600)))
        }
        return Out(items: Array(items), total: items.count, truncated: rows.count > limit)
    }

    /// `out(…)` written by `JSONBytes`, keys sorted as `JSONOut` sorts them: with hundreds of
    /// points per answer, `JSONEncoder` was most of the request's CPU.
    static func body(_ rows: [MapEventRow], limit: Int, now: Date) -> JSONBytes {
        let shown = rows.prefix(limit)
        var j = JSONBytes(capacity: 64 + shown.count * 230)
        j.raw("{\"items\":[")
        for (i, r) in shown.enumerated() {
            if i > 0 { j.raw(",") }
            j.raw("{"); j.key("ageHours"); j.int(max(0, Int(now.timeIntervalSince(r.createdAt) / 3600)))
            j.raw(","); j.key("category"); j.string(r.category.rawValue)
            j.raw(","); j.key("categoryName"); j.string(r.category.nameZH)
            j.raw(","); j.key("createdAt"); j.date(r.createdAt)
            j.raw(","); j.key("gridId"); j.uuid(r.gridID)
            j.raw(","); j.key("id"); j.uuid(r.id)
            j.raw(","); j.key("lat"); j.micro(r.latE6)
            j.raw(","); j.key("lon"); j.micro(r.lonE6)
            j.raw(","); j.key("state"); j.string(r.state.rawValue)
            j.raw("}")
        }
        j.raw("],"); j.key("total"); j.int(shown.count)
        j.raw(","); j.key("truncated"); j.bool(rows.count > limit)
        j.raw("}")
        return j
    }
}
