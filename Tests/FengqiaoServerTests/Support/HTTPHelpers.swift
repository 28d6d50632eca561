import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import SQLKit
import Testing
import Vapor
import VaporTesting

/// An RFC 9457 problem body as the API sends it.
struct Problem: Decodable {
    struct FieldProblem: Decodable { var field: String; var reason: String }
    var type: String
    var title: String
    var status: Int
    var detail: String
    var errors: [FieldProblem]?
}

/// A list answer of the API (`{items, total}`).
struct ListPage<T: Decodable>: Decodable {
    var items: [T]
    var total: Int
}

/// Sends any request with exactly the given headers (no cookie, token or CSRF added).
func rawCall(_ app: Application, _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: String? = nil) async throws -> TestingHTTPResponse {
    var out: TestingHTTPResponse?
    try await app.testing().test(method, path, headers: headers, body: body.map { ByteBuffer(string: $0) }) { res in out = res }
    return out!
}

/// Whether the response is `application/problem+json`.
func isProblem(_ res: TestingHTTPResponse) -> Bool {
    res.headers.contentType.map { $0.type == "application" && $0.subType == "problem+json" } ?? false
}

/// Decodes the problem body, recording a failure when it is not one.
func problem(_ res: TestingHTTPResponse, sourceLocation: SourceLocation = #_sourceLocation) -> Problem? {
    #expect(isProblem(res), "expected application/problem+json, got \(res.headers.contentType?.description ?? "none") \(res.body.string.prefix(200))", sourceLocation: sourceLocation)
    return try? json(res, as: Problem.self)
}

/// The redirect target of a response.
func location(_ res: TestingHTTPResponse) -> String? { res.headers.first(name: .location) }

/// Whether the response sends the browser to the login page.
func redirectsToLogin(_ res: TestingHTTPResponse) -> Bool {
    (300..<400).contains(Int(res.status.code)) && (location(res)?.hasPrefix("/login") ?? false) && location(res)?.hasPrefix("/login/") == false
}

/// The audit actor of an account, as if it acted through the UI.
func actor(_ a: Account) -> Actor {
    Actor(id: a.id, name: a.username, role: a.role, scope: a.scope, requestID: UUID().uuidString.lowercased())
}

/// Lower-case id text as it appears in URLs.
func idText(_ id: UUID) -> String { id.uuidString.lowercased() }

/// JSON text for a grid scope, a community scope or the city.
func scopeJSON(_ s: TerritoryScope) -> String {
    if let id = s.territoryID { return #"{"level":"\#(s.level.rawValue)","territoryID":"\#(idText(id))"}"# }
    return #"{"level":"\#(s.level.rawValue)"}"#
}

/// Number of buildings of a grid, read through the API as a city-wide reader.
func buildingCount(_ app: Application, grid: UUID, token: String) async throws -> Int {
    let res = try await apiCall(app, .GET, "/api/v1/grids/\(idText(grid))/buildings", token: token)
    #expect(res.status == .ok)
    return try json(res, as: ListPage<Building>.self).total
}

/// Number of grids of a community, read through the API as a city-wide reader.
func gridCount(_ app: Application, community: UUID, token: String) async throws -> Int {
    let res = try await apiCall(app, .GET, "/api/v1/communities/\(idText(community))/grids", token: token)
    #expect(res.status == .ok)
    return try json(res, as: ListPage<Grid>.self).total
}

/// Rows of a table counted with SQL (independent of the API).
func tableCount(_ app: Application, _ table: String) async throws -> Int {
    let row = try await app.fengqiao.store.sql.raw("SELECT COUNT(*) AS n FROM \(ident: table)").first()
    return try row?.decode(column: "n", as: Int.self) ?? -1
}

/// A city-wide system administrator with an API token (the usual writer in these tests).
func sysadminToken(_ app: Application, username: String = "sys.admin") async throws -> (Account, String) {
    let a = try await makeUser(app, username, .sysadmin, .city)
    return (a, try await issueToken(app, a))
}

/// Replaces every occurrence of the page's variable parts (CSRF token, request-specific values).
func normalisedLoginPage(_ body: String, username: String) -> String {
    var s = body.replacingOccurrences(of: username, with: "USERNAME")
    if let r = s.range(of: "name=\"_csrf\" value=\"") {
        let rest = s[r.upperBound...]
        if let end = rest.firstIndex(of: "\"") { s.replaceSubrange(r.upperBound..<end, with: "CSRF") }
    }
    return s
}
