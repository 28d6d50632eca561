import FengqiaoCore
import FengqiaoStore
import Foundation

/// One kind of record that can be bulk imported from the browser or the API (`?kind=residents`):
/// its template, its label, the right it needs, and the import engine call. Adding a kind is one
/// entry in `all`.
struct ImportKind: Sendable {
    /// The engine call: the file, the options, who imports, what they may see.
    typealias Run = @Sendable (Fengqiao, URL, PopulationImportService.Options, Actor, VisibleTerritory) async throws -> PopulationImportService.Report

    /// Stable id used in URLs and stored with the job.
    let id: String
    let labelZH: String
    let labelEN: String
    let template: ImportTemplate
    /// The right an import of this kind needs (on top of the route's).
    let permission: Permission
    let run: Run

    init(_ id: String, _ labelZH: String, _ labelEN: String, template: ImportTemplate, permission: Permission = .personWrite, run: @escaping Run) {
        self.id = id
        self.labelZH = labelZH
        self.labelEN = labelEN
        self.template = template
        self.permission = permission
        self.run = run
    }

    /// Every importable kind, in the order the import page offers them.
    static let all: [ImportKind] = [
        ImportKind("residents", "实有人口", "Actual residents", template: PopulationImportService.residentTemplate) { app, url, o, a, v in
            try await PopulationImportService(app).importResidents(fileAt: url, options: o, actor: a, visible: v)
        },
        ImportKind("addresses", "标准地址", "Standard addresses", template: PopulationImportService.addressTemplate) { app, url, o, a, v in
            try await PopulationImportService(app).importAddresses(fileAt: url, options: o, actor: a, visible: v)
        },
        ImportKind("houses", "实有房屋", "Actual houses", template: PopulationImportService.houseTemplate) { app, url, o, a, v in
            try await PopulationImportService(app).importHouses(fileAt: url, options: o, actor: a, visible: v)
        },
        ImportKind("organizations", "实有单位", "Actual organisations", template: PopulationImportService.organizationTemplate) { app, url, o, a, v in
            try await PopulationImportService(app).importOrganizations(fileAt: url, options: o, actor: a, visible: v)
        },
    ]

    static func named(_ id: String) -> ImportKind? { all.first { $0.id == id } }

    /// Column notes for the import page and the XLSX template, by field key, in both languages
    /// (the templates' own hints are English and written for the command line). A field without
    /// an entry shows its template hint.
    static let notes: [String: (zh: String, en: String)] = [
        "idDocType": ("GA/T 517 代码或名称，不填为 111 居民身份证", "GA/T 517 code or name; default 111 resident identity card"),
        "idNumber": ("居民身份证 18 位（末位可为 X），或 15 位一代证", "18 characters (last may be X), or a 15-digit first-generation number"),
        "sex": ("居民身份证可不填，由号码推出", "may be left empty for identity cards (taken from the number)"),
        "birthDate": ("YYYY-MM-DD；居民身份证可不填", "YYYY-MM-DD; may be left empty for identity cards"),
        "ethnicity": ("GB/T 3304 代码或名称，如 01、汉族或汉", "GB/T 3304 code or name, e.g. 01, 汉族 or 汉"),
        "registeredAt": ("YYYY-MM-DD，不填为当天", "YYYY-MM-DD; default today"),
        "phone": ("11 位手机号或带区号的固定电话", "11-digit mobile or a landline with area code"),
        "residenceAddressId": ("已登记标准地址的 ID；不填则按下面的地址各列匹配或新建", "id of a registered standard address; otherwise the address columns below are matched or created"),
        "addressId": ("已登记标准地址的 ID；不填则按下面的地址各列匹配或新建", "id of a registered standard address; otherwise the address columns below are matched or created"),
        "gridCode": ("网格编码；整个文件属于同一网格时可不填此列，在上传页面填写", "grid code; if the whole file belongs to one grid, leave it out and give it on the upload form"),
        "divisionCode12": ("12 位统计用区划代码，可不填", "12-digit statistical division code, optional"),
    ]

    /// Address parts a resident row needs unless it gives an address id.
    static let addressParts: Set<String> = ["street", "doorplate", "building", "unit", "floor", "room"]

    /// The note shown for a column: its closed set of values, then the note above.
    static func note(for f: ImportTemplate.Field, chinese: Bool) -> String {
        var parts: [String] = []
        if let c = ImportTemplateWorkbook.choices[f.key] {
            parts.append(chinese ? "可选：" + c.zh.joined(separator: "、") : "one of: " + c.en.joined(separator: ", "))
        } else if let n = notes[f.key] {
            parts.append(chinese ? n.zh : n.en)
        } else if !f.hint.isEmpty, !chinese || f.hint.unicodeScalars.contains(where: { (0x4E00...0x9FFF).contains($0.value) }) {
            // The templates' hints are English, except lists of Chinese values, which serve both.
            parts.append(f.hint)
        }
        if !f.isRequired, addressParts.contains(f.key) {
            parts.append(chinese ? "不填地址 ID 时必填" : "required unless an address id is given")
        }
        return parts.joined(separator: chinese ? "；" : "; ")
    }

    func label(_ lang: L10n.Lang) -> String { lang == .zh ? labelZH : labelEN }
}
