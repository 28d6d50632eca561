import FengqiaoServer
import Foundation

/// Fixture files for the import reader tests (Tests/FengqiaoServerTests/Fixtures/import).
enum ImportFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/import")

    static func url(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// A fresh temporary file with `bytes`; the caller removes it.
    static func temporaryFile(_ bytes: [UInt8], suffix: String = ".csv") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("import-test-\(UUID().uuidString)\(suffix)")
        try Data(bytes).write(to: url)
        return url
    }

    static func temporaryFile(_ text: String, suffix: String = ".csv") throws -> URL {
        try temporaryFile(Array(text.utf8), suffix: suffix)
    }

    /// Every row of a file, read through the format detection.
    static func rows(_ url: URL, chunkSize: Int = 64 * 1024) throws -> [ImportRow] {
        var rows: [ImportRow] = []
        try ImportTableReader(fileAt: url, chunkSize: chunkSize).forEachRow { rows.append($0) }
        return rows
    }

    /// The error a throwing expression raises, as an `ImportFileError`.
    static func importError(_ body: () throws -> Void) -> ImportFileError? {
        do {
            try body()
            return nil
        } catch let error as ImportFileError {
            return error
        } catch {
            return nil
        }
    }
}
