import FengqiaoCore
import Foundation
import Vapor

/// The configurable rules of issue 4 ([P] in the domain spec): risk triggers, escalation
/// deadlines per grade and level, the repeat-incident rule, and the clock the services read
/// (injectable, so tests can let a deadline pass).
public struct DisputeSettings: Sendable {
    public var risk: RiskPolicy
    public var escalation: EscalationPolicy
    public var repeats: RepeatPolicy
    /// The current time; `Date()` unless a test or a replay sets another clock.
    public var clock: @Sendable () -> Date
    /// Joint handling, reminders and the escalation sweep (`DisputeHandlingSettings`).
    public var handling = DisputeHandlingSettings()

    public init(risk: RiskPolicy = .init(), escalation: EscalationPolicy = .init(), repeats: RepeatPolicy = .init(), clock: @escaping @Sendable () -> Date = { Date() }) {
        self.risk = risk
        self.escalation = escalation
        self.repeats = repeats
        self.clock = clock
    }
}

struct DisputeSettingsKey: StorageKey { typealias Value = DisputeSettings }

extension Application {
    /// The dispute rules and clock; defaults until set.
    public var disputeSettings: DisputeSettings {
        get { storage[DisputeSettingsKey.self] ?? DisputeSettings() }
        set { storage[DisputeSettingsKey.self] = newValue }
    }
}
