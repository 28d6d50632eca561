import Foundation
import ZIPFoundation

/// A downloadable import template as an Excel workbook (.xlsx, ECMA-376 SpreadsheetML), written with
/// ZIPFoundation. Sheet 1 (导入数据) holds the header row only, frozen, with every column formatted
/// as text so Excel keeps 18-digit ID numbers, leading zeros of codes and phone numbers intact;
/// required columns end in `*` (the importer ignores a trailing `*`); columns with a closed set of
/// values offer it as a drop-down list. Sheet 2 (填写说明) explains each column; the importer reads
/// only the first sheet, so the template imports as it is (with no rows).
enum ImportTemplateWorkbook {
    /// Drop-down values for the fields that take a closed set, per header language. The importer
    /// accepts both the Chinese and the English words.
    static let choices: [String: (zh: [String], en: [String])] = [
        "groupRental": (["是", "否"], ["是", "否"]),
        "keyUnit": (["是", "否"], ["是", "否"]),
        "populationType": (["户籍", "流动", "境外"], ["registered", "migrant", "foreign"]),
        "residenceReason": (["务工", "经商", "就学", "投靠", "婚嫁", "就医", "探亲", "其他"], ["work", "business", "study", "family", "marriage", "medical", "visit", "other"]),
        "housingRelation": (["自有", "租赁", "宿舍", "借住", "其他"], ["owner", "tenant", "dormitory", "relative", "other"]),
        "hukouSeparated": (["是", "否"], ["yes", "no"]),
        "sex": (["男", "女"], ["male", "female"]),
    ]

    /// Rows covered by the formats and drop-downs.
    static let lastRow = 100_000

    static func data(_ template: ImportTemplate, language: ImportTemplate.Language) throws -> Data {
        let archive = try Archive(accessMode: .create)
        for (path, text) in parts(template, language: language) {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let data = archive.data else { throw ImportFileError.malformedWorkbook("the template could not be written") }
        return data
    }

    static func parts(_ template: ImportTemplate, language: ImportTemplate.Language) -> [(String, String)] {
        let zh = language == .chinese
        let ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
        let pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
        let fields = template.fields
        let n = fields.count

        var header = "<row r=\"1\">"
        for (i, f) in fields.enumerated() {
            let name = (zh ? f.chineseHeader : f.englishHeader) + (f.isRequired ? "*" : "")
            header += "<c r=\"\(column(i))1\" s=\"2\" t=\"inlineStr\"><is><t>\(escape(name))</t></is></c>"
        }
        header += "</row>"
        var validations: [String] = []
        for (i, f) in fields.enumerated() {
            guard let c = choices[f.key] else { continue }
            let list = (zh ? c.zh : c.en).joined(separator: ",")
            validations.append("<dataValidation type=\"list\" allowBlank=\"1\" showErrorMessage=\"1\" sqref=\"\(column(i))2:\(column(i))\(lastRow)\"><formula1>\"\(escape(list))\"</formula1></dataValidation>")
        }
        let dataSheet = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="\(ns)" xmlns:r="\(rel)">\
            <sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>\
            <sheetFormatPr defaultRowHeight="15"/>\
            <cols><col min="1" max="\(n)" width="18" style="1" customWidth="1"/></cols>\
            <sheetData>\(header)</sheetData>\
            \(validations.isEmpty ? "" : "<dataValidations count=\"\(validations.count)\">\(validations.joined())</dataValidations>")\
            </worksheet>
            """

        var help: [[String]] = zh
            ? [["列名", "必填", "说明"]]
            : [["Column", "Required", "Notes"]]
        for f in fields {
            help.append([zh ? f.chineseHeader : f.englishHeader, f.isRequired ? (zh ? "是" : "yes") : "", ImportKind.note(for: f, chinese: zh)])
        }
        help.append([])
        help.append(zh
            ? ["填写方法", "", "在“导入数据”表第 2 行起每行填一条记录，不要改动第 1 行表头；带 * 的列必填。各列已设为文本格式，身份证号不会变成科学计数法。也可以另存为 CSV（UTF-8 或 GBK）后上传。同一文件重复导入不会产生重复记录。"]
            : ["How to fill in", "", "One record per row from row 2 of the first sheet; keep the header row as it is; columns marked * are required. Columns are formatted as text so ID numbers stay intact. You may also save as CSV (UTF-8 or GBK). Importing the same file again adds no duplicates."])
        var helpRows = ""
        for (r, cells) in help.enumerated() {
            helpRows += "<row r=\"\(r + 1)\">"
            for (i, v) in cells.enumerated() where !v.isEmpty {
                helpRows += "<c r=\"\(column(i))\(r + 1)\" s=\"\(r == 0 ? 2 : 1)\" t=\"inlineStr\"><is><t>\(escape(v))</t></is></c>"
            }
            helpRows += "</row>"
        }
        let helpSheet = """
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="\(ns)" xmlns:r="\(rel)">\
            <cols><col min="1" max="1" width="22" customWidth="1"/><col min="2" max="2" width="8" customWidth="1"/><col min="3" max="3" width="90" customWidth="1"/></cols>\
            <sheetData>\(helpRows)</sheetData></worksheet>
            """
        let dataName = zh ? "导入数据" : "Data"
        let helpName = zh ? "填写说明" : "Instructions"
        return [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                </Types>
                """),
            ("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="\(pkg)"><Relationship Id="rId1" Type="\(rel)/officeDocument" Target="xl/workbook.xml"/></Relationships>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="\(ns)" xmlns:r="\(rel)"><sheets>\
                <sheet name="\(dataName)" sheetId="1" r:id="rId1"/><sheet name="\(helpName)" sheetId="2" r:id="rId2"/>\
                </sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="\(pkg)">\
                <Relationship Id="rId1" Type="\(rel)/worksheet" Target="worksheets/sheet1.xml"/>\
                <Relationship Id="rId2" Type="\(rel)/worksheet" Target="worksheets/sheet2.xml"/>\
                <Relationship Id="rId3" Type="\(rel)/styles" Target="styles.xml"/>\
                </Relationships>
                """),
            ("xl/styles.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <styleSheet xmlns="\(ns)">\
                <fonts count="2"><font><sz val="11"/><name val="等线"/></font><font><b/><sz val="11"/><name val="等线"/></font></fonts>\
                <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
                <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
                <cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
                <xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
                <xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/></cellXfs>\
                <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
                </styleSheet>
                """),
            ("xl/worksheets/sheet1.xml", dataSheet),
            ("xl/worksheets/sheet2.xml", helpSheet),
        ]
    }

    /// 0 → A, 25 → Z, 26 → AA.
    static func column(_ index: Int) -> String {
        var n = index + 1
        var s = ""
        while n > 0 {
            let r = (n - 1) % 26
            s = String(UnicodeScalar(UInt8(65 + r))) + s
            n = (n - 1) / 26
        }
        return s
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
