import Testing
@testable import FengqiaoCore

@Suite("Sex codes (GB/T 2261.1-2003)")
struct SexTests {
    @Test("codes and names are the standard's")
    func codes() {
        #expect(Sex.allCases.map(\.code) == ["0", "1", "2", "9"])
        #expect(Sex.male.chineseName == "男性")
        #expect(Sex.female.chineseName == "女性")
        #expect(Sex.unknown.chineseName == "未知的性别")
        #expect(Sex.unspecified.chineseName == "未说明的性别")
        #expect(Sex(rawValue: "1") == .male)
        #expect(Sex(rawValue: "3") == nil)
    }
}
