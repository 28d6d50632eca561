import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

/// A small territory: one station, one community with two groups and two grids (A, B), one
/// building in each grid.
struct Territory {
    var station: PoliceStation
    var community: Community
    var gridA: Grid
    var gridB: Grid
    var buildingA: Building
    var buildingB: Building
    var otherCommunity: Community
    var gridC: Grid
}

let testPassword = "Fengqiao#2026"

func seedTerritory(_ app: Application) async throws -> Territory {
    let svc = TerritoryService(app.fengqiao)
    let a = Actor.commandLine()
    let s = try await svc.createStation(.init(name: "测试派出所", divisionCode: "530481001", address: nil), actor: a, visible: .everything)
    let c = try await svc.createCommunity(.init(stationId: s.id, name: "测试社区", townshipCode: "530481001", divisionCode12: "530481001001"), actor: a, visible: .everything)
    let g1 = try await svc.createGroup(.init(communityId: c.id, name: "第一居民小组", sequence: 1), actor: a, visible: .everything)
    let ring = [GeoPoint(lon: 102.90, lat: 24.68), GeoPoint(lon: 102.91, lat: 24.68), GeoPoint(lon: 102.91, lat: 24.67), GeoPoint(lon: 102.90, lat: 24.67)]
    let gA = try await svc.createGrid(.init(communityId: c.id, residentialGroupId: g1.id, sequence: 1, name: "第1网格", kind: .basic, polygon: GeoPolygon(ring: ring)), actor: a, visible: .everything)
    let gB = try await svc.createGrid(.init(communityId: c.id, residentialGroupId: g1.id, sequence: 2, name: "第2网格", kind: .basic, polygon: nil), actor: a, visible: .everything)
    let bA = try await svc.createBuilding(.init(gridId: gA.id, name: "1栋", address: "演示路1号", floors: 6), actor: a, visible: .everything)
    let bB = try await svc.createBuilding(.init(gridId: gB.id, name: "2栋", address: "演示路2号", floors: 6), actor: a, visible: .everything)
    let c2 = try await svc.createCommunity(.init(stationId: s.id, name: "另一社区", townshipCode: "530481001", divisionCode12: "530481001002"), actor: a, visible: .everything)
    let gC = try await svc.createGrid(.init(communityId: c2.id, sequence: 1, name: "第1网格", kind: .basic), actor: a, visible: .everything)
    return Territory(station: s, community: c, gridA: gA, gridB: gB, buildingA: bA, buildingB: bB, otherCommunity: c2, gridC: gC)
}

/// Creates an account with `testPassword` through the service (as the server's command line).
@discardableResult
func makeUser(_ app: Application, _ username: String, _ role: Role, _ scope: TerritoryScope, password: String = testPassword) async throws -> Account {
    try await AccountService(app.fengqiao).create(.init(username: username, displayName: username, role: role, scope: scope, password: password), actor: .commandLine()).0
}

/// A browser-like client: keeps the session cookie and the page's CSRF token.
struct Browser {
    let app: Application
    var cookies: [String: String] = [:]
    var csrf: String = ""

    init(_ app: Application) { self.app = app }

    var cookieHeader: HTTPHeaders {
        var h = HTTPHeaders()
        if !cookies.isEmpty { h.add(name: .cookie, value: cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
        return h
    }

    mutating func absorb(_ res: TestingHTTPResponse) {
        for c in res.headers[.setCookie] {
            let pair = c.split(separator: ";", maxSplits: 1)[0]
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard kv.count == 2 else { continue }
            if kv[1].isEmpty { cookies[kv[0]] = nil } else { cookies[kv[0]] = kv[1] }
        }
        let body = res.body.string
        if let r = body.range(of: "name=\"_csrf\" value=\"") {
            let rest = body[r.upperBound...]
            if let end = rest.firstIndex(of: "\"") { csrf = String(rest[..<end]) }
        }
    }

    @discardableResult
    mutating func get(_ path: String) async throws -> TestingHTTPResponse {
        var out: TestingHTTPResponse?
        try await app.testing().test(.GET, path, headers: cookieHeader) { res in out = res }
        absorb(out!)
        return out!
    }

    /// Posts a urlencoded form, adding the CSRF token unless `csrf: false`.
    @discardableResult
    mutating func post(_ path: String, _ form: [String: String], csrf sendCSRF: Bool = true) async throws -> TestingHTTPResponse {
        var fields = form
        if sendCSRF, fields["_csrf"] == nil { fields["_csrf"] = csrf }
        let body = fields.map { "\(Self.enc($0.key))=\(Self.enc($0.value))" }.joined(separator: "&")
        var headers = cookieHeader
        headers.contentType = .urlEncodedForm
        var out: TestingHTTPResponse?
        try await app.testing().test(.POST, path, headers: headers, body: ByteBuffer(string: body)) { res in out = res }
        absorb(out!)
        return out!
    }

    static func enc(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// Signs in with username and password (and a TOTP code generator when asked for one).
    mutating func login(_ username: String, _ password: String = testPassword) async throws -> TestingHTTPResponse {
        try await get("/login")
        return try await post("/login", ["username": username, "password": password, "next": "/"])
    }

    /// Calls the JSON API with the session cookie (and the CSRF header for writes).
    mutating func api(_ method: HTTPMethod, _ path: String, json: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var headers = cookieHeader
        for (k, v) in extra { headers.replaceOrAdd(name: k, value: v) }
        if method != .GET { headers.replaceOrAdd(name: "X-CSRF-Token", value: csrf) }
        if json != nil { headers.contentType = .json }
        var out: TestingHTTPResponse?
        try await app.testing().test(method, path, headers: headers, body: json.map { ByteBuffer(string: $0) }) { res in out = res }
        absorb(out!)
        return out!
    }
}

/// Calls the API with a bearer token.
func apiCall(_ app: Application, _ method: HTTPMethod, _ path: String, token: String?, json: String? = nil, headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
    var headers = HTTPHeaders()
    if let token { headers.bearerAuthorization = BearerAuthorization(token: token) }
    if json != nil { headers.contentType = .json }
    for (k, v) in extra { headers.replaceOrAdd(name: k, value: v) }
    var out: TestingHTTPResponse?
    try await app.testing().test(method, path, headers: headers, body: json.map { ByteBuffer(string: $0) }) { res in out = res }
    return out!
}

/// Issues an API token for an account with all its role's rights.
func issueToken(_ app: Application, _ account: Account, scopes: Set<Permission>? = nil) async throws -> String {
    try await AuthService(app.fengqiao).issueToken(user: account, name: "test", scopes: scopes ?? account.role.permissions, days: 30, actor: .commandLine()).1
}

/// Decodes a JSON body.
func json<T: Decodable>(_ res: TestingHTTPResponse, as: T.Type = T.self) throws -> T {
    let d = JSONDecoder()
    d.dateDecodingStrategy = .iso8601
    return try d.decode(T.self, from: Data(res.body.string.utf8))
}
