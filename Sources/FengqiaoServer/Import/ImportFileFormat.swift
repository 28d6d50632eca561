import Foundation
import ZIPFoundation

/// What an uploaded file is, decided from its content, never from its name.
public enum ImportFileFormat: Sendable, Equatable {
    /// Comma-separated text in the given encoding.
    case csv(ImportTextEncoding)
    /// Tab-separated text in the given encoding.
    case tsv(ImportTextEncoding)
    /// An Office Open XML workbook (.xlsx).
    case xlsx

    /// Bytes looked at for signatures, NUL bytes and the delimiter.
    static let sampleSize = 8 * 1024

    /// The field delimiter of a text format.
    var delimiter: UInt8? {
        switch self {
        case .csv: return UInt8(ascii: ",")
        case .tsv: return UInt8(ascii: "\t")
        case .xlsx: return nil
        }
    }

    /// Detects the format of the file at `url`.
    ///
    /// - XLSX: a ZIP (`PK 03 04`) whose `[Content_Types].xml` mentions spreadsheetml.
    /// - Text: byte-order marks first (UTF-8, UTF-16 LE/BE); NUL bytes in the first 8 KiB mean
    ///   binary unless they fall in a UTF-16 pattern; without a mark, strict UTF-8 is tried on the
    ///   text up to its first non-ASCII characters, and GB18030 (GBK's superset) is taken if it fails.
    ///   The delimiter is the more frequent of comma and tab on the first line.
    /// - Throws: `ImportFileError.legacyExcel`, `.binaryFile(kind:)`, `.emptyFile`, `.unreadable`.
    public static func detect(fileAt url: URL) throws -> ImportFileFormat {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw ImportFileError.unreadable(url.lastPathComponent)
        }
        defer { try? handle.close() }
        let sample: [UInt8]
        do { sample = [UInt8](try handle.read(upToCount: sampleSize) ?? Data()) } catch {
            throw ImportFileError.unreadable(String(describing: error))
        }
        guard !sample.isEmpty else { throw ImportFileError.emptyFile }

        if sample.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            guard isSpreadsheetPackage(url) else {
                throw ImportFileError.binaryFile(kind: "a ZIP archive (or a Word/PowerPoint file) but not an Excel workbook")
            }
            return .xlsx
        }
        if let kind = binarySignature(sample) {
            if kind == "legacyExcel" { throw ImportFileError.legacyExcel }
            throw ImportFileError.binaryFile(kind: kind)
        }
        let encoding: ImportTextEncoding
        if sample.starts(with: [0xEF, 0xBB, 0xBF]) {
            encoding = .utf8BOM
        } else if sample.starts(with: [0xFF, 0xFE]) {
            encoding = .utf16LE
        } else if sample.starts(with: [0xFE, 0xFF]) {
            encoding = .utf16BE
        } else if sample.contains(0) {
            guard let utf16 = unmarkedUTF16(sample) else {
                throw ImportFileError.binaryFile(kind: "a binary file (it contains NUL bytes)")
            }
            encoding = utf16
        } else {
            try handle.seek(toOffset: 0)
            encoding = try looksLikeUTF8(handle) ? .utf8 : .gb18030
        }
        return delimiterIsTab(sample, encoding: encoding) ? .tsv(encoding) : .csv(encoding)
    }

    /// Names well-known binary formats by their magic numbers.
    static func binarySignature(_ s: [UInt8]) -> String? {
        let signatures: [([UInt8], String)] = [
            ([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1], "legacyExcel"),
            (Array("%PDF".utf8), "a PDF document"),
            ([0x89, 0x50, 0x4E, 0x47], "a PNG image"),
            ([0xFF, 0xD8, 0xFF], "a JPEG image"),
            (Array("GIF8".utf8), "a GIF image"),
            ([0x1F, 0x8B], "a gzip archive"),
            (Array("Rar!".utf8), "a RAR archive"),
            ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], "a 7-Zip archive"),
            ([0x50, 0x4B, 0x05, 0x06], "an empty ZIP archive"),
            (Array("{\\rtf".utf8), "an RTF document"),
            ([0x7F, 0x45, 0x4C, 0x46], "a program (ELF)"),
        ]
        return signatures.first { s.starts(with: $0.0) }?.1
    }

    /// Excel's own test: the package's content types declare a spreadsheetml main part.
    static func isSpreadsheetPackage(_ url: URL) -> Bool {
        let archive: Archive
        do { archive = try Archive(url: url, accessMode: .read) } catch { return false }
        guard let entry = archive["[Content_Types].xml"], entry.uncompressedSize < 4 * 1024 * 1024 else { return false }
        var data = Data()
        guard (try? archive.extract(entry, consumer: { data.append($0) })) != nil else { return false }
        return String(decoding: data, as: UTF8.self).contains("spreadsheetml")
    }

    /// UTF-16 text without a mark: NULs only at odd offsets (LE, ASCII-range text) or only at even ones (BE).
    static func unmarkedUTF16(_ s: [UInt8]) -> ImportTextEncoding? {
        var even = 0
        var odd = 0
        for (i, byte) in s.enumerated() where byte == 0 {
            if i % 2 == 0 { even += 1 } else { odd += 1 }
        }
        let units = s.count / 2
        guard units > 0 else { return nil }
        if even == 0, odd * 4 >= units { return .utf16LE }
        if odd == 0, even * 4 >= units { return .utf16BE }
        return nil
    }

    /// Strict UTF-8 check of the text up to its first 256 non-ASCII characters (or the end).
    /// GBK text almost never forms valid UTF-8 for long, while UTF-8 Chinese text always does.
    static func looksLikeUTF8(_ handle: FileHandle) throws -> Bool {
        var pending: [UInt8] = []
        var multibyteSeen = 0
        while multibyteSeen < 256 {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 64 * 1024) ?? Data() } catch {
                throw ImportFileError.unreadable(String(describing: error))
            }
            let atEnd = chunk.isEmpty
            pending.append(contentsOf: chunk)
            var i = 0
            while i < pending.count, multibyteSeen < 256 {
                let lead = pending[i]
                if lead < 0x80 { i += 1; continue }
                let length: Int
                var low: UInt8 = 0x80
                var high: UInt8 = 0xBF
                switch lead {
                case 0xC2...0xDF: length = 2
                case 0xE0: length = 3; low = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: length = 3
                case 0xED: length = 3; high = 0x9F
                case 0xF0: length = 4; low = 0x90
                case 0xF1...0xF3: length = 4
                case 0xF4: length = 4; high = 0x8F
                default: return false
                }
                if i + length > pending.count {
                    if atEnd { return false }
                    break
                }
                if pending[i + 1] < low || pending[i + 1] > high { return false }
                for k in 2..<length where pending[i + k] & 0xC0 != 0x80 { return false }
                multibyteSeen += 1
                i += length
            }
            pending.removeFirst(min(i, pending.count))
            if atEnd { return true }
        }
        return true
    }

    /// Tab wins when the first line has more tabs than commas outside quotes.
    static func delimiterIsTab(_ s: [UInt8], encoding: ImportTextEncoding) -> Bool {
        var commas = 0
        var tabs = 0
        var inQuotes = false
        let width = encoding.codeUnitWidth
        var i = 0
        while i + width <= s.count {
            let unit: UInt16
            if width == 1 {
                unit = UInt16(s[i])
            } else if encoding == .utf16LE {
                unit = UInt16(s[i]) | UInt16(s[i + 1]) << 8
            } else {
                unit = UInt16(s[i]) << 8 | UInt16(s[i + 1])
            }
            i += width
            switch unit {
            case 0x22: inQuotes.toggle()
            case 0x2C where !inQuotes: commas += 1
            case 0x09 where !inQuotes: tabs += 1
            case 0x0A where !inQuotes, 0x0D where !inQuotes: return tabs > commas
            default: break
            }
        }
        return tabs > commas
    }
}
