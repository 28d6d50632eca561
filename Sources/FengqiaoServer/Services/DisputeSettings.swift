import FengqiaoCore
import Foundation
import Vapor

/// The configurable rules of issue 4 ([P] in the domain spec): risk triggers, escalation
/// deadlines per grade and level, the repeat-incident rule, and the clock the services read
/// (injectable, so tests can let a deadline pass).
///
/// The runtime holder: `configure` sets `rules` from `AppConfig.disputeRules` (the operator's
/// `dispute-rules.json`, `DisputeRules`), and `handling` from the environment.
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

    /// Settings holding `rules` (risk, escalation, repeats), with the default handling.
    public init(rules: DisputeRules, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.init(risk: rules.risk, escalation: rules.escalation, repeats: rules.repeats, clock: clock)
    }

    /// The three rule sets as the operator configures them (`DisputeRules`); setting it keeps
    /// `clock` and `handling`.
    public var rules: DisputeRules {
        get { DisputeRules(risk: risk, escalation: escalation, repeats: repeats) }
        set {
            risk = newValue.risk
            escalation = newValue.escalation
            repeats = newValue.repeats
        }
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
