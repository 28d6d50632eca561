import FengqiaoCore
import FengqiaoStore
import Vapor

/// 数据导入 pages: choose a kind and a file (templates and column notes beside the form), upload
/// it as a normal multipart form, then follow the job on its page (refreshed by a small script,
/// or by a meta refresh without JavaScript) and download the rows it did not write.
struct ImportWebController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("imports", access: .permission(.personWrite), use: page)
        routes.postStreamed("imports", access: .permission(.personWrite), use: upload).checkingCSRFInStreamedForm()
        routes.get("imports", ":id", access: .permission(.personWrite), use: jobPage)
    }

    /// Issues shown on the job page; the rest are in the CSV.
    static let issuesShown = 50

    struct Column: Encodable { var header: String; var required: Bool; var notes: String }
    struct KindOption: Encodable {
        var id: String
        var label: String
        var csv: String
        var xlsx: String
        var columns: [Column]
        var selected: Bool
    }

    struct JobRow: Encodable {
        var id: String
        var kind: String
        var fileName: String
        var status: String
        var statusLabel: String
        var created: String
        var dryRun: Bool
        var imported: Int
        var rejected: Int
        var flagged: Int
    }

    struct PageData: Encodable {
        var kinds: [KindOption]
        var jobs: [JobRow]
        var formError: FormError?
        var gridCode: String
        var dryRun: Bool
        var maxBytes: Int
        var maxLabel: String
    }

    static let shanghai = TimeZone(identifier: "Asia/Shanghai") ?? .current

    static func time(_ d: Date?) -> String {
        guard let d else { return "" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = shanghai
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: d)
    }

    static func size(_ bytes: Int64) -> String {
        if bytes >= 1 << 20 { return String(format: "%.1f MB", Double(bytes) / Double(1 << 20)) }
        if bytes >= 1 << 10 { return String(format: "%.1f KB", Double(bytes) / Double(1 << 10)) }
        return "\(bytes) B"
    }

    static func statusLabel(_ s: ImportJob.Status, _ t: [String: String]) -> String { t["import.status.\(s.rawValue)"] ?? s.rawValue }

    static func kindLabel(_ id: String, _ req: Request) -> String { ImportKind.named(id)?.label(Page.lang(req)) ?? id }

    func page(_ req: Request) async throws -> Response {
        try await render(req, formError: nil, values: [:], status: .ok)
    }

    func render(_ req: Request, formError: FormError?, values: [String: String], status: HTTPResponseStatus) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let lang = Page.lang(req)
        let selected = values["kind"] ?? ImportKind.all.first?.id ?? ""
        let kinds = ImportKind.all.filter { p.has($0.permission) }.map { k in
            KindOption(
                id: k.id, label: k.label(lang), csv: "/api/v1/import-templates/\(k.id)?format=csv&lang=\(lang == .zh ? "zh" : "en")",
                xlsx: "/api/v1/import-templates/\(k.id)?format=xlsx&lang=\(lang == .zh ? "zh" : "en")",
                columns: k.template.fields.map { f in
                    Column(header: lang == .zh ? f.chineseHeader : f.englishHeader, required: f.isRequired, notes: ImportKind.note(for: f, chinese: lang == .zh))
                },
                selected: k.id == selected)
        }
        let jobs = try await ImportJobService(req.fengqiao).recent(owner: p.id, limit: 20).map { j in
            JobRow(id: j.id.uuidString.lowercased(), kind: Self.kindLabel(j.kind, req), fileName: j.fileName, status: j.status.rawValue,
                   statusLabel: Self.statusLabel(j.status, t), created: Self.time(j.createdAt), dryRun: j.dryRun,
                   imported: j.counters.imported, rejected: j.counters.rejected, flagged: j.counters.flagged)
        }
        let max = req.fengqiao.config.maxImportBytes
        let data = PageData(kinds: kinds, jobs: jobs, formError: formError, gridCode: values["gridCode"] ?? "",
                            dryRun: (try? ImportJobService.flag(values["dryRun"], field: "dryRun")) ?? false,
                            maxBytes: max, maxLabel: Self.size(Int64(max)))
        return try await Page.render(req, "imports", data, title: t["import.title"]!, status: status)
    }

    // MARK: Upload

    func upload(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = ImportJobService(req.fengqiao)
        let limit = Int64(req.fengqiao.config.maxImportBytes)
        guard let ct = req.headers.contentType, ct.type == "multipart", ct.subType == "form-data", let boundary = ct.parameters["boundary"], !boundary.isEmpty else {
            throw Abort(.unsupportedMediaType, reason: "The import form is sent as multipart/form-data.")
        }
        func fail(_ field: String, _ message: String, _ status: HTTPResponseStatus, _ values: [String: String]) async throws -> Response {
            try await render(req, formError: FormError(form: "import", field: field, message: message, values: values), values: values, status: status)
        }
        // Leave room for the form's other fields and the multipart framing.
        if let n = req.headers.first(name: .contentLength).flatMap(Int64.init), n > limit + 64 * 1024 {
            let res = try await fail("file", t["import.tooLarge"]! + " (" + Self.size(limit) + ")", .payloadTooLarge, [:])
            res.headers.replaceOrAdd(name: .connection, value: "close")
            return res
        }
        let id = UUID()
        let expected = p.tokenID == nil ? p.csrfToken : nil
        func csrfOK(_ fields: [String: String]) -> Bool {
            guard let expected else { return p.tokenID != nil }
            guard let sent = fields["_csrf"], !expected.isEmpty else { return false }
            return constantTimeEquals(sent, expected)
        }
        let form = MultipartFormStream(boundary: boundary, fileField: "file", openFile: { try svc.uploads.open(for: id, limit: limit) }, beforeFile: { fields in
            guard csrfOK(fields) else { throw CSRFError() }
        })
        do {
            let chunks = req.bodyChunks()
            defer { chunks.cancel() }
            for try await chunk in chunks { try form.feed(chunk) }
            try form.finish()
        } catch is UploadTooLarge {
            form.discard()
            let res = try await fail("file", t["import.tooLarge"]! + " (" + Self.size(limit) + ")", .payloadTooLarge, form.fields)
            res.headers.replaceOrAdd(name: .connection, value: "close")
            return res
        } catch {
            form.discard()
            throw error
        }
        guard csrfOK(form.fields) else {
            form.discard()
            throw CSRFError()
        }
        var values = form.fields
        values["_csrf"] = nil
        guard let file = form.file, let name = form.fileName, !name.isEmpty else {
            form.discard()
            return try await fail("file", t["import.nofile"]!, .unprocessableEntity, values)
        }
        let received = try file.finish()
        guard received.bytes > 0 else {
            file.discard()
            return try await fail("file", t["import.empty"]!, .unprocessableEntity, values)
        }
        let r: ImportJobService.Request
        do {
            let kind = try ImportJobService.kind(values["kind"])
            guard p.has(kind.permission) else { throw DomainError.forbidden(reason: "importing \(kind.id) needs \(kind.permission.rawValue)") }
            r = ImportJobService.Request(
                kind: kind, fileName: ImportJobService.displayName(name), dryRun: try ImportJobService.flag(values["dryRun"], field: "dryRun"),
                gridCode: try await svc.checkGrid(values["gridCode"], visible: p.visible))
        } catch {
            file.discard()
            guard let fe = FormError.from(error, form: "import", values: values) else { throw error }
            return try await render(req, formError: fe, values: values, status: .unprocessableEntity)
        }
        let job: ImportJob
        do {
            job = try await svc.create(id: id, r, fileBytes: received.bytes, actor: req.actor, owner: p.id)
        } catch {
            file.discard()
            throw error
        }
        await req.application.importJobs.submit(.init(job: job, kind: r.kind, app: req.fengqiao, actor: req.actor, visible: p.visible))
        return req.redirect(to: "/imports/\(id.uuidString.lowercased())", redirectType: .normal)
    }

    // MARK: Job page

    struct IssueView: Encodable { var line: Int; var column: String; var reason: String; var flagged: Bool }

    struct JobView: Encodable {
        var id: String
        var apiURL: String
        var issuesURL: String
        var kind: String
        var fileName: String
        var fileSize: String
        var dryRun: Bool
        var gridCode: String?
        var status: String
        var statusLabel: String
        var active: Bool
        var counters: ImportJob.Counters
        var estimatedRows: Int
        var hasEstimate: Bool
        var percent: Int
        var hasPercent: Bool
        var checking: Bool
        var created: String
        var started: String
        var finished: String
        var error: String?
        var warnings: [String]
        var issues: [IssueView]
        var hasIssues: Bool
        var moreIssues: Bool
        var statusLabels: [Label]
    }

    struct Label: Encodable { var key: String; var value: String }

    func jobPage(_ req: Request) async throws -> Response {
        let p = try req.requirePrincipal()
        let t = Page.t(req)
        let svc = ImportJobService(req.fengqiao)
        let id = try req.uuid("id", kind: "import job")
        let j = try await svc.job(id, owner: p.id)
        let page = j.status.isFinished ? try await svc.issues(id, owner: p.id, limit: Self.issuesShown + 1) : []
        // Issues are stored in Chinese with their English text; the English page shows that.
        let english = Page.lang(req) == .en
        let idText = id.uuidString.lowercased()
        let view = JobView(
            id: idText, apiURL: "/api/v1/imports/\(idText)", issuesURL: "/api/v1/imports/\(idText)/issues", kind: Self.kindLabel(j.kind, req),
            fileName: j.fileName, fileSize: Self.size(j.fileBytes), dryRun: j.dryRun, gridCode: j.gridCode, status: j.status.rawValue,
            statusLabel: Self.statusLabel(j.status, t), active: !j.status.isFinished, counters: j.counters, estimatedRows: j.estimatedRows ?? 0,
            hasEstimate: j.estimatedRows != nil, percent: Int(((j.fractionDone ?? 0) * 100).rounded(.down)), hasPercent: j.fractionDone != nil, checking: j.status == .running && j.counters.read == 0,
            created: Self.time(j.createdAt), started: Self.time(j.startedAt), finished: Self.time(j.finishedAt), error: j.error, warnings: j.warnings,
            issues: page.prefix(Self.issuesShown).map { IssueView(line: $0.issue.line, column: $0.issue.column, reason: english ? $0.issue.reasonEnglish ?? $0.issue.reason : $0.issue.reason,
                                                                  flagged: $0.issue.kind == .flagged) },
            hasIssues: j.counters.rejected + j.counters.flagged > 0, moreIssues: page.count > Self.issuesShown,
            statusLabels: ImportJob.Status.allCases.map { Label(key: $0.rawValue, value: Self.statusLabel($0, t)) })
        let res = try await Page.render(req, "import-job", view, title: "\(t["import.title"]!) · \(j.fileName)")
        res.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return res
    }
}
