import ArgumentParser
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation

/// A file-level failure, printed without the usage text (exit status 1).
struct ImportFailed: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Options shared by the import subcommands. Exit status: 0 when every row was good, 2 when
/// some rows were rejected or flagged for verification (the good rows are kept either way), 1
/// when the file itself was refused (nothing imported).
struct ImportOptions: ParsableArguments {
    @OptionGroup var data: DataOptions
    @Option(help: "Grid code for rows without a 网格编码 (grid code) column or value.") var gridCode: String?
    @Flag(help: "Validate every row and report, without writing anything.") var dryRun = false
    @Option(help: "Write rejected and flagged rows (line, column, reason) to this CSV (UTF-8 with BOM).") var errors: String?
    @Option(help: "Residents: rows per write transaction (larger: fewer commits on big files, longer waits for other writers, more memory).")
    var transactionRows: Int = PopulationImportService.transactionRows
    @Argument(help: "CSV (UTF-8 or GB18030/GBK), TSV or XLSX file with a header row in Chinese or English.") var file: String

    func run(kind: String, _ body: @escaping @Sendable (PopulationImportService, URL, PopulationImportService.Options) async throws -> PopulationImportService.Report) async throws {
        let url = URL(fileURLWithPath: file)
        let bar = ImportProgressBar(interactive: isatty(STDERR_FILENO) == 1)
        let options = PopulationImportService.Options(gridCode: gridCode, dryRun: dryRun, onBatch: { bar.update($0) }, transactionRows: transactionRows)
        let report: PopulationImportService.Report
        do {
            report = try await withApp(data, requireExisting: true) { app in
                try await body(PopulationImportService(app.fengqiao), url, options)
            }
        } catch let e as ImportFileError {
            throw ImportFailed(message: "\(file): \(e.description); nothing was imported")
        }
        bar.finish()
        for w in report.warnings { FileHandle.standardError.write(Data("\(file): warning: \(w)\n".utf8)) }
        for r in (report.rejected.map { ($0, "rejected") } + report.flagged.map { ($0, "flagged for verification") }).sorted(by: { $0.0.line < $1.0.line }) {
            let col = r.0.column.isEmpty ? "" : " [\(r.0.column)]"
            FileHandle.standardError.write(Data("\(file):\(r.0.line):\(col) \(r.1): \(r.0.reason)\n".utf8))
        }
        if let errors {
            try PopulationImportService.issuesCSV(report).write(to: URL(fileURLWithPath: errors))
        }
        let extra = report.addressesCreated > 0 ? " (\(report.addressesCreated) new addresses)" : ""
        print("\((file as NSString).lastPathComponent): \(kind): \(report.summary)\(extra)\(dryRun ? " — dry run, nothing written" : "")")
        // Like diff(1): 0 every row good, 2 some rows rejected or flagged (the good ones are kept), 1 the file itself failed.
        if !report.rejected.isEmpty || !report.flagged.isEmpty { throw ExitCode(2) }
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bulk import of population records (一标三实) from CSV, TSV or XLSX.",
        subcommands: [Residents.self, Addresses.self, Houses.self, Organizations.self])

    struct Residents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import actual residents; each good row is kept, every bad row reported with its line, column and reason.",
            discussion: """
                Columns (Chinese or English headers): 姓名 Name, 证件类型 ID document type (default 111), 证件号码 ID number, \
                人口类型 Population type, 居住事由 Residence reason, 与住所关系 Housing relation, 联系电话 Phone, 登记日期 Registration date, \
                …; the residence as 住址ID Address id or as the address columns (网格编码 街路巷 门牌号 小区名称 楼栋 单元 楼层 户室号). \
                A person whose ID number is already registered at the same address is unchanged; at another address, flagged for verification and not written.
                """)
        @OptionGroup var options: ImportOptions
        func run() async throws {
            try await options.run(kind: "residents") { svc, url, o in
                try await svc.importResidents(fileAt: url, options: o, actor: .commandLine(), visible: .everything)
            }
        }
    }

    struct Addresses: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import standard addresses (网格编码 街路巷 门牌号 小区名称 楼栋 单元 楼层 户室号); existing ones are left unchanged.")
        @OptionGroup var options: ImportOptions
        func run() async throws {
            try await options.run(kind: "addresses") { svc, url, o in
                try await svc.importAddresses(fileAt: url, options: o, actor: .commandLine(), visible: .everything)
            }
        }
    }

    struct Houses: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import actual houses (实有房屋); each good row is kept, every bad row reported with its line, column and reason.",
            discussion: """
                Columns (Chinese or English headers): 房屋编码 House code, 房屋用途 Use, 建筑面积 Area, 产权证类型, 产权证号, 房主姓名 Owner name, \
                房主证件类型, 房主证件号码, 房主联系电话, 房主现住址, 使用状况 Occupancy (自住 出租 空置 借住 单位用房), 出租用途 Rental purpose, \
                承租人姓名 / 承租人证件类型 / 承租人证件号码 / 承租人联系电话 (several tenants separated by ;), 租赁起始日期, 租赁截止日期, 是否群租; \
                the address as 地址ID Address id or as the address columns (网格编码 街路巷 门牌号 小区名称 楼栋 单元 楼层 户室号). \
                A house whose house code is already registered at the address is unchanged.
                """)
        @OptionGroup var options: ImportOptions
        func run() async throws {
            try await options.run(kind: "houses") { svc, url, o in
                try await svc.importHouses(fileAt: url, options: o, actor: .commandLine(), visible: .everything)
            }
        }
    }

    struct Organizations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import actual organisations (实有单位); each good row is kept, every bad row reported with its line, column and reason.",
            discussion: """
                Columns (Chinese or English headers): 统一社会信用代码 USCC, 确认校验 Confirm warnings (是: keep a code whose check character \
                does not match), 单位名称 Name, 单位类型 Type, 行业门类, 行业代码, 法定代表人, 法定代表人证件类型, 法定代表人证件号码, \
                法定代表人联系电话, 治保负责人, 治保负责人电话, 从业人数, 重点单位, 特种行业, 特种行业许可证号; the address as 地址ID or as the \
                address columns. An active organisation with the same USCC at the same address is unchanged; at another address, flagged for \
                verification and not written.
                """)
        @OptionGroup var options: ImportOptions
        func run() async throws {
            try await options.run(kind: "organizations") { svc, url, o in
                try await svc.importOrganizations(fileAt: url, options: o, actor: .commandLine(), visible: .everything)
            }
        }
    }
}

/// The terminal progress display of an import: on a terminal one line redrawn in place
/// (`[██████░░░░]  62%  620,000 rows  41,300 rows/s  0:15`), percentages from the bytes read of a
/// CSV; elsewhere (a log file, a pipe) a plain line every 100,000 rows.
final class ImportProgressBar: @unchecked Sendable {
    private let interactive: Bool
    private let start = Date()
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private var lastLogged = 0
    private var drawn = false

    init(interactive: Bool) { self.interactive = interactive }

    func update(_ r: PopulationImportService.Report) {
        lock.withLock {
            let now = Date()
            let elapsed = now.timeIntervalSince(start)
            let rate = elapsed > 0 ? Int(Double(r.read) / elapsed) : 0
            let rows = r.read.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
            if interactive {
                guard now.timeIntervalSince(lastDraw) >= 0.2 else { return }
                lastDraw = now
                let fraction = r.fileBytes > 0 ? min(1, Double(r.bytesRead) / Double(r.fileBytes)) : 0
                let width = 24
                let full = Int(fraction * Double(width))
                let bar = String(repeating: "█", count: full) + String(repeating: "░", count: width - full)
                let line = String(format: "\r[%@] %3d%%  %@ rows  %d rows/s  %d:%02d  ", bar, Int(fraction * 100), rows, rate, Int(elapsed) / 60, Int(elapsed) % 60)
                FileHandle.standardError.write(Data(line.utf8))
                drawn = true
            } else if r.read / 100_000 != lastLogged / 100_000 {
                lastLogged = r.read
                FileHandle.standardError.write(Data("… \(rows) rows (\(rate) rows/s)\n".utf8))
            }
        }
    }

    /// Ends the redrawn line so later output starts on a fresh one.
    func finish() {
        lock.withLock { if drawn { FileHandle.standardError.write(Data("\n".utf8)) } }
    }
}
