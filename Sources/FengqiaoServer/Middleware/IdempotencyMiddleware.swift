import Crypto
import FengqiaoCore
import FengqiaoStore
import FluentKit
import Vapor

/// `Idempotency-Key` for the API's create requests (routes marked `idempotent()`): a replay with the same body returns
/// the first response and creates nothing; the same key with another body is refused (422); a
/// replay while the first is still running gets 409. Keys are per caller.
struct IdempotencyMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard req.method == .POST, req.route?.isIdempotentCreate == true, let key = req.headers.first(name: "Idempotency-Key") else {
            return try await next.respond(to: req)
        }
        guard (1...200).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw IdempotencyError(status: .badRequest, reason: "Idempotency-Key must be 1–200 visible ASCII characters.")
        }
        let owner = req.principal.map { $0.id.uuidString.lowercased() } ?? "anonymous"
        var body = req.body.data ?? ByteBuffer()
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        let hash = Hex.lowercase(SHA256.hash(data: Data((req.method.rawValue + " " + req.url.path + "\n").utf8) + Data(bytes)))
        let repo = req.fengqiao.idempotency
        let store = req.fengqiao.store

        let claim = try await store.write { db in try await repo.claim(owner: owner, key: key, hash: hash, on: db) }
        switch claim {
        case .mismatch:
            throw IdempotencyError(status: .unprocessableEntity, reason: "This Idempotency-Key was already used with a different request body.")
        case .inFlight:
            throw IdempotencyError(status: .conflict, reason: "A request with this Idempotency-Key is still being processed.")
        case .replay(let status, let type, let text, let location):
            return Self.replayed(status: status, type: type, body: text, location: location)
        case .appliedUnanswered(let id, let type, let objectID):
            // The effect committed but the process stopped before the answer was stored:
            // answer with the record as it is now, and keep that answer for later replays.
            guard let type, let objectID, let path = Self.apiPath[type] else {
                throw IdempotencyError(status: .conflict, reason: "The request with this Idempotency-Key was applied, but its answer was lost; look the record up.")
            }
            let location = "/api/v1/\(path)/\(objectID)"
            var headers = req.headers
            for h in ["Content-Type", "Content-Length", "Idempotency-Key"] { headers.remove(name: h) }
            let sub = Request(application: req.application, method: .GET, url: URI(path: location), headers: headers, on: req.eventLoop)
            let current = try await req.application.responder.current.respond(to: sub).get()
            guard current.status == .ok else {
                throw IdempotencyError(status: .conflict, reason: "The request with this Idempotency-Key was applied, but its record is no longer readable.")
            }
            let text = current.body.string
            let ctype = current.headers.first(name: .contentType)
            try await store.write { db in try await repo.complete(id, status: 201, contentType: ctype, body: text, location: location, on: db) }
            return Self.replayed(status: 201, type: ctype, body: text, location: location)
        case .claimed(let id):
            let res: Response
            do {
                res = try await IdempotencyScope.$claimID.withValue(id) { try await next.respond(to: req) }
            } catch {
                // Nothing committed: the same key may be retried. (If a write did commit,
                // `applied_at` is set and the claim stays for replay.)
                do {
                    try await store.write { db in try await repo.releaseUnapplied(id, on: db) }
                } catch let releaseError {
                    req.logger.error("could not release Idempotency-Key claim \(id): \(String(describing: releaseError))")
                }
                throw error
            }
            let status = Int(res.status.code)
            let text = res.body.string
            let type = res.headers.first(name: .contentType)
            let location = res.headers.first(name: .location)
            try await store.write { db in
                if status >= 500 {
                    try await repo.releaseUnapplied(id, on: db)
                    if try await repo.find(id, on: db) == nil { return }
                }
                try await repo.complete(id, status: status, contentType: type, body: text, location: location, on: db)
            }
            return res
        }
    }

    /// API collection path for each audited object type that a POST creates.
    static let apiPath: [String: String] = [
        "police-station": "stations", "community": "communities", "residential-group": "residential-groups",
        "grid": "grids", "building": "buildings", "user": "users", "address": "addresses", "resident": "residents",
    ]

    static func replayed(status: Int, type: String?, body: String?, location: String?) -> Response {
        let res = Response(status: HTTPResponseStatus(statusCode: status))
        if let type { res.headers.replaceOrAdd(name: .contentType, value: type) }
        if let location { res.headers.replaceOrAdd(name: .location, value: location) }
        res.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true")
        res.body = .init(string: body ?? "")
        return res
    }
}
