import FengqiaoCore
import Foundation
import Vapor

/// The two wire formats of Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2, "Format
/// Support"): the client appends `.xml` or `.json` to the resource. XML is the spec's required
/// format: UTF-8 with the XML declaration, a root element per resource (`services`,
/// `service_definition`, `service_requests`, `errors`) and child elements named exactly like the
/// JSON keys. JSON is an array of objects with the same keys, in the same order.
enum Open311Format: String, Sendable {
    case json, xml

    /// Splits `requests.json` into (`requests`, .json).
    /// - Throws: `Open311Error` 400 for a missing or unknown extension.
    static func split(_ component: String) throws -> (String, Open311Format) {
        guard let dot = component.lastIndex(of: ".") else {
            throw Open311Error(400, "append the format to the resource: .json or .xml")
        }
        let name = String(component[..<dot]), ext = String(component[component.index(after: dot)...]).lowercased()
        guard let f = Open311Format(rawValue: ext) else { throw Open311Error(400, "unsupported format \(ext); use .json or .xml") }
        return (name, f)
    }

    /// The format a path asks for (default JSON when it cannot be told), for error answers.
    static func guess(_ path: String) -> Open311Format { path.lowercased().hasSuffix(".xml") ? .xml : .json }

    var contentType: String { self == .json ? "application/json; charset=utf-8" : "text/xml; charset=utf-8" }
}

/// A value in an Open311 answer: kept in order so JSON and XML list the keys the same way.
indirect enum O311: Sendable {
    case string(String?)
    case number(Double?)
    case int(Int)
    case bool(Bool)
    /// An object; `element` names it in XML.
    case object(element: String, [(String, O311)])
    /// An array; in XML each item is written as its own element inside the parent.
    case array([O311])

    static func s(_ v: String?) -> O311 { .string(v) }
    static func s(_ v: Date?) -> O311 { .string(v.map(Open311Dates.format)) }
}

enum Open311Render {
    /// An answer in `format`: `items` under the XML root `root`.
    static func response(_ items: [O311], root: String, format: Open311Format, status: HTTPResponseStatus = .ok) -> Response {
        let text: String
        switch format {
        case .json: text = json(.array(items))
        case .xml:
            var out = #"<?xml version="1.0" encoding="utf-8"?>"# + "<\(root)>"
            for i in items { xml(i, into: &out) }
            out += "</\(root)>"
            text = out
        }
        let res = Response(status: status, body: .init(string: text))
        res.headers.replaceOrAdd(name: .contentType, value: format.contentType)
        return res
    }

    /// A single object answer (the service definition is one object, not a list).
    static func single(_ item: O311, format: Open311Format) -> Response {
        let text: String
        switch format {
        case .json: text = json(item)
        case .xml:
            var out = #"<?xml version="1.0" encoding="utf-8"?>"#
            xml(item, into: &out)
            text = out
        }
        let res = Response(status: .ok, body: .init(string: text))
        res.headers.replaceOrAdd(name: .contentType, value: format.contentType)
        return res
    }

    static func json(_ v: O311) -> String {
        switch v {
        case .string(let s): return s.map(jsonString) ?? "null"
        case .number(let d):
            guard let d, d.isFinite else { return "null" }
            return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .object(_, let kv): return "{" + kv.map { jsonString($0.0) + ":" + json($0.1) }.joined(separator: ",") + "}"
        case .array(let a): return "[" + a.map(json).joined(separator: ",") + "]"
        }
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 || u.value == 0x2028 || u.value == 0x2029 {
                    out += String(format: "\\u%04x", u.value)
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// Escapes text for XML 1.0 (§2.4 character data; characters outside the XML `Char`
    /// production, such as most control characters, are dropped).
    static func xmlText(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                let v = u.value
                if v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v) || v >= 0x10000 {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }

    static func xml(_ v: O311, into out: inout String) {
        guard case .object(let element, let kv) = v else { return }
        out += "<\(element)>"
        for (k, value) in kv { field(k, value, into: &out) }
        out += "</\(element)>"
    }

    static func field(_ k: String, _ v: O311, into out: inout String) {
        switch v {
        case .string(let s): out += s.map { "<\(k)>\(xmlText($0))</\(k)>" } ?? "<\(k)/>"
        case .number: out += "<\(k)>\(json(v) == "null" ? "" : json(v))</\(k)>"
        case .int(let i): out += "<\(k)>\(i)</\(k)>"
        case .bool(let b): out += "<\(k)>\(b)</\(k)>"
        case .object: xml(v, into: &out)
        case .array(let items):
            out += "<\(k)>"
            for i in items { xml(i, into: &out) }
            out += "</\(k)>"
        }
    }
}

/// W3C date-time (a profile of ISO 8601 with a zone, as GeoReport v2 requires): answers are in
/// the office's zone (`+08:00`); filters accept `Z` or an offset, with or without fractional
/// seconds, or a bare date (midnight UTC).
enum Open311Dates {
    static func format(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = HazardService.timeZone
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: d)
    }

    static func parse(_ s: String) -> Date? {
        let t = s.trimmingCharacters(in: .whitespaces)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        if let d = f.date(from: t) { return d }
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: t) { return d }
        f.formatOptions = [.withFullDate]
        f.timeZone = TimeZone(identifier: "UTC")
        if t.count == 10, let d = f.date(from: t) { return d }
        return nil
    }
}

/// An error in the Open311 error format: `[{"code":400,"description":"…"}]` /
/// `<errors><error><code>400</code><description>…</description></error></errors>`, with the code
/// as the HTTP status.
struct Open311Error: Error {
    var code: Int
    var description: String
    init(_ code: Int, _ description: String) {
        self.code = code
        self.description = description
    }

    func response(_ format: Open311Format) -> Response {
        Open311Render.response([.object(element: "error", [("code", .int(code)), ("description", .s(description))])], root: "errors", format: format,
                               status: HTTPResponseStatus(statusCode: code))
    }
}

/// Turns every error under `/open311/` into the Open311 error format: `DomainError.invalidField`
/// → 400 naming the field, `.notFound` → 404, `.forbidden` → 403, `.conflict` → 409, a body that
/// cannot be read → 400; anything else → 500 with no detail (logged).
struct Open311ErrorMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: req)
        } catch {
            return Self.map(error, logger: req.logger).response(Open311Format.guess(req.url.path))
        }
    }

    static func map(_ error: any Error, logger: Logger) -> Open311Error {
        switch error {
        case let e as Open311Error: return e
        case let e as DomainError:
            switch e {
            case .invalidField(let f, let r): return Open311Error(400, "\(f): \(r)")
            case .notFound(let k): return Open311Error(404, "no such \(k)")
            case .forbidden(let r): return Open311Error(403, r)
            case .conflict(let f, let r): return Open311Error(409, "\(f): \(r)")
            case .passwordPolicy: return Open311Error(400, e.description)
            }
        case let e as IdempotencyError: return Open311Error(Int(e.status.code), e.reason)
        case is DecodingError: return Open311Error(400, "the request body could not be read as form data")
        case let e as any AbortError where e.status.code < 500: return Open311Error(Int(e.status.code), e.reason)
        default:
            logger.error("open311: \(String(reflecting: error))")
            return Open311Error(500, "the server could not complete the request")
        }
    }
}
