import FengqiaoCore
import FengqiaoServer
import Foundation
import Testing
import Vapor
import VaporTesting

/// The published OpenAPI document and the route table agree: every API route is documented
/// with its method and access rule, and every documented operation exists.
@Suite("OpenAPI document", .serialized)
struct OpenAPITests {
    /// An operation as "METHOD /path" with `{param}` placeholders.
    struct Operation: Hashable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    /// Fetches the document over HTTP, as a client would.
    static func document(_ app: Application) async throws -> [String: Any] {
        var status: HTTPResponseStatus?
        var contentType: HTTPMediaType?
        var body = ""
        try await app.testing().test(.GET, "/api/v1/openapi.json") { res in
            status = res.status
            contentType = res.headers.contentType
            body = res.body.string
        }
        #expect(status == .ok)
        #expect(contentType?.type == "application" && contentType?.subType == "json", "content type: \(String(describing: contentType))")
        let json = try JSONSerialization.jsonObject(with: Data(body.utf8))
        return try #require(json as? [String: Any], "the document is not a JSON object")
    }

    /// The documented operations with their `x-fengqiao-access`.
    static func documented(_ doc: [String: Any]) throws -> [Operation: String?] {
        let paths = try #require(doc["paths"] as? [String: Any], "no paths object")
        var ops: [Operation: String?] = [:]
        for (path, item) in paths {
            let item = try #require(item as? [String: Any], "path item \(path) is not an object")
            for m in methods {
                guard let op = item[m] as? [String: Any] else { continue }
                ops[Operation(method: m.uppercased(), path: path)] = op["x-fengqiao-access"] as? String
            }
        }
        return ops
    }

    /// The API routes (under `/api/v1`, plus `/healthz`) with their access rules.
    static func registered(_ app: Application) -> [Operation: String?] {
        var ops: [Operation: String?] = [:]
        for route in app.routes.all where route.method != .HEAD {
            let parts = route.path.map { c -> String in
                switch c {
                case .constant(let s): s
                case .parameter(let name): "{\(name)}"
                case .anything: "*"
                case .catchall: "**"
                }
            }
            let isAPI = parts.starts(with: ["api", "v1"]) || parts == ["healthz"]
            guard isAPI else { continue }
            ops[Operation(method: route.method.rawValue, path: "/" + parts.joined(separator: "/"))] = route.accessRule?.description
        }
        return ops
    }

    @Test("GET /api/v1/openapi.json serves an OpenAPI 3.1 document")
    func servesDocument() async throws {
        try await withApp { app in
            let doc = try await Self.document(app)
            let version = try #require(doc["openapi"] as? String)
            #expect(version.hasPrefix("3.1"))
            let info = try #require(doc["info"] as? [String: Any])
            #expect(info["title"] as? String == "Fengqiao API")
            #expect(info["version"] as? String == "1.0.0")
            let components = try #require(doc["components"] as? [String: Any])
            let schemes = try #require(components["securitySchemes"] as? [String: Any])
            #expect(schemes["bearerAuth"] != nil)
            #expect(schemes["sessionCookie"] != nil)
        }
    }

    @Test("every API route is documented with its method, and every documented operation is a route")
    func routesMatchDocument() async throws {
        try await withApp { app in
            let documented = try Self.documented(try await Self.document(app))
            let routes = Self.registered(app)
            #expect(routes.count > 20, "found only \(routes.count) API routes")

            let undocumented = Set(routes.keys).subtracting(documented.keys).map(\.description).sorted()
            #expect(undocumented.isEmpty, "routes missing from openapi.json: \(undocumented)")

            let phantom = Set(documented.keys).subtracting(routes.keys).map(\.description).sorted()
            #expect(phantom.isEmpty, "documented operations without a route: \(phantom)")
        }
    }

    @Test("each documented operation states the route's access rule in x-fengqiao-access")
    func accessRulesMatch() async throws {
        try await withApp { app in
            let documented = try Self.documented(try await Self.document(app))
            let routes = Self.registered(app)
            for (op, rule) in routes {
                guard let stated = documented[op] else { continue }
                #expect(stated != nil, "\(op) has no x-fengqiao-access")
                #expect(stated == rule, "\(op): documented \(String(describing: stated)), route declares \(String(describing: rule))")
            }
        }
    }
}
