import FengqiaoCore
import Foundation
import Testing

@Suite("text basics")
struct TextBasicsTests {
    /// The definition `trimmed` keeps: drop leading and trailing Characters that are white space.
    static func reference(_ s: String) -> String {
        guard let first = s.firstIndex(where: { !$0.isWhitespace }), let last = s.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(s[first...last])
    }

    @Test("trimmed drops white space at both ends exactly as the Character-wise definition, on its fast and slow paths")
    func trimmedMatchesDefinition() {
        let samples = [
            "", " ", "\u{3000}", "\t\r\n", "张三", " 张三 ", "\u{3000}李四\u{3000}", "\u{00A0}王五", "赵六\u{2028}", "530481199001010011",
            " 530481199001010011\n", "a", "仪凤社区 1栋", "x\u{301}", " \u{301}", "名\u{200B}", "\u{FEFF}名", "名字\u{3000}\u{3000}", "A B", "é", "👍",
            "\u{205F}end", "end\u{0085}", "中文，", "（一）",
        ]
        for s in samples {
            #expect(s.trimmed == Self.reference(s), "\(s.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }
}
