import ArgumentParser
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation

struct DivisionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "divisions", abstract: "Division reference data (行政区划).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load divisions from a file made by scripts/refdata/generate, reporting every rejected line.",
            discussion: """
                Without --historic FILE is divisions-current.tsv (code, name, level, parent_code, tab-separated): \
                new codes are added and existing ones updated. With --historic FILE is county-codes-historic.txt \
                (code, name): codes not yet in the table are added as historic; current rows are never changed. \
                Good rows are written in one transaction with one audit record; bad lines are listed and skipped.
                """)
        @OptionGroup var data: DataOptions
        @Flag(help: "FILE lists historic codes (code<TAB>name); add them without overwriting current rows.") var historic = false
        @Argument(help: "The division file (UTF-8).") var file: String

        func run() async throws {
            guard let bytes = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let text: String
            do { text = try DivisionFileParser.text(bytes) } catch { throw ValidationError("\(file): \(error)") }
            let source = (file as NSString).lastPathComponent
            let outcome = try await withApp(data) { app in
                let service = DivisionImportService(app.fengqiao)
                return historic
                    ? try await service.importHistoric(text: text, source: source, actor: .commandLine())
                    : try await service.importCurrent(text: text, source: source, actor: .commandLine())
            }
            for r in outcome.rejections {
                FileHandle.standardError.write(Data("\(file):\(r.line): \(r.reason)\n".utf8))
            }
            let w = outcome.written
            let kept = historic ? "already present, left unchanged" : "updated"
            print("\(source): \(w.rows + outcome.rejections.count) rows read, \(w.rows) imported (\(w.inserted) new, \(w.existing) \(kept)), \(outcome.rejections.count) rejected")
        }
    }
}
