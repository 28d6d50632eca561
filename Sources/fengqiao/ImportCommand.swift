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

/// Options shared by the import subcommands.
struct ImportOptions: ParsableArguments {
    @OptionGroup var data: DataOptions
    @Option(help: "Grid code for rows without a 网格编码 (grid code) column or value.") var gridCode: String?
    @Flag(help: "Validate every row and report, without writing anything.") var dryRun = false
    @Option(help: "Write rejected and flagged rows (line, column, reason) to this CSV (UTF-8 with BOM).") var errors: String?
    @Argument(help: "CSV (UTF-8 or GB18030/GBK), TSV or XLSX file with a header row in Chinese or English.") var file: String

    func run(kind: String, _ body: @escaping @Sendable (PopulationImportService, URL, PopulationImportService.Options) async throws -> PopulationImportService.Report) async throws {
        let url = URL(fileURLWithPath: file)
        let options = PopulationImportService.Options(gridCode: gridCode, dryRun: dryRun) { n in
            FileHandle.standardError.write(Data("… \(n) rows\n".utf8))
        }
        let report: PopulationImportService.Report
        do {
            report = try await withApp(data, requireExisting: true) { app in
                try await body(PopulationImportService(app.fengqiao), url, options)
            }
        } catch let e as ImportFileError {
            throw ImportFailed(message: "\(file): \(e.description); nothing was imported")
        }
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
    }
}

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Bulk import of population records (一标三实) from CSV, TSV or XLSX.",
        subcommands: [Residents.self, Addresses.self])

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
}
