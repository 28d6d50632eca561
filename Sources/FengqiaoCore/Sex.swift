/// Sex (性别) as coded by GB/T 2261.1-2003 (个人基本信息分类与代码 第1部分：人的性别代码):
/// `0` 未知的性别, `1` 男性, `2` 女性, `9` 未说明的性别. Domain spec §3.1 (ActualResident.sex) [R].
/// The raw value is the standard's code; never renumber it.
public enum Sex: String, Sendable, Codable, CaseIterable {
    /// 未知的性别 (code 0).
    case unknown = "0"
    /// 男性 (code 1).
    case male = "1"
    /// 女性 (code 2).
    case female = "2"
    /// 未说明的性别 (code 9).
    case unspecified = "9"

    /// The GB/T 2261.1 code (`"1"` for male).
    public var code: String { rawValue }

    /// The standard's Chinese name (`男性`).
    public var chineseName: String {
        switch self {
        case .unknown: "未知的性别"
        case .male: "男性"
        case .female: "女性"
        case .unspecified: "未说明的性别"
        }
    }
}
