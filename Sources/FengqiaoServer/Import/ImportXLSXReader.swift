import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Streaming reader of the first worksheet of an .xlsx workbook.
///
/// The archive is opened with ZIPFoundation; the worksheet part is inflated to a temporary file
/// and read with `XMLParser` from an `InputStream`, which parses in small chunks: no DOM of the
/// sheet is built and rows are handed out one at a time. Shared strings are held in memory (they
/// are the workbook's distinct texts, which Excel itself loads whole).
///
/// Values: shared and inline strings as text; numbers as written in the XML (a date is its serial
/// number, see `ImportExcelDate`); booleans as "TRUE"/"FALSE". Formula cells and error values
/// (`#N/A`) become `ImportCellProblem`s on their row. Rows with no value are skipped.
public final class ImportXLSXReader {
    private let archive: Archive
    private let sheetPath: String
    private let sharedStringsPath: String?
    /// True when the workbook counts dates from 1904 (`<workbookPr date1904="1"/>`, old Mac
    /// Excel); pass it to `ImportExcelDate.calendarDate(fromSerial:date1904:)`.
    public let usesDate1904: Bool

    /// Opens the workbook and finds its first worksheet.
    /// - Throws: `ImportFileError.malformedWorkbook` when parts are missing or unreadable.
    public init(fileAt url: URL) throws {
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            throw ImportFileError.malformedWorkbook("not a readable ZIP package")
        }
        var firstSheetID: String?
        var date1904 = false
        if let workbook = try Self.smallPart(archive, "xl/workbook.xml") {
            let finder = ElementFinder(element: "sheet")
            _ = finder.parse(workbook)
            firstSheetID = finder.attributes.first { $0.key == "r:id" || $0.key.hasSuffix(":id") }?.value
            let properties = ElementFinder(element: "workbookPr")
            _ = properties.parse(workbook)
            date1904 = ["1", "true"].contains(properties.attributes["date1904"] ?? "")
        }
        usesDate1904 = date1904
        var sheet = "xl/worksheets/sheet1.xml"
        var strings: String? = "xl/sharedStrings.xml"
        if let rels = try Self.smallPart(archive, "xl/_rels/workbook.xml.rels") {
            let finder = ElementFinder(element: "Relationship", all: true)
            _ = finder.parse(rels)
            for rel in finder.all {
                guard let target = rel["Target"] else { continue }
                let path = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
                if let id = firstSheetID, rel["Id"] == id { sheet = path }
                if rel["Type"]?.hasSuffix("/sharedStrings") == true { strings = path }
            }
        }
        guard archive[sheet] != nil else {
            throw ImportFileError.malformedWorkbook("the workbook has no worksheet")
        }
        sheetPath = sheet
        let zip = archive
        sharedStringsPath = strings.flatMap { zip[$0] == nil ? nil : $0 }
    }

    /// Calls `body` with each non-empty row of the first worksheet, in order. The first row
    /// handed out is taken as the header: later rows are padded to its width, and values past it
    /// give a `.raggedRow` problem. An error thrown by `body` stops reading and is rethrown.
    public func forEachRow(_ body: (ImportRow) throws -> Void) throws {
        let shared = try readSharedStrings()
        try withExtractedPart(sheetPath) { url in
            guard let stream = InputStream(url: url) else {
                throw ImportFileError.malformedWorkbook("the worksheet cannot be read")
            }
            try withoutActuallyEscaping(body) { body in
                let handler = SheetHandler(sharedStrings: shared, body: body)
                let parser = XMLParser(stream: stream)
                parser.delegate = handler
                let ok = parser.parse()
                if let error = handler.bodyError { throw error }
                guard ok else {
                    throw ImportFileError.malformedWorkbook("the worksheet XML is broken near line \(parser.lineNumber)")
                }
                // XMLParser reading a stream reports no error when the input just stops: a
                // worksheet cut short must not import its first half.
                guard handler.rootClosed else {
                    throw ImportFileError.malformedWorkbook("the worksheet ends early near line \(parser.lineNumber) (a truncated or damaged file)")
                }
                if let index = handler.missingSharedString {
                    throw ImportFileError.malformedWorkbook("a cell refers to shared string \(index), which the workbook does not have (a truncated or damaged file)")
                }
            }
        }
    }

    private func readSharedStrings() throws -> [String] {
        guard let path = sharedStringsPath else { return [] }
        var result: [String] = []
        try withExtractedPart(path) { url in
            guard let stream = InputStream(url: url) else { return }
            let handler = SharedStringsHandler()
            let parser = XMLParser(stream: stream)
            parser.delegate = handler
            guard parser.parse() else {
                throw ImportFileError.malformedWorkbook("the shared strings are broken near line \(parser.lineNumber)")
            }
            guard handler.rootClosed else {
                throw ImportFileError.malformedWorkbook("the shared strings end early near line \(parser.lineNumber) (a truncated or damaged file)")
            }
            result = handler.strings
        }
        return result
    }

    /// Inflates one part to a temporary file (chunk by chunk) and removes it afterwards.
    private func withExtractedPart(_ path: String, _ body: (URL) throws -> Void) throws {
        guard let entry = archive[path] else {
            throw ImportFileError.malformedWorkbook("part \(path) is missing")
        }
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("fengqiao-import-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try archive.extract(entry, to: url)
        } catch {
            throw ImportFileError.malformedWorkbook("part \(path) cannot be unpacked")
        }
        try body(url)
    }

    private static func smallPart(_ archive: Archive, _ path: String) throws -> Data? {
        guard let entry = archive[path] else { return nil }
        guard entry.uncompressedSize < 16 * 1024 * 1024 else {
            throw ImportFileError.malformedWorkbook("part \(path) is implausibly large")
        }
        var data = Data()
        do {
            _ = try archive.extract(entry) { data.append($0) }
        } catch {
            throw ImportFileError.malformedWorkbook("part \(path) cannot be unpacked")
        }
        return data
    }
}

/// Collects the attributes of the first (or every) element with a given name in a small part.
private final class ElementFinder: NSObject, XMLParserDelegate {
    let element: String
    let collectAll: Bool
    var attributes: [String: String] = [:]
    var all: [[String: String]] = []
    private var found = false

    init(element: String, all: Bool = false) {
        self.element = element
        collectAll = all
    }

    func parse(_ data: Data) -> Bool {
        let parser = XMLParser(data: data)
        parser.delegate = self
        return parser.parse()
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes attributeDict: [String: String] = [:]) {
        guard localName(name) == element else { return }
        if collectAll {
            all.append(attributeDict)
        } else if !found {
            found = true
            attributes = attributeDict
        }
    }
}

/// `x:row` → `row`: some writers prefix the spreadsheetml namespace.
private func localName(_ name: String) -> Substring {
    if let colon = name.lastIndex(of: ":") { return name[name.index(after: colon)...] }
    return name[...]
}

private final class SharedStringsHandler: NSObject, XMLParserDelegate {
    var strings: [String] = []
    /// Whether the document element (`sst`) was closed: the part was read to its end.
    var rootClosed = false
    private var current = ""
    private var inText = false
    private var inPhonetic = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes attributeDict: [String: String] = [:]) {
        switch localName(name) {
        case "si": current = ""
        case "t": inText = true
        case "rPh": inPhonetic = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch localName(name) {
        case "si": strings.append(current)
        case "t": inText = false
        case "rPh": inPhonetic = false
        case "sst": rootClosed = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText && !inPhonetic { current += string }
    }
}

private final class SheetHandler: NSObject, XMLParserDelegate {
    let sharedStrings: [String]
    let body: (ImportRow) throws -> Void
    var bodyError: (any Error)?
    /// Whether the document element (`worksheet`) was closed: the part was read to its end.
    var rootClosed = false
    /// The first shared-string index a cell used that the table does not have.
    var missingSharedString: Int?

    private var rowNumber = 0
    private var cells: [(column: Int, value: String)] = []
    private var problems: [ImportCellProblem] = []
    private var headerWidth: Int?

    private var cellColumn = 0
    private var cellType = ""
    private var cellHasFormula = false
    private var value = ""
    private var inlineText = ""
    private var inValue = false
    private var inInlineText = false
    private var inPhonetic = false

    init(sharedStrings: [String], body: @escaping (ImportRow) throws -> Void) {
        self.sharedStrings = sharedStrings
        self.body = body
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes attributeDict: [String: String] = [:]) {
        switch localName(name) {
        case "row":
            rowNumber = attributeDict["r"].flatMap { Int($0) } ?? rowNumber + 1
            cells.removeAll(keepingCapacity: true)
            problems.removeAll()
        case "c":
            if let ref = attributeDict["r"].flatMap(ImportCellReference.init) {
                cellColumn = ref.column
            } else {
                cellColumn = (cells.last?.column ?? -1) + 1
            }
            cellType = attributeDict["t"] ?? "n"
            cellHasFormula = false
            value = ""
            inlineText = ""
        case "f": cellHasFormula = true
        case "v": inValue = true
        case "t": inInlineText = true
        case "rPh": inPhonetic = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inValue {
            value += string
        } else if inInlineText && !inPhonetic {
            inlineText += string
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        switch localName(name) {
        case "v": inValue = false
        case "t": inInlineText = false
        case "rPh": inPhonetic = false
        case "c": endCell()
        case "row": endRow(parser)
        case "worksheet": rootClosed = true
        default: break
        }
    }

    private func endCell() {
        let text: String
        switch cellType {
        case "s":
            if let i = Int(value), i >= 0, i < sharedStrings.count {
                text = sharedStrings[i]
            } else {
                if missingSharedString == nil { missingSharedString = Int(value) ?? -1 }
                text = ""
            }
        case "inlineStr": text = inlineText
        case "b": text = value == "1" ? "TRUE" : value == "0" ? "FALSE" : value
        case "e":
            problems.append(ImportCellProblem(line: rowNumber, column: cellColumn + 1, reason: .errorValue(value)))
            text = value
        default: text = value
        }
        if cellHasFormula {
            problems.append(ImportCellProblem(line: rowNumber, column: cellColumn + 1, reason: .formulaCell))
        }
        cells.append((cellColumn, text))
    }

    private func endRow(_ parser: XMLParser) {
        let lastNonEmpty = cells.last { !$0.value.isEmpty }?.column
        guard lastNonEmpty != nil || !problems.isEmpty else { return }
        let used = (lastNonEmpty ?? 0) + 1
        var fields = [String](repeating: "", count: headerWidth.map { max($0, used) } ?? used)
        for cell in cells where cell.column < fields.count { fields[cell.column] = cell.value }
        var row = ImportRow(line: rowNumber, fields: fields, problems: problems)
        if let expected = headerWidth {
            if used > expected {
                row.problems.append(ImportCellProblem(line: rowNumber, column: nil, reason: .raggedRow(expected: expected, found: used)))
            }
        } else {
            headerWidth = used
        }
        do {
            try body(row)
        } catch {
            bodyError = error
            parser.abortParsing()
        }
    }
}
