import Crypto
import FengqiaoCore
import FengqiaoStore
import Vapor

/// Bulk import in the JSON API: upload a file as the request body, get a job (202), poll it,
/// download the rows it did not write as CSV. Templates for each kind as CSV or XLSX.
struct ImportAPIController: RouteCollection {
    func boot(routes api: any RoutesBuilder) throws {
        api.postStreamed("imports", access: .permission(.personWrite), use: upload)
        api.get("imports", access: .permission(.personWrite), use: list)
        api.get("imports", ":id", access: .permission(.personWrite), use: job)
        api.get("imports", ":id", "issues", access: .permission(.personWrite), use: issues)
        api.get("import-templates", ":kind", access: .authenticated, use: template)
    }

    /// A job as the API shows it.
    struct JobDTO: Encodable {
        struct Links: Encodable { var job: String; var issues: String; var page: String }
        var id: UUID
        var kind: String
        var fileName: String
        var fileBytes: Int64
        var dryRun: Bool
        var gridCode: String?
        var status: ImportJob.Status
        var counters: ImportJob.Counters
        var estimatedRows: Int?
        var fractionDone: Double?
        var error: String?
        var warnings: [String]
        var createdAt: Date
        var startedAt: Date?
        var finishedAt: Date?
        var links: Links

        init(_ j: ImportJob) {
            id = j.id
            kind = j.kind
            fileName = j.fileName
            fileBytes = j.fileBytes
            dryRun = j.dryRun
            gridCode = j.gridCode
            status = j.status
            counters = j.counters
            estimatedRows = j.estimatedRows
            fractionDone = j.fractionDone
            error = j.error
            warnings = j.warnings
            createdAt = j.createdAt
            startedAt = j.startedAt
            finishedAt = j.finishedAt
            let path = "/api/v1/imports/\(j.id.uuidString.lowercased())"
            links = Links(job: path, issues: path + "/issues", page: "/imports/\(j.id.uuidString.lowercased())")
        }
    }

    struct Page<T: Encodable>: Encodable { var items: [T]; var total: Int }

    // MARK: Upload

    func upload(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let svc = ImportJobService(req.fengqiao)
        let limit = Int64(req.fengqiao.config.maxImportBytes)
        let key = req.headers.first(name: "Idempotency-Key")
        if let key, !((1...200).contains(key.count) && key.allSatisfy({ $0.isASCII && !$0.isWhitespace })) {
            throw IdempotencyError(status: .badRequest, reason: "Idempotency-Key must be 1–200 visible ASCII characters.")
        }
        if let ct = req.headers.contentType,
           (ct.type == "multipart") || (ct.type == "application" && ["json", "x-www-form-urlencoded"].contains(ct.subType)) {
            throw Abort(.unsupportedMediaType, reason: "Send the file itself as the request body (text/csv, an .xlsx content type or application/octet-stream), not a form or JSON.")
        }
        let kind = try ImportJobService.kind(req.query[String.self, at: "kind"])
        guard p.has(kind.permission) else { throw DomainError.forbidden(reason: "importing \(kind.id) needs \(kind.permission.rawValue)") }
        let r = ImportJobService.Request(
            kind: kind, fileName: ImportJobService.displayName(req.query[String.self, at: "fileName"]),
            dryRun: try ImportJobService.flag(req.query[String.self, at: "dryRun"], field: "dryRun"),
            gridCode: try await svc.checkGrid(req.query[String.self, at: "gridCode"], visible: p.visible))
        if let n = req.headers.first(name: .contentLength).flatMap(Int64.init), n > limit {
            return Self.tooLarge(req, limit: limit)
        }

        let id = UUID()
        let file = try svc.uploads.open(for: id, limit: limit)
        let received: (bytes: Int64, sha256: String)
        do {
            let chunks = req.bodyChunks()
            defer { chunks.cancel() }
            for try await chunk in chunks { try file.write(chunk) }
            received = try file.finish()
        } catch let e as UploadTooLarge {
            file.discard()
            return Self.tooLarge(req, limit: e.limit)
        } catch {
            file.discard()
            throw error
        }
        guard received.bytes > 0 else {
            file.discard()
            throw DomainError.invalidField(field: "file", reason: "is empty; send the file as the request body")
        }

        // Idempotency-Key: the request is known only once the body is on disk (its hash covers
        // the query and the file's SHA-256), so the key is claimed now.
        let requestHash = Hex.lowercase(SHA256.hash(data: Data("POST /api/v1/imports?kind=\(kind.id)&dryRun=\(r.dryRun)&gridCode=\(r.gridCode ?? "")&fileName=\(r.fileName)\n\(received.sha256)".utf8)))
        let claim: UUID?
        if let key {
            let outcome: StreamedIdempotency.Claim
            do { outcome = try await StreamedIdempotency.claim(req, owner: p.id, key: key, hash: requestHash) } catch {
                file.discard()
                throw error
            }
            switch outcome {
            case .answer(let res):
                file.discard()
                return res
            case .claimed(let c):
                claim = c
            }
        } else {
            claim = nil
        }
        let job: ImportJob
        do {
            job = try await IdempotencyScope.$claimID.withValue(claim) {
                try await svc.create(id: id, r, fileBytes: received.bytes, actor: req.actor, owner: p.id)
            }
        } catch {
            file.discard()
            if let claim { await StreamedIdempotency.release(req, claim) }
            throw error
        }
        await req.application.importJobs.submit(.init(job: job, kind: kind, app: req.fengqiao, actor: req.actor, visible: p.visible))
        let res = try JSONOut.response(JobDTO(job), status: .accepted, location: JobDTO(job).links.job)
        if let claim { await StreamedIdempotency.complete(req, claim, res) }
        return res
    }

    /// 413 naming `file`, as problem+json.
    static func tooLarge(_ req: Request, limit: Int64) -> Response {
        let reason = "is larger than the limit of \(String(format: "%.1f", Double(limit) / Double(1 << 20))) MiB (\(limit) bytes; FENGQIAO_MAX_IMPORT_BYTES)"
        let p = ProblemDetails(
            type: "https://fengqiao.invalid/problems/too-large", title: "Payload Too Large", status: 413, detail: "file: \(reason)",
            instance: req.url.path, errors: [FieldProblem(field: "file", reason: reason)], requestId: req.storage[RequestIDKey.self])
        let res = Response(status: .payloadTooLarge)
        res.body = .init(data: (try? JSONEncoder().encode(p)) ?? Data())
        res.headers.contentType = HTTPMediaType(type: "application", subType: "problem+json", parameters: ["charset": "utf-8"])
        // The rest of an oversize body is not read: tell the client the connection ends here.
        res.headers.replaceOrAdd(name: .connection, value: "close")
        return res
    }

    // MARK: Reading jobs

    func list(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let limit = req.query[Int.self, at: "limit"] ?? 50
        guard (1...500).contains(limit) else { throw DomainError.invalidField(field: "limit", reason: "must lie in 1…500") }
        let items = try await ImportJobService(req.fengqiao).recent(owner: p.id, limit: limit)
        return try JSONOut.response(Page(items: items.map(JobDTO.init), total: items.count))
    }

    func job(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let j = try await ImportJobService(req.fengqiao).job(try req.uuid("id", kind: "import job"), owner: p.id)
        let res = try JSONOut.response(JobDTO(j))
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }

    /// The rows the job did not write, as CSV (UTF-8 with BOM so Chinese Excel opens it), streamed
    /// from the database page by page.
    func issues(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let svc = ImportJobService(req.fengqiao)
        let id = try req.uuid("id", kind: "import job")
        let j = try await svc.job(id, owner: p.id)
        let res = Response(status: .ok)
        res.headers.replaceOrAdd(name: .contentType, value: "text/csv; charset=utf-8")
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        let base = (j.fileName as NSString).deletingPathExtension
        let ascii = "import-\(id.uuidString.lowercased().prefix(8))-issues.csv"
        let utf8 = (base + "-问题行.csv").addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ascii
        res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(utf8)")
        res.body = .init(managedAsyncStream: { writer in
            var buffer = ByteBuffer(bytes: [0xEF, 0xBB, 0xBF])
            buffer.writeString(ImportJobService.issuesHeader)
            try await writer.writeBuffer(buffer)
            var after = -1
            while true {
                let page = try await svc.issues(id, owner: p.id, afterSeq: after, limit: 2000)
                guard let last = page.last else { break }
                var b = ByteBuffer()
                for i in page { b.writeString(ImportJobService.issueLine(i.issue)) }
                try await writer.writeBuffer(b)
                after = last.seq
            }
        })
        return res
    }

    // MARK: Templates

    /// `GET /import-templates/{kind}?format=csv|xlsx&lang=zh|en`: the header row of the kind, as CSV
    /// (UTF-8 with BOM) or as an XLSX whose first sheet is the header row with every column
    /// formatted as text (ID numbers stay intact) and whose second sheet explains the columns.
    func template(_ req: Request) async throws -> Response {
        guard let raw = req.parameters.get("kind"), let kind = ImportKind.named(raw) else { throw DomainError.notFound(kind: "import template") }
        let lang: ImportTemplate.Language
        switch req.query[String.self, at: "lang"] ?? "zh" {
        case "zh": lang = .chinese
        case "en": lang = .english
        default: throw DomainError.invalidField(field: "lang", reason: "must be zh or en")
        }
        let res = Response(status: .ok)
        let name: String
        switch req.query[String.self, at: "format"] ?? "csv" {
        case "csv":
            res.body = .init(data: kind.template.csvData(lang))
            res.headers.replaceOrAdd(name: .contentType, value: "text/csv; charset=utf-8")
            name = "\(kind.id)-template.csv"
        case "xlsx":
            res.body = .init(data: try ImportTemplateWorkbook.data(kind.template, language: lang))
            res.headers.replaceOrAdd(name: .contentType, value: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            name = "\(kind.id)-template.xlsx"
        default:
            throw DomainError.invalidField(field: "format", reason: "must be csv or xlsx")
        }
        let zh = (lang == .chinese ? kind.labelZH + "导入模板" : kind.labelEN + " import template") + (name.hasSuffix(".xlsx") ? ".xlsx" : ".csv")
        res.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(name)\"; filename*=UTF-8''\(zh.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name)")
        return res
    }
}

extension RoutesBuilder {
    /// A POST whose body is streamed to the handler (`for try await chunk in req.body`) rather than
    /// collected in memory; the handler enforces its own size limit.
    @discardableResult
    func postStreamed<R: AsyncResponseEncodable>(_ path: PathComponent..., access: AccessRule, use handler: @Sendable @escaping (Request) async throws -> R) -> Route {
        let r = on(.POST, path, body: .stream, use: handler)
        r.userInfo["fengqiao.access"] = access
        return r
    }
}

extension Route {
    /// The handler checks the CSRF token itself, from the first field of a streamed form, before it
    /// keeps any uploaded byte (`PrincipalMiddleware` cannot read a body that is not collected).
    var checksCSRFInStreamedForm: Bool { (userInfo["fengqiao.csrfInStreamedForm"] as? Bool) ?? false }

    @discardableResult
    func checkingCSRFInStreamedForm() -> Route {
        userInfo["fengqiao.csrfInStreamedForm"] = true
        return self
    }
}

/// `Idempotency-Key` for the streamed upload, with the semantics of `IdempotencyMiddleware`
/// (replay of the first answer, 422 for the same key with another request, 409 while the first is
/// in flight), claimed once the body's hash is known.
enum StreamedIdempotency {
    enum Claim { case claimed(UUID), answer(Response) }

    static func claim(_ req: Request, owner: UUID, key: String, hash: String) async throws -> Claim {
        let repo = req.fengqiao.idempotency
        let ownerKey = owner.uuidString.lowercased()
        let found = try await req.fengqiao.store.write { db in try await repo.claim(owner: ownerKey, key: key, hash: hash, on: db) }
        switch found {
        case .claimed(let id): return .claimed(id)
        case .mismatch: throw IdempotencyError(status: .unprocessableEntity, reason: "This Idempotency-Key was already used with a different request.")
        case .inFlight: throw IdempotencyError(status: .conflict, reason: "A request with this Idempotency-Key is still being processed.")
        case .replay(let status, let type, let body, let location):
            return .answer(IdempotencyMiddleware.replayed(status: status, type: type, body: body, location: location))
        case .appliedUnanswered(let claim, _, let objectID):
            // The job was stored but the answer was lost (the server stopped in between).
            guard let objectID, let jobID = UUID(uuidString: objectID) else {
                throw IdempotencyError(status: .conflict, reason: "The request with this Idempotency-Key was applied, but its answer was lost; list your imports.")
            }
            let job = try await ImportJobService(req.fengqiao).job(jobID, owner: owner)
            let res = try JSONOut.response(ImportAPIController.JobDTO(job), status: .accepted, location: ImportAPIController.JobDTO(job).links.job)
            await complete(req, claim, res)
            return .answer(IdempotencyMiddleware.replayed(status: 202, type: res.headers.first(name: .contentType), body: res.body.string, location: res.headers.first(name: .location)))
        }
    }

    static func complete(_ req: Request, _ claim: UUID, _ res: Response) async {
        let repo = req.fengqiao.idempotency
        let status = Int(res.status.code)
        let (type, body, location) = (res.headers.first(name: .contentType), res.body.string, res.headers.first(name: .location))
        do {
            try await req.fengqiao.store.write { db in try await repo.complete(claim, status: status, contentType: type, body: body, location: location, on: db) }
        } catch {
            req.logger.error("could not store the answer for Idempotency-Key claim \(claim): \(String(describing: error))")
        }
    }

    static func release(_ req: Request, _ claim: UUID) async {
        let repo = req.fengqiao.idempotency
        do {
            try await req.fengqiao.store.write { db in try await repo.releaseUnapplied(claim, on: db) }
        } catch {
            req.logger.error("could not release Idempotency-Key claim \(claim): \(String(describing: error))")
        }
    }
}
