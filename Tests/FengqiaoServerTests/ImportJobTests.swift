import FengqiaoCore
@testable import FengqiaoServer
import FengqiaoStore
import Foundation
import NIOCore
import Testing
import Vapor
import VaporTesting

/// Bulk import from the browser and the API as background jobs: upload → job → counters and the
/// issue list; file-level errors write nothing; size limit; a job is its creator's alone;
/// templates import as they are; jobs left running by a crash are failed at the next start.
@Suite("import jobs", .serialized)
struct ImportJobTests {
    struct Counters: Decodable, Equatable { var read, imported, unchanged, flagged, rejected, addressesCreated: Int }
    struct Links: Decodable { var job: String; var issues: String; var page: String }
    struct Job: Decodable {
        var id: UUID
        var kind: String
        var fileName: String
        var fileBytes: Int
        var dryRun: Bool
        var gridCode: String?
        var status: String
        var counters: Counters
        var estimatedRows: Int?
        var fractionDone: Double?
        var error: String?
        var warnings: [String]
        var links: Links
    }

    static let header = PopulationImportTests.header

    static func id(_ seq: Int, check: Character? = nil) -> String { PopulationImportTests.id(seq, check: check) }

    static func row(_ name: String, _ idNumber: String, phone: String = "13900139000", grid: String, room: String = "201") -> String {
        PopulationImportTests.row(name, idNumber, phone: phone, grid: grid, room: room)
    }

    /// A community police officer of the test community, with an API token.
    static func officer(_ app: Application, _ t: Territory, _ name: String = "officer.a") async throws -> (Account, String) {
        let a = try await makeUser(app, name, .communityPoliceOfficer, TerritoryScope(level: .community, territoryID: t.community.id))
        return (a, try await issueToken(app, a))
    }

    /// `POST /api/v1/imports?…` with the file as the body.
    static func upload(_ app: Application, token: String, query: String, _ bytes: [UInt8], contentType: String = "text/csv", headers extra: HTTPHeaders = [:]) async throws -> TestingHTTPResponse {
        var headers = HTTPHeaders()
        headers.bearerAuthorization = BearerAuthorization(token: token)
        headers.replaceOrAdd(name: .contentType, value: contentType)
        for (k, v) in extra { headers.replaceOrAdd(name: k, value: v) }
        var out: TestingHTTPResponse?
        try await app.testing().test(.POST, "/api/v1/imports?\(query)", headers: headers, body: ByteBuffer(bytes: bytes)) { out = $0 }
        return out!
    }

    static func utf8BOM(_ text: String) -> [UInt8] { [0xEF, 0xBB, 0xBF] + Array(text.utf8) }

    /// Polls the job until it has finished (at most 60 s).
    static func finished(_ app: Application, token: String, _ id: UUID, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Job {
        let deadline = Date().addingTimeInterval(60)
        while true {
            let res = try await apiCall(app, .GET, "/api/v1/imports/\(idText(id))", token: token)
            try #require(res.status == .ok, "GET job: \(res.status) \(res.body.string)", sourceLocation: sourceLocation)
            let j = try json(res, as: Job.self)
            if j.status == "succeeded" || j.status == "failed" { return j }
            try #require(Date() < deadline, "job still \(j.status) after 60 s", sourceLocation: sourceLocation)
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }

    static func residentCount(_ app: Application) async throws -> Int { try await tableCount(app, "actual_residents") }

    static func uploads(_ app: Application) -> [String] {
        let dir = URL(fileURLWithPath: app.fengqiao.config.dataDirectory).appendingPathComponent("imports").path
        return (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
    }

    /// Rebuilds the application's services with another configuration (the upload limit).
    static func reconfigure(_ app: Application, _ change: (inout AppConfig) -> Void) {
        let f = app.fengqiao
        var c = f.config
        change(&c)
        app.fengqiao = Fengqiao(config: c, store: f.store, cipher: f.cipher, passwords: f.passwords)
    }

    // MARK: API

    @Test("API: upload → 202 job → poll to the end; good rows imported and searchable, bad rows in the issues CSV with line, column and reason")
    func apiUploadGoodAndBad() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            let g = t.gridA.code
            let bad = Self.id(2).last == "0" ? Character("1") : Character("0")
            let text = Self.header + Self.row("张三", Self.id(1), grid: g) + Self.row("李四", Self.id(2, check: bad), grid: g)
                + Self.row("王五", Self.id(3), phone: "12345", grid: g) + Self.row("赵六", Self.id(4), grid: g, room: "202")
                + Self.row("钱七", Self.id(5), grid: t.gridC.code)
            let res = try await Self.upload(app, token: token, query: "kind=residents&fileName=%E5%B1%85%E6%B0%91.csv", Self.utf8BOM(text))
            #expect(res.status == .accepted, "\(res.body.string)")
            let job = try json(res, as: Job.self)
            #expect(job.status == "queued" && job.kind == "residents" && job.fileName == "居民.csv" && !job.dryRun)
            #expect(location(res) == "/api/v1/imports/\(idText(job.id))")

            let done = try await Self.finished(app, token: token, job.id)
            #expect(done.status == "succeeded", "\(done.error ?? "")")
            #expect(done.counters == Counters(read: 5, imported: 2, unchanged: 0, flagged: 0, rejected: 3, addressesCreated: 2))
            #expect(done.fractionDone == 1)
            #expect(done.estimatedRows == 5)
            #expect(try await Self.residentCount(app) == 2)
            // The upload is gone once the job has ended.
            #expect(Self.uploads(app).isEmpty)

            // Written rows are searchable by exact ID number (in a POST body).
            let found = try await apiCall(app, .POST, "/api/v1/residents/search", token: token, json: #"{"idNumber":"\#(Self.id(4))"}"#)
            #expect(found.status == .ok)
            #expect(try json(found, as: ListPage<PopulationTests.ResidentOut>.self).items.map(\.name) == ["赵六"])

            let issues = try await apiCall(app, .GET, done.links.issues, token: token)
            #expect(issues.status == .ok)
            #expect(issues.headers.contentType?.subType == "csv")
            #expect(issues.headers.first(name: .contentDisposition)?.hasPrefix("attachment;") == true)
            let bytes = Array(issues.body.readableBytesView)
            #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]), "the CSV starts with a UTF-8 BOM")
            let csv = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            let lines = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "行号 line,列 column,处理 result,原因 reason")
            #expect(lines.count == 4, "\(lines)")
            #expect(lines.dropFirst().map { $0.split(separator: ",").prefix(3).joined(separator: ",") }
                    == ["3,证件号码,未导入 rejected", "4,联系电话,未导入 rejected", "6,网格编码,未导入 rejected"])
            // Reasons in Chinese for the grid workers who fix the file.
            #expect(lines[1].contains("校验码"), "\(lines[1])")
            #expect(lines[3].contains("辖区内没有网格"), "\(lines[3])")

            // My jobs.
            let list = try await apiCall(app, .GET, "/api/v1/imports", token: token)
            #expect(try json(list, as: ListPage<Job>.self).items.map(\.id) == [job.id])
        }
    }

    @Test("API: a file that is not a table fails the job as a whole and writes nothing")
    func binaryFileFails() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<500).map { UInt8($0 % 256) }
            let res = try await Self.upload(app, token: token, query: "kind=residents&gridCode=\(t.gridA.code)", png, contentType: "application/octet-stream")
            #expect(res.status == .accepted)
            let done = try await Self.finished(app, token: token, try json(res, as: Job.self).id)
            #expect(done.status == "failed")
            #expect(done.error?.contains("PNG") == true, "\(done.error ?? "")")
            #expect(done.error?.contains("未导入任何数据") == true && done.error?.contains("nothing was imported") == true)
            #expect(done.counters == Counters(read: 0, imported: 0, unchanged: 0, flagged: 0, rejected: 0, addressesCreated: 0))
            #expect(try await Self.residentCount(app) == 0)
            #expect(try await tableCount(app, "standard_addresses") == 0)
            let issues = try await apiCall(app, .GET, done.links.issues, token: token)
            #expect(String(decoding: Array(issues.body.readableBytesView).dropFirst(3), as: UTF8.self) == "行号 line,列 column,处理 result,原因 reason\r\n")
            #expect(Self.uploads(app).isEmpty)

            // A header without a required column: also nothing written.
            let noName = Self.header.replacingOccurrences(of: "姓名,", with: "") + "\(Self.id(1)),流动,务工,租赁,13900139000,\(t.gridA.code),凤麓路,3号,1,1,2,201\r\n"
            let r2 = try await Self.upload(app, token: token, query: "kind=residents", Self.utf8BOM(noName))
            let d2 = try await Self.finished(app, token: token, try json(r2, as: Job.self).id)
            #expect(d2.status == "failed" && d2.error?.contains("姓名") == true, "\(d2.error ?? "")")
            #expect(try await Self.residentCount(app) == 0)
        }
    }

    @Test("API: bad parameters are 422 naming the field; form and JSON bodies 415; empty body 422 naming file; nothing stored")
    func badRequests() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            let body = Self.utf8BOM(Self.header + Self.row("张三", Self.id(1), grid: t.gridA.code))
            for (query, field) in [("kind=houses-that-do-not-exist", "kind"), ("", "kind"), ("kind=residents&dryRun=maybe", "dryRun"),
                                   ("kind=residents&gridCode=\(t.gridC.code)", "gridCode"), ("kind=residents&gridCode=NOPE", "gridCode")] {
                let res = try await Self.upload(app, token: token, query: query, body)
                #expect(res.status == .unprocessableEntity, "\(query): \(res.status)")
                #expect(problem(res)?.errors?.first?.field == field, "\(query): \(res.body.string)")
            }
            let empty = try await Self.upload(app, token: token, query: "kind=residents", [])
            #expect(empty.status == .unprocessableEntity && problem(empty)?.errors?.first?.field == "file")
            let form = try await Self.upload(app, token: token, query: "kind=residents", body, contentType: "multipart/form-data; boundary=x")
            #expect(form.status == .unsupportedMediaType)
            let jsonBody = try await Self.upload(app, token: token, query: "kind=residents", Array("{}".utf8), contentType: "application/json")
            #expect(jsonBody.status == .unsupportedMediaType)
            #expect(try await tableCount(app, "import_jobs") == 0)
            #expect(Self.uploads(app).isEmpty)
        }
    }

    @Test("API: an upload over the configured limit is 413 naming file, and nothing is kept")
    func oversize() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            Self.reconfigure(app) { $0.maxImportBytes = 4096 }
            var text = Self.header
            for i in 1...100 { text += Self.row("人\(i)", Self.id(i), grid: t.gridA.code) }
            let res = try await Self.upload(app, token: token, query: "kind=residents", Self.utf8BOM(text))
            #expect(res.status == .payloadTooLarge)
            let p = problem(res)
            #expect(p?.status == 413 && p?.errors?.first?.field == "file", "\(res.body.string)")
            #expect(p?.type.hasSuffix("/too-large") == true)
            #expect(try await tableCount(app, "import_jobs") == 0)
            #expect(Self.uploads(app).isEmpty)
            // Just under the limit is accepted.
            let small = try await Self.upload(app, token: token, query: "kind=residents", Self.utf8BOM(Self.header + Self.row("张三", Self.id(1), grid: t.gridA.code)))
            #expect(small.status == .accepted)
            _ = try await Self.finished(app, token: token, try json(small, as: Job.self).id)
        }
    }

    @Test("a job is visible only to the account that created it: others get 404 for the job, its issues and its page")
    func otherUserGets404() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            let (_, other) = try await Self.officer(app, t, "officer.b")
            let res = try await Self.upload(app, token: token, query: "kind=residents", Self.utf8BOM(Self.header + Self.row("张三", Self.id(1), grid: t.gridA.code)))
            let job = try json(res, as: Job.self)
            _ = try await Self.finished(app, token: token, job.id)
            for path in [job.links.job, job.links.issues] {
                let r = try await apiCall(app, .GET, path, token: other)
                #expect(r.status == .notFound, "\(path)")
                #expect(problem(r)?.type.hasSuffix("/not-found") == true)
            }
            #expect(try json(try await apiCall(app, .GET, "/api/v1/imports", token: other), as: ListPage<Job>.self).items.isEmpty)
            // A malformed id is the same 404.
            #expect(try await apiCall(app, .GET, "/api/v1/imports/not-an-id", token: token).status == .notFound)
            var b = Browser(app)
            _ = try await b.login("officer.b")
            #expect(try await b.get(job.links.page).status == .notFound)
            // A role without person:write may not import at all.
            let leader = try await makeUser(app, "leader", .stationLeader, TerritoryScope(level: .station, territoryID: t.station.id))
            let lt = try await issueToken(app, leader)
            let denied = try await Self.upload(app, token: lt, query: "kind=residents", Self.utf8BOM(Self.header))
            #expect(denied.status == .forbidden)
            #expect(try await apiCall(app, .GET, "/api/v1/imports", token: lt).status == .forbidden)
        }
    }

    @Test("Idempotency-Key: a retry with the same file replays the first job; the same key with another file is 422")
    func idempotentUpload() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            let file = Self.utf8BOM(Self.header + Self.row("张三", Self.id(1), grid: t.gridA.code))
            let key: HTTPHeaders = ["Idempotency-Key": "upload-1"]
            let first = try await Self.upload(app, token: token, query: "kind=residents", file, headers: key)
            #expect(first.status == .accepted)
            let again = try await Self.upload(app, token: token, query: "kind=residents", file, headers: key)
            #expect(again.status == .accepted)
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(try json(again, as: Job.self).id == json(first, as: Job.self).id)
            let other = try await Self.upload(app, token: token, query: "kind=residents", file + Array("李四,x\r\n".utf8), headers: key)
            #expect(other.status == .unprocessableEntity)
            #expect(problem(other)?.type.hasSuffix("/idempotency") == true)
            let dry = try await Self.upload(app, token: token, query: "kind=residents&dryRun=true", file, headers: key)
            #expect(dry.status == .unprocessableEntity, "another query with the same key is another request")
            _ = try await Self.finished(app, token: token, try json(first, as: Job.self).id)
            #expect(try await tableCount(app, "import_jobs") == 1)
            #expect(try await Self.residentCount(app) == 1)
            #expect(Self.uploads(app).isEmpty)
        }
    }

    @Test("dry run: counted, nothing written; re-import of the same file adds no duplicates")
    func dryRunAndReimport() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            let file = Self.utf8BOM(Self.header + Self.row("张三", Self.id(1), grid: t.gridA.code) + Self.row("李四", Self.id(2), grid: t.gridA.code))
            let dry = try await Self.finished(app, token: token, try json(try await Self.upload(app, token: token, query: "kind=residents&dryRun=true", file), as: Job.self).id)
            #expect(dry.dryRun && dry.status == "succeeded" && dry.counters.imported == 2)
            #expect(try await Self.residentCount(app) == 0)
            let real = try await Self.finished(app, token: token, try json(try await Self.upload(app, token: token, query: "kind=residents", file), as: Job.self).id)
            #expect(real.counters.imported == 2)
            let again = try await Self.finished(app, token: token, try json(try await Self.upload(app, token: token, query: "kind=residents", file), as: Job.self).id)
            #expect(again.counters.imported == 0 && again.counters.unchanged == 2)
            #expect(try await Self.residentCount(app) == 2)
        }
    }

    // MARK: Templates

    @Test("templates: the CSV template filled in row by row imports; the XLSX template reads back with text columns and imports as it is")
    func templatesRoundTrip() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            let csv = try await apiCall(app, .GET, "/api/v1/import-templates/residents?format=csv", token: token)
            #expect(csv.status == .ok && csv.headers.contentType?.subType == "csv")
            let bytes = Array(csv.body.readableBytesView)
            #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
            let header = String(decoding: bytes.dropFirst(3), as: UTF8.self).trimmingCharacters(in: .newlines).components(separatedBy: ",")
            #expect(header == PopulationImportService.residentTemplate.headerRow(.chinese))
            // Fill in two rows in the template's own column order.
            let values: [String: String] = [
                "姓名": "孙八", "证件号码": Self.id(8), "人口类型": "户籍", "居住事由": "务工", "与住所关系": "自有", "联系电话": "13900139008",
                "网格编码": t.gridA.code, "街路巷": "凤麓路", "门牌号": "8号", "楼栋": "1", "单元": "1", "楼层": "2", "户室号": "208",
            ]
            var text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            for (n, id) in [("孙八", Self.id(8)), ("周九", Self.id(9))] {
                var v = values
                v["姓名"] = n
                v["证件号码"] = id
                text += header.map { v[$0] ?? "" }.joined(separator: ",") + "\r\n"
            }
            let res = try await Self.upload(app, token: token, query: "kind=residents", Self.utf8BOM(text))
            let done = try await Self.finished(app, token: token, try json(res, as: Job.self).id)
            #expect(done.status == "succeeded" && done.counters.imported == 2 && done.counters.rejected == 0, "\(done)")

            let en = try await apiCall(app, .GET, "/api/v1/import-templates/addresses?format=csv&lang=en", token: token)
            #expect(String(decoding: Array(en.body.readableBytesView).dropFirst(3), as: UTF8.self).hasPrefix("Grid code,"))

            let xlsx = try await apiCall(app, .GET, "/api/v1/import-templates/residents?format=xlsx", token: token)
            #expect(xlsx.status == .ok)
            #expect(xlsx.headers.contentType?.subType == "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            let xbytes = Array(xlsx.body.readableBytesView)
            let url = try ImportFixtures.temporaryFile(xbytes, suffix: ".xlsx")
            defer { try? FileManager.default.removeItem(at: url) }
            let rows = try ImportFixtures.rows(url)
            #expect(rows.count == 1)
            #expect(rows.first?.fields.map { $0.hasSuffix("*") ? String($0.dropLast()) : $0 } == PopulationImportService.residentTemplate.headerRow(.chinese))
            #expect(rows.first?.fields.first == "姓名*")
            let xres = try await Self.upload(app, token: token, query: "kind=residents", xbytes, contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            let xdone = try await Self.finished(app, token: token, try json(xres, as: Job.self).id)
            #expect(xdone.status == "succeeded" && xdone.counters.read == 0, "\(xdone.error ?? "")")

            #expect(try await apiCall(app, .GET, "/api/v1/import-templates/nothing", token: token).status == .notFound)
            #expect(try await apiCall(app, .GET, "/api/v1/import-templates/residents?format=pdf", token: token).status == .unprocessableEntity)
        }
    }

    @Test("every import kind: its CSV and XLSX templates (zh and en) import as they are, and the import page offers it")
    func everyKindsTemplatesImport() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            #expect(ImportKind.all.map(\.id) == ["residents", "addresses", "houses", "organizations"])
            for kind in ImportKind.all {
                for (format, type) in [("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")] {
                    for lang in ["zh", "en"] {
                        let res = try await apiCall(app, .GET, "/api/v1/import-templates/\(kind.id)?format=\(format)&lang=\(lang)", token: token)
                        #expect(res.status == .ok, "\(kind.id) \(format) \(lang)")
                        let up = try await Self.upload(app, token: token, query: "kind=\(kind.id)", Array(res.body.readableBytesView), contentType: type)
                        #expect(up.status == .accepted, "\(kind.id) \(format) \(lang): \(up.body.string)")
                        let done = try await Self.finished(app, token: token, try json(up, as: Job.self).id)
                        #expect(done.status == "succeeded" && done.counters.read == 0 && done.warnings == ["the file has a header row but no data rows: nothing to import"], "\(kind.id) \(format) \(lang): \(done.error ?? "") \(done.warnings)")
                    }
                }
            }
            var b = Browser(app)
            _ = try await b.login("officer.a")
            let page = try await b.get("/imports").body.string
            for kind in ImportKind.all { #expect(page.contains("<option value=\"\(kind.id)\""), "\(kind.id)") }
        }
    }

    // MARK: Web

    static func multipart(boundary: String, csrf: String?, fields: [(String, String)], file: (name: String, bytes: [UInt8])?) -> [UInt8] {
        var out: [UInt8] = []
        func add(_ s: String) { out += Array(s.utf8) }
        if let csrf { add("--\(boundary)\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(csrf)\r\n") }
        for (k, v) in fields { add("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(k)\"\r\n\r\n\(v)\r\n") }
        if let file {
            add("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\nContent-Type: text/csv\r\n\r\n")
            out += file.bytes
            add("\r\n")
        }
        add("--\(boundary)--\r\n")
        return out
    }

    static func postForm(_ b: inout Browser, _ body: [UInt8], boundary: String) async throws -> TestingHTTPResponse {
        var headers = b.cookieHeader
        headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
        var out: TestingHTTPResponse?
        try await b.app.testing().test(.POST, "/imports", headers: headers, body: ByteBuffer(bytes: body)) { out = $0 }
        b.absorb(out!)
        return out!
    }

    @Test("web: the import page (nav link, templates), a multipart upload with the CSRF token → job page with counters and issues; without the token 403 and nothing kept")
    func webFlow() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (_, token) = try await Self.officer(app, t)
            var b = Browser(app)
            _ = try await b.login("officer.a")
            let page = try await b.get("/imports")
            #expect(page.status == .ok)
            let html = page.body.string
            #expect(html.contains("href=\"/imports\""), "nav link")
            #expect(html.contains("enctype=\"multipart/form-data\""))
            #expect(html.contains("/api/v1/import-templates/residents?format=xlsx"))
            #expect(html.contains("<script src=\"/js/imports.js\""))
            #expect(!html.contains("<script>"), "no inline script (CSP script-src 'self')")

            let boundary = "----fq\(UUID().uuidString.prefix(8))"
            let g = t.gridA.code
            let bad = Self.id(2).last == "0" ? Character("1") : Character("0")
            // GB18030 text: the web form takes what Chinese Excel writes.
            let text = "姓名,证件号码,人口类型,居住事由,与住所关系,街路巷,门牌号,楼栋,单元,楼层,户室号\r\n"
                + "张三,\(Self.id(1)),流动,务工,租赁,凤麓路,3号,1,1,2,201\r\n李四,\(Self.id(2, check: bad)),流动,务工,租赁,凤麓路,3号,1,1,2,201\r\n"
            let gbk = try #require(Self.gb18030(text))

            // Without the CSRF token: refused before anything is kept.
            let forged = try await Self.postForm(&b, Self.multipart(boundary: boundary, csrf: nil, fields: [("kind", "residents")], file: ("a.csv", gbk)), boundary: boundary)
            #expect(forged.status == .forbidden)
            let wrong = try await Self.postForm(&b, Self.multipart(boundary: boundary, csrf: "wrong", fields: [("kind", "residents")], file: ("a.csv", gbk)), boundary: boundary)
            #expect(wrong.status == .forbidden)
            #expect(try await tableCount(app, "import_jobs") == 0)
            #expect(Self.uploads(app).isEmpty)

            // No file chosen: the page again with the message, 422.
            let nofile = try await Self.postForm(&b, Self.multipart(boundary: boundary, csrf: b.csrf, fields: [("kind", "residents")], file: ("", [])), boundary: boundary)
            #expect(nofile.status == .unprocessableEntity)
            #expect(nofile.body.string.contains("请选择要上传的文件"))

            let res = try await Self.postForm(&b, Self.multipart(boundary: boundary, csrf: b.csrf, fields: [("kind", "residents"), ("gridCode", g)], file: ("住户 登记.csv", gbk)), boundary: boundary)
            #expect(res.status == .seeOther, "\(res.status) \(res.body.string.prefix(300))")
            let target = try #require(location(res))
            #expect(target.hasPrefix("/imports/"))
            let id = try #require(UUID(uuidString: String(target.dropFirst("/imports/".count))))
            let running = try await b.get(target)
            #expect(running.status == .ok)
            #expect(running.body.string.contains("住户 登记.csv"))

            let done = try await Self.finished(app, token: token, id)
            #expect(done.status == "succeeded" && done.gridCode == g, "\(done.error ?? "")")
            #expect(done.counters.imported == 1 && done.counters.rejected == 1)
            let finished = try await b.get(target).body.string
            #expect(finished.contains("/api/v1/imports/\(idText(id))/issues"), "download link")
            #expect(finished.contains("<td>3</td><td>证件号码</td>"), "issue row with line and column")
            #expect(!finished.contains("http-equiv=\"refresh\""), "a finished job does not refresh")
            #expect(!finished.contains("/js/import-job.js"))
            // While running, the page refreshes itself without JavaScript and polls with the script.
            #expect(running.body.string.contains("/js/import-job.js") || running.body.string.contains("已完成"))
            // The session's CSV download works from the page's link.
            let csv = try await b.get("/api/v1/imports/\(idText(id))/issues")
            #expect(csv.status == .ok && csv.body.string.contains("3,证件号码,未导入 rejected"))
            // The list on the import page.
            #expect(try await b.get("/imports").body.string.contains("/imports/\(idText(id))"))
            #expect(Self.uploads(app).isEmpty)
        }
    }

    @Test("web: a file over the limit (counted while streaming) gives the form again with 413, nothing kept")
    func webOversize() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            _ = try await Self.officer(app, t)
            Self.reconfigure(app) { $0.maxImportBytes = 2048 }
            var b = Browser(app)
            _ = try await b.login("officer.a")
            _ = try await b.get("/imports")
            let boundary = "fqboundary"
            var text = Self.header
            for i in 1...60 { text += Self.row("人\(i)", Self.id(i), grid: t.gridA.code) }
            let res = try await Self.postForm(&b, Self.multipart(boundary: boundary, csrf: b.csrf, fields: [("kind", "residents")], file: ("big.csv", Self.utf8BOM(text))), boundary: boundary)
            #expect(res.status == .payloadTooLarge)
            #expect(res.body.string.contains("文件超过大小上限"))
            #expect(try await tableCount(app, "import_jobs") == 0)
            #expect(Self.uploads(app).isEmpty)
        }
    }

    @Test("the multipart reader handles a body arriving one byte at a time and takes the file name from the form")
    func multipartByteByByte() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fq-mp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let uploads = ImportUploads(dataDirectory: dir.path)
        let id = UUID()
        let content = Array("a,b\r\n1,2\r\n--not-a-boundary\r\n".utf8)
        let body = Self.multipart(boundary: "XyZ", csrf: "tok", fields: [("kind", "addresses"), ("dryRun", "true")], file: ("x\\y\\地址.csv", content))
        var seen: [String: String] = [:]
        let form = MultipartFormStream(boundary: "XyZ", fileField: "file", openFile: { try uploads.open(for: id, limit: 1 << 20) }, beforeFile: { seen = $0 })
        for byte in body { try form.feed(ByteBuffer(bytes: [byte])) }
        try form.finish()
        #expect(seen == ["_csrf": "tok", "kind": "addresses", "dryRun": "true"])
        #expect(form.fileName == "x\\y\\地址.csv")
        #expect(ImportJobService.displayName(form.fileName) == "地址.csv")
        let r = try #require(form.file).finish()
        #expect(r.bytes == Int64(content.count))
        #expect(try Data(contentsOf: uploads.url(for: id)) == Data(content))
        let mode = try FileManager.default.attributesOfItem(atPath: uploads.url(for: id).path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let dirMode = try FileManager.default.attributesOfItem(atPath: uploads.directory.path)[.posixPermissions] as? Int
        #expect(dirMode == 0o700)
    }

    // MARK: Crash recovery

    @Test("at server start, jobs a crash left queued or running are marked failed (re-uploading is safe) and their uploads removed")
    func crashRecovery() async throws {
        try await withApp { app in
            let t = try await seedTerritory(app)
            let (officer, token) = try await Self.officer(app, t)
            let repo = ImportJobRepository()
            let longAgo = Date().addingTimeInterval(-3600)
            let crashed = ImportJob(id: UUID(), kind: "residents", fileName: "a.csv", fileBytes: 10, dryRun: false, gridCode: nil, status: .queued, createdBy: officer.id, createdAt: longAgo)
            let fresh = ImportJob(id: UUID(), kind: "residents", fileName: "b.csv", fileBytes: 10, dryRun: false, gridCode: nil, status: .queued, createdBy: officer.id, createdAt: Date())
            try await app.fengqiao.store.write { db in
                try await repo.insert(crashed, on: db)
                try await repo.markRunning(crashed.id, estimatedRows: 100, at: longAgo, on: db)
                try await repo.progress(crashed.id, .init(read: 40, imported: 40), at: longAgo, on: db)
                try await repo.insert(fresh, on: db)
            }
            let uploads = ImportUploads(dataDirectory: app.fengqiao.config.dataDirectory)
            let leftover = try uploads.open(for: crashed.id, limit: 100)
            _ = try leftover.finish()
            #expect(Self.uploads(app).count == 1)

            try await app.asyncBoot()

            let j = try json(try await apiCall(app, .GET, "/api/v1/imports/\(idText(crashed.id))", token: token), as: Job.self)
            #expect(j.status == "failed")
            #expect(j.error?.contains("重新上传同一文件是安全的") == true && j.error?.contains("Uploading the same file again is safe") == true, "\(j.error ?? "")")
            #expect(j.counters.read == 40, "the counters reached before the crash stay")
            #expect(Self.uploads(app).isEmpty)
            let f = try json(try await apiCall(app, .GET, "/api/v1/imports/\(idText(fresh.id))", token: token), as: Job.self)
            // SQLite: one server per database file, so every unfinished job is dead. PostgreSQL:
            // a job refreshed within the last minute may belong to another live server.
            #expect(f.status == (TestDatabase.dialect == .sqlite ? "failed" : "queued"))
        }
    }

    /// GB18030 bytes of `text` (through iconv, as Chinese Excel would write them).
    static func gb18030(_ text: String) -> [UInt8]? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/iconv")
        p.arguments = ["-f", "UTF-8", "-t", "GB18030"]
        let input = Pipe()
        let output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        do { try p.run() } catch { return nil }
        input.fileHandleForWriting.write(Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? Array(data) : nil
    }
}
