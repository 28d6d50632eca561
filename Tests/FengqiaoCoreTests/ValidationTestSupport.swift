import Foundation
import Testing
@testable import FengqiaoCore

extension CalendarDate {
    /// A known-good date for fixtures; records an issue (instead of crashing the run) when the
    /// date is refused.
    static func fixture(_ y: Int, _ m: Int, _ d: Int) -> CalendarDate {
        do {
            return try CalendarDate(year: y, month: m, day: d)
        } catch {
            Issue.record("fixture \(y)-\(m)-\(d) refused: \(error)")
            return CalendarDate(yyyymmdd: "19700101")!
        }
    }
}

/// The `reason` of the `DomainError.invalidField` thrown by `body`, or `nil`.
func invalidFieldReason(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        if case .invalidField(_, let reason)? = error as? DomainError { return reason.english }
        return nil
    }
}

/// A deterministic generator (SplitMix64) so property checks are repeatable.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
