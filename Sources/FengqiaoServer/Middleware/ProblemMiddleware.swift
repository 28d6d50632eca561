import FengqiaoCore
import FengqiaoStore
import Vapor

/// RFC 9457 problem details.
struct ProblemDetails: Content {
    var type: String
    var title: String
    var status: Int
    var detail: String
    var instance: String?
    var errors: [FieldProblem]?
    var requestId: String?
}

/// One field's problem inside `ProblemDetails.errors`.
struct FieldProblem: Content, Equatable {
    var field: String
    var reason: String
}

/// The single place where errors become HTTP answers: problem+json for the API, a readable page
/// for the web UI. Unknown errors are 500 with the detail logged, never shown.
struct ProblemMiddleware: AsyncMiddleware {
    struct Mapped {
        var status: HTTPResponseStatus
        var type: String
        var title: String
        var detail: String
        var errors: [FieldProblem]?
        var headers: HTTPHeaders = [:]
    }

    static func map(_ error: any Error, logger: Logger) -> Mapped {
        switch error {
        case let e as DomainError:
            switch e {
            case .invalidField(let f, let r):
                return Mapped(status: .unprocessableEntity, type: "validation", title: "Invalid field", detail: "\(f): \(r)", errors: [FieldProblem(field: f, reason: r.english)])
            case .notFound(let k):
                return Mapped(status: .notFound, type: "not-found", title: "Not found", detail: "No such \(k).")
            case .forbidden(let r):
                return Mapped(status: .forbidden, type: "forbidden", title: "Forbidden", detail: r)
            case .conflict(let f, let r):
                return Mapped(status: .conflict, type: "conflict", title: "Conflict", detail: "\(f): \(r)", errors: [FieldProblem(field: f, reason: r)])
            case .passwordPolicy(let v):
                return Mapped(status: .unprocessableEntity, type: "password-policy", title: "Password refused", detail: e.description, errors: v.map { FieldProblem(field: "password", reason: $0.description) })
            }
        case let e as DecodingError:
            let (field, reason) = Self.describe(e)
            return Mapped(status: .badRequest, type: "malformed-body", title: "Malformed request body", detail: field.isEmpty ? reason : "\(field): \(reason)", errors: field.isEmpty ? nil : [FieldProblem(field: field, reason: reason)])
        case is CSRFError:
            return Mapped(status: .forbidden, type: "csrf", title: "Invalid CSRF token", detail: "The form's security token is missing or stale. Reload the page and submit again.")
        case let e as IdempotencyError:
            return Mapped(status: e.status, type: "idempotency", title: "Idempotency-Key conflict", detail: e.reason)
        case let e as any AbortError:
            let typ: String
            switch e.status {
            case .notFound: typ = "not-found"
            case .unauthorized: typ = "unauthorized"
            case .forbidden: typ = "forbidden"
            case .payloadTooLarge: typ = "too-large"
            case .unsupportedMediaType: typ = "unsupported-media-type"
            default: typ = e.status.code >= 500 ? "server-error" : "bad-request"
            }
            if e.status.code >= 500 { logger.error("\(e.status.code): \(e.reason)") }
            let detail = e.status.code >= 500 && !(e.reason.hasPrefix("This route")) ? "The server could not complete the request." : e.reason
            return Mapped(status: e.status, type: typ, title: e.status.reasonPhrase, detail: detail, headers: e.headers)
        default:
            logger.error("unhandled error: \(String(reflecting: error))")
            return Mapped(status: .internalServerError, type: "server-error", title: "Internal Server Error", detail: "The server could not complete the request.")
        }
    }

    static func describe(_ e: DecodingError) -> (String, String) {
        func path(_ c: [any CodingKey]) -> String { c.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") }
        switch e {
        case .typeMismatch(let t, let c): return (path(c.codingPath), "expected \(Self.typeName(t))")
        case .valueNotFound(let t, let c): return (path(c.codingPath), "expected \(Self.typeName(t)), found null")
        case .keyNotFound(let k, let c): return (path(c.codingPath + [k]), "is required")
        case .dataCorrupted(let c):
            let p = path(c.codingPath)
            if p.isEmpty { return (p, "the body is not valid JSON or form data") }
            // Foundation's wording names Swift types ("Cannot initialize IncidentPriority from
            // invalid String value p9"): say it in the API's terms instead.
            let d = c.debugDescription
            if d.hasPrefix("Cannot initialize") { return (p, "is not one of the allowed values") }
            if d.contains("UUID") { return (p, "is not a valid UUID") }
            return (p, "has an invalid value (\(d))")
        @unknown default: return ("", "the body could not be decoded")
        }
    }

    static func typeName(_ t: Any.Type) -> String {
        let s = String(describing: t)
        if s.contains("Int") || s.contains("Double") { return "a number" }
        if s.contains("String") { return "a string" }
        if s.contains("Bool") { return "true or false" }
        if s.contains("Array") { return "an array" }
        if s.contains("UUID") { return "a UUID" }
        return "an object"
    }

    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: req)
        } catch {
            let m = Self.map(error, logger: req.logger)
            if (300..<400).contains(Int(m.status.code)) {
                let res = Response(status: m.status, headers: m.headers)
                return res
            }
            if req.wantsJSON {
                let p = ProblemDetails(
                    type: "https://fengqiao.invalid/problems/\(m.type)", title: m.title, status: Int(m.status.code), detail: m.detail,
                    instance: req.url.path, errors: m.errors, requestId: req.storage[RequestIDKey.self])
                let res = Response(status: m.status, headers: m.headers)
                try res.content.encode(p, as: .json)
                res.headers.contentType = HTTPMediaType(type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
                if m.status == .unauthorized { res.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer") }
                return res
            }
            let page = Self.localisedPage(m, lang: Page.lang(req))
            let res = try await Page.render(req, "error", page, title: m.title)
            res.status = m.status
            return res
        }
    }
}

extension ProblemMiddleware {
    /// The web page wording for an error, in the page's language.
    static func localisedPage(_ m: Mapped, lang: L10n.Lang) -> ErrorPage {
        let zh = lang == .zh
        let detail: String
        switch m.status {
        case .notFound: detail = zh ? "未找到该记录，或该记录不在您的数据范围内。" : "No such record, or it lies outside your territory."
        case .forbidden where m.type == "csrf": detail = zh ? "表单的安全令牌缺失或已过期，请刷新页面后重新提交。" : m.detail
        case .forbidden: detail = zh ? "您的角色无权执行此操作。" : m.detail
        case .unauthorized: detail = zh ? "请先登录。" : m.detail
        case .payloadTooLarge: detail = zh ? "提交的内容超过大小限制。" : m.detail
        case .internalServerError: detail = zh ? "服务器未能完成请求，请稍后再试。" : m.detail
        default: detail = m.detail
        }
        return ErrorPage(status: Int(m.status.code), title: m.title, detail: detail)
    }
}

/// Page data for `error.leaf`.
struct ErrorPage: Encodable {
    var status: Int
    var title: String
    var detail: String
}

/// Errors of the `Idempotency-Key` protocol.
struct IdempotencyError: Error {
    var status: HTTPResponseStatus
    var reason: String
}
