/// 民族 — the ethnicity codes of GB/T 3304-1991 《中国各民族名称的罗马字母拼写法和代码》: the 56
/// recognised nationalities `01`–`56`, `97` 其他未识别民族 and `98` 外国血统中国籍人士. Domain
/// spec §3.1 (ActualResident.ethnicity, GB/T 3304).
///
/// A value is accepted as the two-digit code (`01`), the same code without its leading zero
/// (`1`: what Excel makes of `01` in a number cell), or the name with or without the final 族
/// (`汉族`, `汉`); it is stored as the two-digit code. Names outside the table (for example
/// 穿青人, which GB/T 3304 does not list) are refused.
public enum Ethnicity {
    /// Code → standard name, in code order.
    public static let table: [(code: String, name: String)] = [
        ("01", "汉族"), ("02", "蒙古族"), ("03", "回族"), ("04", "藏族"), ("05", "维吾尔族"), ("06", "苗族"), ("07", "彝族"), ("08", "壮族"),
        ("09", "布依族"), ("10", "朝鲜族"), ("11", "满族"), ("12", "侗族"), ("13", "瑶族"), ("14", "白族"), ("15", "土家族"), ("16", "哈尼族"),
        ("17", "哈萨克族"), ("18", "傣族"), ("19", "黎族"), ("20", "傈僳族"), ("21", "佤族"), ("22", "畲族"), ("23", "高山族"), ("24", "拉祜族"),
        ("25", "水族"), ("26", "东乡族"), ("27", "纳西族"), ("28", "景颇族"), ("29", "柯尔克孜族"), ("30", "土族"), ("31", "达斡尔族"),
        ("32", "仫佬族"), ("33", "羌族"), ("34", "布朗族"), ("35", "撒拉族"), ("36", "毛南族"), ("37", "仡佬族"), ("38", "锡伯族"), ("39", "阿昌族"),
        ("40", "普米族"), ("41", "塔吉克族"), ("42", "怒族"), ("43", "乌孜别克族"), ("44", "俄罗斯族"), ("45", "鄂温克族"), ("46", "德昂族"),
        ("47", "保安族"), ("48", "裕固族"), ("49", "京族"), ("50", "塔塔尔族"), ("51", "独龙族"), ("52", "鄂伦春族"), ("53", "赫哲族"),
        ("54", "门巴族"), ("55", "珞巴族"), ("56", "基诺族"), ("97", "其他未识别民族"), ("98", "外国血统中国籍人士"),
    ]

    /// Every accepted spelling → code: codes, codes without the leading zero, names, names
    /// without 族, and the short forms of 97/98.
    static let lookup: [String: String] = {
        var t: [String: String] = [:]
        for (code, name) in table {
            t[code] = code
            if code.hasPrefix("0") { t[String(code.dropFirst())] = code }
            t[name] = code
            if name.hasSuffix("族") { t[String(name.dropLast())] = code }
        }
        for alias in ["其他", "未识别民族", "其他民族"] { t[alias] = "97" }
        for alias in ["外国血统", "外国血统中国籍"] { t[alias] = "98" }
        return t
    }()

    /// The two-digit code of `raw` (a code or a name, surrounding white space ignored), or `nil`
    /// when GB/T 3304 has no such code or name.
    public static func code(_ raw: String) -> String? { lookup[raw.trimmed] }

    /// The standard name of a code (`01` → 汉族), or `nil`.
    public static func name(ofCode code: String) -> String? { table.first { $0.code == code }?.name }
}
