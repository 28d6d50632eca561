import FengqiaoServer
import Foundation
import Testing

@Suite("import: streaming keeps memory flat")
struct ImportStreamingTests {
    /// Writes `count` resident-like rows with a buffered writer (the test must not hold the file either).
    static func writeCSV(rows count: Int) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("import-stream-\(UUID().uuidString).csv")
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var buffer = "姓名,身份证号,联系电话,居住地址,备注\r\n"
        for i in 0..<count {
            buffer += "居民\(i),53048119900101\(String(format: "%04d", i % 10000)),1380000\(String(format: "%04d", i % 10000)),"
            buffer += "\"云南省玉溪市澄江市凤麓街道\(i % 97)号, \(i % 13)单元\",\"备注 \"\"\(i)\"\"\"\r\n"
            if buffer.utf8.count > 256 * 1024 {
                try handle.write(contentsOf: Data(buffer.utf8))
                buffer = ""
            }
        }
        try handle.write(contentsOf: Data(buffer.utf8))
        return url
    }

    /// Resident memory of this process in KiB, from /proc/self/status (nil off Linux).
    static func residentKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }

    /// Reads the whole file; returns rows seen, the reader's peak buffer and the largest RSS growth seen.
    static func stream(_ url: URL) throws -> (rows: Int, peakBuffered: Int, rssGrowthKiB: Int?) {
        let reader = try ImportCSVReader(fileAt: url, format: try ImportFileFormat.detect(fileAt: url))
        let before = residentKiB()
        var maxRSS = before ?? 0
        var rows = 0
        var lastLine = 0
        while let row = try reader.next() {
            precondition(row.problems.isEmpty && row.fields.count == 5 && row.line > lastLine)
            lastLine = row.line
            rows += 1
            if rows % 10_000 == 0, let rss = residentKiB() { maxRSS = max(maxRSS, rss) }
        }
        return (rows, reader.peakBufferedBytes, before.map { maxRSS - $0 })
    }

    @Test("200,000 rows: the reader's buffers do not grow with the file, and resident memory stays flat")
    func flat() throws {
        let small = try Self.writeCSV(rows: 20_000)
        let large = try Self.writeCSV(rows: 200_000)
        defer {
            try? FileManager.default.removeItem(at: small)
            try? FileManager.default.removeItem(at: large)
        }
        let size = (try FileManager.default.attributesOfItem(atPath: large.path)[.size] as? Int) ?? 0
        let a = try Self.stream(small)
        let b = try Self.stream(large)
        #expect(a.rows == 20_001)
        #expect(b.rows == 200_001)
        // Structural bound, independent of other tests running in the same process: the reader
        // holds about two chunks plus one row, the same for 20k and 200k rows (rows differ only
        // by a digit or two in their numbers).
        #expect(b.peakBuffered <= a.peakBuffered + 64)
        #expect(b.peakBuffered < 4 * 64 * 1024)
        // Resident memory is printed for the record, not asserted: other suites run in the same
        // process at the same time, so its growth is not this reader's alone.
        print("import streaming: file \(size) bytes, 200k rows, reader peak buffer \(b.peakBuffered) bytes, RSS growth \(b.rssGrowthKiB.map { "\($0) KiB" } ?? "n/a")")
    }
}

@Suite("import: XLSX streaming")
struct ImportXLSXStreamingTests {
    @Test("100,000-row worksheet: rows arrive one by one, resident memory printed")
    func large() throws {
        var sheet = ""
        sheet.reserveCapacity(10_000_000)
        sheet += "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c></row>"
        for r in 2...100_001 {
            sheet += "<row r=\"\(r)\"><c r=\"A\(r)\" t=\"s\"><v>2</v></c><c r=\"B\(r)\"><v>\(r)</v></c></row>"
        }
        let url = try MinimalWorkbook.write(sheetRows: sheet, sharedStrings: ["姓名", "编号", "张三"])
        defer { try? FileManager.default.removeItem(at: url) }
        sheet = ""
        let before = ImportStreamingTests.residentKiB()
        var maxRSS = before ?? 0
        var count = 0
        var lastLine = 0
        try ImportTableReader(fileAt: url).forEachRow { row in
            precondition(row.line == lastLine + 1 && row.problems.isEmpty)
            lastLine = row.line
            if count > 0 { precondition(row.fields == ["张三", String(row.line)]) }
            count += 1
            if count % 10_000 == 0, let rss = ImportStreamingTests.residentKiB() { maxRSS = max(maxRSS, rss) }
        }
        #expect(count == 100_001)
        print("import XLSX streaming: 100k rows, RSS growth \(before.map { "\(maxRSS - $0) KiB" } ?? "n/a")")
    }
}
