import FengqiaoCore
import NIOFoundationCompat
import Vapor

extension Request {
    /// A path parameter as UUID; a malformed id is the same 404 as a missing record.
    func uuid(_ name: String, kind: String) throws -> UUID {
        guard let s = parameters.get(name), let id = UUID(uuidString: s) else { throw DomainError.notFound(kind: kind) }
        return id
    }

    /// A local redirect target from a form or query (never another host, never a header break):
    /// only a path of `A–Z a–z 0–9 / . _ ~ - ? = & %` starting with a single `/` is kept;
    /// anything else (`//evil`, `/\tevil`, CR/LF, `http:`) becomes `/`.
    func safeNext(_ raw: String?) -> String {
        guard let r = raw, r.count < 300, r.hasPrefix("/"), !r.hasPrefix("//"),
              r.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "/._~-?=&%".unicodeScalars.contains($0)) })
        else { return "/" }
        return r
    }
}

/// A form's inline error: which field and why, plus what the user typed.
struct FormError: Encodable {
    var form: String
    var field: String
    var message: String
    var values: [String: String]

    static func from(_ error: any Error, form: String, values: [String: String]) -> FormError? {
        switch error {
        case let e as DomainError:
            switch e {
            case .invalidField(let f, _), .conflict(let f, _): return FormError(form: form, field: f, message: e.description, values: values)
            case .passwordPolicy(let v): return FormError(form: form, field: "password", message: v.map(\.descriptionZH).joined(separator: "；"), values: values)
            case .forbidden(let r): return FormError(form: form, field: "", message: r, values: values)
            case .notFound(let k): return FormError(form: form, field: "", message: "\(k) not found", values: values)
            }
        case let e as DecodingError:
            let (f, r) = ProblemMiddleware.describe(e)
            return FormError(form: form, field: f, message: f.isEmpty ? r : "\(f): \(r)", values: values)
        default:
            return nil
        }
    }
}

/// JSON responses with ISO-8601 dates.
enum JSONOut {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static func response<T: Encodable>(_ value: T, status: HTTPResponseStatus = .ok, location: String? = nil) throws -> Response {
        let res = Response(status: status)
        res.headers.contentType = .json
        if let location { res.headers.replaceOrAdd(name: .location, value: location) }
        res.body = .init(data: try encoder.encode(value))
        return res
    }
}

/// Decodes a JSON body strictly: unknown enum values and wrong types are named.
enum JSONIn {
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()

    static func decode<T: Decodable>(_ type: T.Type, _ req: Request) throws -> T {
        guard let ct = req.headers.contentType, ct.type == "application", ct.subType == "json" || ct.subType.hasSuffix("+json") else {
            throw Abort(.unsupportedMediaType, reason: "Send the body as application/json.")
        }
        guard var body = req.body.data, body.readableBytes > 0 else {
            throw DomainError.invalidField(field: "body", reason: "is empty")
        }
        let data = body.readData(length: body.readableBytes) ?? Data()
        return try decoder.decode(T.self, from: data)
    }
}
