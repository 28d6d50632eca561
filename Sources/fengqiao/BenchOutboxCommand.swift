import ArgumentParser
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import Foundation

/// Benchmark support for `scripts/bench-outbox` (hidden): writes COUNT generic webhook messages,
/// due now, straight into the notification outbox of the database, to be delivered by a running
/// `fengqiao serve`; and reports the outbox counts per state. Not for production data.
struct BenchOutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-outbox-enqueue",
        abstract: "Benchmark only: queue COUNT test webhook messages to URL in the notification outbox.",
        shouldDisplay: false)
    @OptionGroup var data: DataOptions
    @Option(help: "Messages to queue.") var count = 10_000
    @Option(help: "Receiver URL (generic webhook).") var url: String
    @Option(help: "HMAC secret the receiver may verify.") var secret = "bench-outbox-secret-0123456789"
    @Flag(help: "Only print the counts per state (pending delivered failed).") var status = false

    func run() async throws {
        try await withApp(data) { app in
            let f = app.fengqiao
            if !status {
                let now = Date()
                let sealed = f.cipher.seal(secret)
                var queued = 0
                while queued < count {
                    let n = min(5000, count - queued)
                    let ms = (0..<n).map { i in
                        OutboxMessage(targetURL: url, secretSealed: sealed, payload: #"{"type":"bench","n":\#(queued + i)}"#, eventID: nil, nextAttemptAt: now)
                    }
                    try await f.store.write { db in try await OutboxRepository().enqueue(many: ms, on: db, now: now) }
                    queued += n
                }
            }
            let c = try await NotificationOutbox(f).counts()
            print("pending \(c[.pending] ?? 0) delivered \(c[.delivered] ?? 0) failed \(c[.failed] ?? 0)")
        }
    }
}
