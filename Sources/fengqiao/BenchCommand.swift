import ArgumentParser
import FengqiaoCore
import FengqiaoServer
import FengqiaoStore
import FluentKit
import Foundation
import SQLKit

/// Hidden benchmark helpers for `scripts/bench-incidents` and `scripts/bench-disputes` (issue 4
/// performance). They write synthetic data into the given data directory: never run them
/// against a real one.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmark data generators (synthetic data; never on a real data directory).", shouldDisplay: false,
        subcommands: [Incidents.self, SeedDisputes.self])

    /// A deterministic generator (SplitMix64), so runs are repeatable.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func chance(_ p: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < p }
    }

    /// A city-sized territory: `stations` × `communities` × `grids`, each grid with `addresses`
    /// standard addresses. Created through the territory service (audited), addresses in bulk.
    struct City {
        var communities: [Community]
        var grids: [Grid]
        var addresses: [UUID]
        var addressGrid: [UUID]
    }

    static func buildCity(_ app: Fengqiao, stations: Int, communitiesPerStation: Int, gridsPerCommunity: Int, addressesPerGrid: Int) async throws -> City {
        let svc = TerritoryService(app)
        let actor = Actor.commandLine()
        var communities: [Community] = []
        var grids: [Grid] = []
        var addresses: [UUID] = []
        var addressGrid: [UUID] = []
        var n = 0
        for s in 0..<stations {
            let st = try await svc.createStation(.init(name: "基准派出所\(s + 1)", divisionCode: "530481", address: nil), actor: actor, visible: .everything)
            for _ in 0..<communitiesPerStation {
                n += 1
                let code12 = "530481001" + String(format: "%03d", n)
                let c = try await svc.createCommunity(.init(stationId: st.id, name: "基准社区\(n)", townshipCode: "530481001", divisionCode12: code12), actor: actor, visible: .everything)
                communities.append(c)
                for g in 0..<gridsPerCommunity {
                    let grid = try await svc.createGrid(.init(communityId: c.id, sequence: g + 1, name: "第\(g + 1)网格", kind: .basic), actor: actor, visible: .everything)
                    grids.append(grid)
                    var list: [StandardAddress] = []
                    for a in 0..<addressesPerGrid {
                        list.append(StandardAddress(
                            street: "基准路\(n)", doorplate: "\(g + 1)号", building: "\(a / 24 + 1)栋", unit: "\(a % 2 + 1)单元", floor: "\(a % 12 + 1)",
                            room: "\(a % 12 + 1)0\(a % 2 + 1)", gridID: grid.id))
                    }
                    let rows = list
                    try await app.store.write { db in try await AddressRepository().insert(rows, on: db) }
                    addresses += list.map(\.id)
                    addressGrid += list.map(\.gridID)
                }
            }
        }
        return City(communities: communities, grids: grids, addresses: addresses, addressGrid: addressGrid)
    }

    /// A valid 18-digit ID number (division 530481, born 1950–1999).
    static func idNumber(_ i: Int) -> String {
        let year = 1950 + i % 50, month = 1 + (i / 50) % 12, day = 1 + (i / 600) % 28, seq = (i / 16_800) % 1000
        let first17 = "530481" + String(format: "%04d%02d%02d%03d", year, month, day, seq)
        return first17 + String(CitizenIDNumber.checkCharacter(forFirst17: first17)!)
    }

    static func percentile(_ v: [Double], _ p: Double) -> Double {
        guard !v.isEmpty else { return 0 }
        let s = v.sorted()
        return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
    }

    // MARK: Incidents

    struct Incidents: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ingest synthetic police incidents through DisputeService.receiveIncident or receiveIncidents (the API's code paths, repeat detection on) and report rates and detection times.")
        @OptionGroup var data: DataOptions
        @Option(help: "Incidents to ingest.") var count = 1_000_000
        @Option(help: "Days the incidents span, ending yesterday.") var days = 730
        @Option(help: "Police stations.") var stations = 10
        @Option(help: "Communities per station.") var communities = 20
        @Option(help: "Grids per community.") var grids = 10
        @Option(help: "Standard addresses per grid.") var addresses = 50
        @Option(help: "Concurrent ingest tasks.") var concurrency = 4
        @Option(help: "Incidents per call: 1 = POST /api/v1/incidents (receiveIncident, one transaction each); more = POST /api/v1/incidents/batch (receiveIncidents, one transaction per batch).") var batch = 100
        @Option(help: "Stored counts at which detection is measured (comma-separated).") var checkpoints = "10000,100000,1000000"
        @Option(help: "Detection probes per checkpoint.") var probes = 2000

        func run() async throws {
            try await withApp(data) { vapor in
                let app = vapor.fengqiao
                let t0 = Date()
                let city = try await BenchCommand.buildCity(app, stations: stations, communitiesPerStation: communities, gridsPerCommunity: grids, addressesPerGrid: addresses)
                print("territory: \(city.communities.count) communities, \(city.grids.count) grids, \(city.addresses.count) addresses (\(String(format: "%.1f", Date().timeIntervalSince(t0))) s)")
                let service = DisputeService(app, settings: vapor.disputeSettings)
                let repo = IncidentRepository(cipher: app.cipher)
                let policy = vapor.disputeSettings.repeats
                let end = Date().addingTimeInterval(-86_400)
                let start = end.addingTimeInterval(-Double(days) * 86_400)
                let step = (end.timeIntervalSince(start)) / Double(max(count, 1))
                // Hot sets make repeats: 2% of addresses, 30,000 phones, 20,000 named parties.
                let hotAddresses = max(1, city.addresses.count / 50)
                let categories = ["80", "80", "80", "80", "20", "20", "20", "60", "60", "70", "40", "10", "50", "90", "00"]
                @Sendable func input(_ i: Int, rng: inout Rng) -> (PoliceIncidentInput, UUID) {
                    let a = rng.chance(0.3) ? rng.int(hotAddresses) : rng.int(city.addresses.count)
                    let phone = rng.chance(0.25) ? rng.int(30_000) : 30_000 + rng.int(3_000_000)
                    let party = rng.chance(0.1) ? BenchCommand.idNumber(rng.int(20_000)) : nil
                    let at = start.addingTimeInterval(Double(i) * step + Double(rng.int(Int(max(step, 1)))))
                    return (PoliceIncidentInput(
                        category: categories[rng.int(categories.count)], priority: .p3, reportedAt: at, addressId: city.addresses[a],
                        callerName: "来电人", callerPhone: "139\(String(format: "%08d", phone))", partyIdNumber: party, summary: "基准警情"), city.addressGrid[a])
                }
                let marks = checkpoints.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 <= count }.sorted()
                var done = 0
                var repeats = 0, duplicates = 0
                let runStart = Date()
                var segmentStart = runStart
                var segmentDone = 0
                let perCall = max(1, min(batch, DisputeService.incidentBatchLimit))
                print("ingesting \(count) incidents over \(days) days with \(concurrency) concurrent tasks, \(perCall) per call (repeat window \(policy.windowDays) days)")
                for mark in marks + (marks.last == count ? [] : [count]) {
                    // Ingest up to `mark`, `concurrency` at a time, recording each call's latency.
                    var latencies: [Double] = []
                    latencies.reserveCapacity(mark - done)
                    while done < mark {
                        // `round` incidents: worker w takes calls w, w + concurrency, … of `perCall` each.
                        let round = min(concurrency * perCall * max(1, 64 / perCall), mark - done)
                        let base = done
                        let calls = (round + perCall - 1) / perCall
                        let results = try await withThrowingTaskGroup(of: ([Double], [Int]).self) { group in
                            for w in 0..<concurrency {
                                group.addTask {
                                    var rng = Rng(state: UInt64(base &+ w &* 7_919) &* 0x2545_F491_4F6C_DD1D)
                                    var ms: [Double] = []
                                    var kinds: [Int] = []
                                    var c = w
                                    while c < calls {
                                        let lo = c * perCall, hi = min(round, lo + perCall)
                                        let inputs = (lo..<hi).map { input(base + $0, rng: &rng).0 }
                                        let c0 = DispatchTime.now().uptimeNanoseconds
                                        let outcomes: [DisputeService.IncidentOutcome]
                                        if perCall == 1 {
                                            outcomes = [try await service.receiveIncident(inputs[0], actor: .commandLine(), visible: .everything)]
                                        } else {
                                            outcomes = try await service.receiveIncidents(inputs, actor: .commandLine(), visible: .everything).map {
                                                guard case .stored(let o) = $0 else { throw BenchError.refused("\($0)") }
                                                return o
                                            }
                                        }
                                        ms.append(Double(DispatchTime.now().uptimeNanoseconds - c0) / 1e6)
                                        for o in outcomes {
                                            switch o.repeatOutcome {
                                            case .repeat: kinds.append(1)
                                            case .duplicate: kinds.append(2)
                                            case .first: kinds.append(0)
                                            }
                                        }
                                        c += concurrency
                                    }
                                    return (ms, kinds)
                                }
                            }
                            var all: ([Double], [Int]) = ([], [])
                            for try await part in group { all.0 += part.0; all.1 += part.1 }
                            return all
                        }
                        latencies += results.0
                        for k in results.1 {
                            if k == 1 { repeats += 1 } else if k == 2 { duplicates += 1 }
                        }
                        let batch = round
                        done += batch
                        if done % 50_000 < batch { FileHandle.standardError.write(Data("  \(done) stored, \(String(format: "%.0f", Double(done) / Date().timeIntervalSince(runStart))) incidents/s\n".utf8)) }
                    }
                    let segSeconds = Date().timeIntervalSince(segmentStart)
                    let segRate = Double(done - segmentDone) / max(segSeconds, 1e-9)
                    segmentStart = Date()
                    segmentDone = done
                    // Detection alone: the index reads and the rule for fresh keys at the latest time.
                    var rng = Rng(state: UInt64(mark) &* 31)
                    var probe: [Double] = []
                    var found = 0
                    for p in 0..<probes {
                        let (inp, g) = input(max(0, mark - 1), rng: &rng)
                        let rec = IncidentRecord(
                            id: UUID(), gridID: g, communityID: g, category: IncidentCategory(rawValue: inp.category!)!, priority: .p3, addressID: inp.addressId,
                            location: nil, callerName: nil, callerPhone: try PhoneNumber(inp.callerPhone!), partyIDNumber: inp.partyIdNumber, summary: "",
                            reportedAt: inp.reportedAt!.addingTimeInterval(Double(p)))
                        let keys = repo.keys(rec)
                        let c0 = DispatchTime.now().uptimeNanoseconds
                        let priors = try await repo.candidates(for: keys, policy: policy, on: app.store.db)
                        let outcome = RepeatRule.classify(keys, priors: priors, policy: policy)
                        probe.append(Double(DispatchTime.now().uptimeNanoseconds - c0) / 1e3)
                        if case .first = outcome {} else { found += 1 }
                    }
                    let mean = probe.reduce(0, +) / Double(max(probe.count, 1))
                    print(String(
                        format: "at %9ld stored: ingest %7.0f incidents/s (this segment), per call of %ld p50 %6.2f ms p99 %6.2f ms; detection alone mean %7.1f µs p50 %7.1f µs p99 %7.1f µs (%ld probes, %ld matched)",
                        done, segRate, perCall, BenchCommand.percentile(latencies, 0.5), BenchCommand.percentile(latencies, 0.99), mean,
                        BenchCommand.percentile(probe, 0.5), BenchCommand.percentile(probe, 0.99), probes, found))
                }
                let total = Date().timeIntervalSince(runStart)
                print(String(format: "total: %ld incidents in %.1f s = %.0f incidents/s; %ld repeats, %ld duplicates", done, total, Double(done) / total, repeats, duplicates))
            }
        }
    }

    // MARK: Disputes

    struct SeedDisputes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "seed-disputes", abstract: "Store synthetic disputes (2 years, a city) for the list and statistics benchmark; prints the communities' ids.")
        @OptionGroup var data: DataOptions
        @Option(help: "Disputes to store.") var count = 100_000
        @Option(help: "Police stations.") var stations = 5
        @Option(help: "Communities per station.") var communities = 20
        @Option(help: "Grids per community.") var grids = 10

        func run() async throws {
            try await withApp(data) { vapor in
                let app = vapor.fengqiao
                let city = try await BenchCommand.buildCity(app, stations: stations, communitiesPerStation: communities, gridsPerCommunity: grids, addressesPerGrid: 4)
                let repo = DisputeRepository(cipher: app.cipher)
                let escalation = vapor.disputeSettings.escalation
                var rng = Rng(state: 42)
                let now = Date()
                let start = now.addingTimeInterval(-730 * 86_400)
                let zone = TimeZone(identifier: "Asia/Shanghai")!
                let states: [DisputeState] = [
                    .closedResolved, .closedResolved, .closedResolved, .closedResolved, .closedResolved, .closedResolved, .followUp, .performing,
                    .agreementEffective, .terminated, .transferred, .notAccepted, .closedUnresolved, .mediating, .accepted, .registered,
                ]
                var written = 0
                let t0 = Date()
                while written < count {
                    let n = min(1000, count - written)
                    var batch: [(DisputeRecord, [DisputeParty])] = []
                    for i in 0..<n {
                        let k = written + i
                        let g = city.grids[rng.int(city.grids.count)]
                        let registered = start.addingTimeInterval(Double(k) / Double(count) * 730 * 86_400)
                        var state = states[rng.int(states.count)]
                        // Recent cases are still open more often.
                        if now.timeIntervalSince(registered) < 20 * 86_400, rng.chance(0.6) { state = ([.registered, .accepted, .mediating] as [DisputeState])[rng.int(3)] }
                        var level: DisputeLevel = rng.chance(0.15) ? .building : .grid
                        let climbs = rng.int(10)
                        if climbs >= 7 { level = .community }
                        if climbs == 9 { level = .station }
                        let risk = ([.yellow, .yellow, .yellow, .yellow, .yellow, .blue, .orange, .red] as [RiskGrade])[rng.int(8)]
                        let settled = DisputeStatisticsRules.settledStates.contains(state) || state == .closedUnresolved
                        let effective = settled ? CalendarDate(registered.addingTimeInterval(Double(rng.int(40)) * 86_400), timeZone: zone) : nil
                        let open = state.escalates
                        let d = DisputeRecord(
                            id: UUID(), gridID: g.id, communityID: g.communityID, addressID: nil, category: DisputeCategory.allCases[rng.int(DisputeCategory.allCases.count)],
                            source: DisputeSource.allCases[rng.int(DisputeSource.allCases.count)], state: state, risk: risk, riskFlags: [],
                            civilToCriminalRisk: rng.chance(0.05), level: level, levelSince: registered,
                            levelDueAt: open ? escalation.dueAt(level: level, since: registered, grade: risk) : nil, settledLevel: settled ? level : nil,
                            summary: "基准纠纷\(k)", incidentID: nil, effectiveOn: effective, version: 1, registeredAt: registered,
                            closedAt: state.isTerminal ? registered.addingTimeInterval(45 * 86_400) : nil)
                        let parties = [
                            DisputeParty(id: UUID(), seq: 1, role: .applicant, name: "甲\(k)", residentID: nil, idNumber: nil, phone: nil),
                            DisputeParty(id: UUID(), seq: 2, role: .respondent, name: "乙\(k)", residentID: nil, idNumber: nil, phone: nil),
                        ]
                        batch.append((d, parties))
                    }
                    let rows = batch
                    try await app.store.write { db in
                        for (d, p) in rows { try await repo.insert(d, parties: p, on: db, now: now) }
                    }
                    written += n
                    if written % 20_000 == 0 { FileHandle.standardError.write(Data("  \(written) disputes stored\n".utf8)) }
                }
                print(String(format: "stored %ld disputes in %.1f s", written, Date().timeIntervalSince(t0)))
                for c in city.communities { print("community \(c.id.uuidString.lowercased()) \(c.stationID.uuidString.lowercased())") }
            }
        }
    }
}

/// A benchmark input the service refused (the generator writes only valid incidents).
enum BenchError: Error { case refused(String) }
