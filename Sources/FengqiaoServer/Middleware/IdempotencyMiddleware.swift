import Crypto
import FengqiaoStore
import FluentKit
import Vapor

/// `Idempotency-Key` for create requests (POST) in the API: a replay with the same body returns
/// the first response and creates nothing; the same key with another body is refused (422); a
/// replay while the first is still running gets 409. Keys are per caller.
struct IdempotencyMiddleware: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard req.method == .POST, let key = req.headers.first(name: "Idempotency-Key") else {
            return try await next.respond(to: req)
        }
        guard (1...200).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw IdempotencyError(status: .badRequest, reason: "Idempotency-Key must be 1–200 visible ASCII characters.")
        }
        let owner = req.principal.map { $0.id.uuidString.lowercased() } ?? "anonymous"
        var body = req.body.data ?? ByteBuffer()
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        let hash = SHA256.hash(data: Data((req.method.rawValue + " " + req.url.path + "\n").utf8) + Data(bytes)).map { String(format: "%02x", $0) }.joined()
        let repo = req.fengqiao.idempotency
        let store = req.fengqiao.store

        enum Claim: Sendable { case claimed(UUID), replay(Int, String?, String?, String?), inFlight, mismatch }
        let claim: Claim = try await store.write { db in
            if let existing = try await repo.find(owner: owner, key: key, on: db) {
                guard existing.requestHash == hash else { return .mismatch }
                if let status = existing.status { return .replay(status, existing.contentType, existing.body, existing.location) }
                if existing.createdAt < Date().addingTimeInterval(-60) {
                    // The first attempt died without an answer: let this one run.
                    existing.createdAt = Date()
                    try await repo.save(existing, on: db)
                    return .claimed(existing.id!)
                }
                return .inFlight
            }
            let m = IdempotencyKeyModel()
            m.id = UUID()
            m.owner = owner
            m.key = key
            m.requestHash = hash
            m.createdAt = Date()
            try await repo.save(m, on: db)
            return .claimed(m.id!)
        }
        switch claim {
        case .mismatch:
            throw IdempotencyError(status: .unprocessableEntity, reason: "This Idempotency-Key was already used with a different request body.")
        case .inFlight:
            throw IdempotencyError(status: .conflict, reason: "A request with this Idempotency-Key is still being processed.")
        case .replay(let status, let type, let text, let location):
            let res = Response(status: HTTPResponseStatus(statusCode: status))
            if let type { res.headers.replaceOrAdd(name: .contentType, value: type) }
            if let location { res.headers.replaceOrAdd(name: .location, value: location) }
            res.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true")
            res.body = .init(string: text ?? "")
            return res
        case .claimed(let id):
            let res: Response
            do {
                res = try await next.respond(to: req)
            } catch {
                // A failed request may be retried with the same key.
                try? await store.write { db in try await IdempotencyKeyModel.query(on: db).filter(\.$id == id).delete() }
                throw error
            }
            let status = Int(res.status.code)
            let text = res.body.string
            let type = res.headers.first(name: .contentType)
            let location = res.headers.first(name: .location)
            try await store.write { db in
                guard let m = try await IdempotencyKeyModel.find(id, on: db) else { return }
                if status >= 500 { try await m.delete(on: db); return }
                m.status = status
                m.body = text
                m.contentType = type
                m.location = location
                try await m.save(on: db)
            }
            return res
        }
    }
}
