import Foundation
import ZIPFoundation

/// A minimal Office Open XML workbook (ECMA-376 SpreadsheetML) with one sheet of inline strings,
/// written with ZIPFoundation: a watermark title row, a bold header row (frozen, repeated on
/// printed pages), then the rows; the printed page header and footer repeat who exported it and
/// when, and `docProps/core.xml` names the exporter as creator.
///
/// The sheet is deflated as it is produced: the caller gives its exact byte size (measured in a
/// first pass) and a row source that is read chunk by chunk, so only the compressed archive and
/// one batch of rows are held in memory, never the whole sheet text.
struct XLSXExportWriter: Sendable {
    var sheetName: String
    /// Row 1 (merged across the columns).
    var title: String
    /// Row 2.
    var header: [String]
    /// Column widths in characters.
    var widths: [Int]
    /// Printed page header and footer, plain text (escaped here).
    var pageHeader: String
    var pageFooter: String
    var creator: String
    var created: Date

    enum Failure: Error, CustomStringConvertible {
        case changedDuringExport
        var description: String { "the records changed while the export was written; export again" }
    }

    /// The first data row's number (after the title and header rows).
    static let firstDataRow = 3

    // MARK: Sheet text

    static func columnName(_ index: Int) -> String {
        var n = index + 1
        var s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }

    /// XML text with the five special characters escaped and characters XML 1.0 forbids dropped.
    static func escape(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            switch u {
            case "&": out.append(contentsOf: "&amp;".unicodeScalars)
            case "<": out.append(contentsOf: "&lt;".unicodeScalars)
            case ">": out.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": out.append(contentsOf: "&quot;".unicodeScalars)
            default:
                if u.value < 0x20 && u != "\t" && u != "\n" && u != "\r" { continue }
                if u.value == 0xFFFE || u.value == 0xFFFF { continue }
                out.append(u)
            }
        }
        return String(out)
    }

    /// A row of inline-string cells; empty cells are left out.
    static func row(_ number: Int, _ cells: [String], style: Int = 0) -> String {
        var s = "<row r=\"\(number)\">"
        for (i, c) in cells.enumerated() where !c.isEmpty {
            s += "<c r=\"\(columnName(i))\(number)\" t=\"inlineStr\"\(style == 0 ? "" : " s=\"\(style)\"")><is><t xml:space=\"preserve\">\(escape(c))</t></is></c>"
        }
        return s + "</row>"
    }

    /// Header/footer text: `&` is the control character of these fields and is doubled.
    static func headerFooterText(_ s: String) -> String { escape(s.replacingOccurrences(of: "&", with: "&&")) }

    var sheetPrefix: String {
        let cols = widths.enumerated().map { "<col min=\"\($0.offset + 1)\" max=\"\($0.offset + 1)\" width=\"\($0.element)\" customWidth=\"1\"/>" }.joined()
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="2" topLeftCell="A3" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>\
            <sheetFormatPr defaultRowHeight="15"/><cols>\(cols)</cols><sheetData>
            """ + Self.row(1, [title], style: 1) + Self.row(2, header, style: 1)
    }

    var sheetSuffix: String {
        let last = Self.columnName(max(header.count, 1) - 1)
        return """
            </sheetData><mergeCells count="1"><mergeCell ref="A1:\(last)1"/></mergeCells>\
            <pageMargins left="0.4" right="0.4" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>\
            <pageSetup paperSize="9" orientation="landscape"/>\
            <headerFooter><oddHeader>&amp;L\(Self.headerFooterText(pageHeader))</oddHeader>\
            <oddFooter>&amp;L\(Self.headerFooterText(pageFooter))&amp;R&amp;P / &amp;N</oddFooter></headerFooter></worksheet>
            """
    }

    // MARK: Package parts

    static let contentTypes = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
        <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
        <Default Extension="xml" ContentType="application/xml"/>\
        <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
        <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
        <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
        <Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>\
        </Types>
        """

    static let rootRels = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
        <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>\
        </Relationships>
        """

    static let workbookRels = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
        <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
        <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
        </Relationships>
        """

    static let styles = """
        <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
        <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
        <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
        <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
        <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
        <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
        <cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
        <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
        </styleSheet>
        """

    var workbook: String {
        let name = Self.escape(sheetName)
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
            <sheets><sheet name="\(name)" sheetId="1" r:id="rId1"/></sheets>\
            <definedNames><definedName name="_xlnm.Print_Titles" localSheetId="0">'\(name)'!$1:$2</definedName></definedNames>\
            </workbook>
            """
    }

    var coreProperties: String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" \
            xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\
            <dc:title>\(Self.escape(sheetName))</dc:title><dc:creator>\(Self.escape(creator))</dc:creator><dc:description>\(Self.escape(title))</dc:description>\
            <dcterms:created xsi:type="dcterms:W3CDTF">\(f.string(from: created))</dcterms:created></cp:coreProperties>
            """
    }

    /// The exact byte size of the sheet for rows whose XML totals `bodyBytes`.
    func sheetSize(bodyBytes: Int) -> Int64 {
        Int64(sheetPrefix.utf8.count + bodyBytes + sheetSuffix.utf8.count)
    }

    /// Builds the workbook. `nextRows` returns the next batch of row XML (UTF-8), `nil` at the
    /// end; it runs on the calling thread (a dedicated thread: it may block on the database).
    /// - Throws: `Failure.changedDuringExport` when the rows do not add up to `bodyBytes`.
    func archive(bodyBytes: Int, nextRows: () throws -> Data?) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        func add(_ path: String, _ text: String) throws {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), modificationDate: created, compressionMethod: .deflate) { pos, size in
                data.subdata(in: Int(pos)..<Int(pos) + size)
            }
        }
        try add("[Content_Types].xml", Self.contentTypes)
        try add("_rels/.rels", Self.rootRels)
        try add("docProps/core.xml", coreProperties)
        try add("xl/workbook.xml", workbook)
        try add("xl/_rels/workbook.xml.rels", Self.workbookRels)
        try add("xl/styles.xml", Self.styles)

        // A byte array with a read position, compacted as it is consumed: a `Data` trimmed with
        // `removeFirst` keeps its consumed prefix in the shared storage, so memory would grow with
        // the whole sheet.
        var buffer = [UInt8](sheetPrefix.utf8)
        var start = 0
        var rowsDone = false
        var body = 0
        let suffix = [UInt8](sheetSuffix.utf8)
        func fill(_ wanted: Int) throws {
            while buffer.count - start < wanted && !rowsDone {
                if let d = try nextRows() {
                    body += d.count
                    guard body <= bodyBytes else { throw Failure.changedDuringExport }
                    buffer.append(contentsOf: d)
                } else {
                    guard body == bodyBytes else { throw Failure.changedDuringExport }
                    rowsDone = true
                    buffer.append(contentsOf: suffix)
                }
            }
        }
        try archive.addEntry(with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: sheetSize(bodyBytes: bodyBytes), modificationDate: created,
                             compressionMethod: .deflate, bufferSize: 64 * 1024) { _, size in
            try fill(size)
            guard buffer.count - start >= size else { throw Failure.changedDuringExport }
            let chunk = Data(buffer[start..<start + size])
            start += size
            if start >= 1 << 20 {
                buffer.removeFirst(start)
                start = 0
            }
            return chunk
        }
        try fill(1)
        guard rowsDone, buffer.count == start else { throw Failure.changedDuringExport }
        guard let data = archive.data else { throw Failure.changedDuringExport }
        return data
    }
}
