import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation
import Testing

@Suite("store migrations")
struct MigrationTests {
    @Test("the migration list is ordered and named M0001…")
    func ordered() {
        let names = Store.migrations.map { String(describing: type(of: $0)) }
        #expect(names == names.sorted())
        #expect(names.first?.hasPrefix("M0001_") == true)
    }
}
