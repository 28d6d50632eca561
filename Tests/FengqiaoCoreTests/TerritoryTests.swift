import Foundation
import Testing
@testable import FengqiaoCore

@Suite("Grid polygons")
struct GeoPolygonTests {
    static func p(_ lon: Double, _ lat: Double) -> GeoPoint { GeoPoint(lon: lon, lat: lat) }

    /// 1°×1° square near Chengjiang (澄江, 530481).
    static let square = GeoPolygon(ring: [p(102, 24), p(103, 24), p(103, 25), p(102, 25)])
    /// A U shape: the notch 102.4–102.6 × 24.5–25 is outside.
    static let u = GeoPolygon(ring: [
        p(102, 24), p(103, 24), p(103, 25), p(102.6, 25), p(102.6, 24.5), p(102.4, 24.5), p(102.4, 25), p(102, 25),
    ])

    @Test("a triangle validates unchanged")
    func triangle() throws {
        let t = GeoPolygon(datum: .gcj02, ring: [Self.p(102, 24), Self.p(103, 24), Self.p(102.5, 25)])
        let v = try t.validated()
        #expect(v == t)
        #expect(v.datum == .gcj02)
    }

    @Test("a closed ring drops its closing point")
    func closedRing() throws {
        let closed = GeoPolygon(ring: Self.square.ring + [Self.square.ring[0]])
        let v = try closed.validated()
        #expect(v.ring == Self.square.ring)
        #expect(v.datum == .wgs84)
    }

    @Test("fewer than 3 points are refused", arguments: [0, 1, 2])
    func tooFew(_ n: Int) {
        let ring = Array(Self.square.ring.prefix(n))
        #expect(invalidFieldName { _ = try GeoPolygon(ring: ring).validated() } == "polygon")
    }

    @Test("a closed two-point ring is refused")
    func closedTwo() {
        let ring = [Self.p(102, 24), Self.p(103, 24), Self.p(102, 24)]
        #expect(invalidFieldName { _ = try GeoPolygon(ring: ring).validated() } == "polygon")
    }

    @Test("coordinates outside ±180/±90 or not finite are refused", arguments: [
        (181.0, 24.0), (-180.5, 24.0), (102.0, 90.5), (102.0, -91.0), (Double.nan, 24.0), (102.0, Double.infinity),
    ])
    func outOfRange(_ c: (Double, Double)) {
        let ring = [Self.p(102, 24), Self.p(103, 24), Self.p(c.0, c.1)]
        #expect(invalidFieldName { _ = try GeoPolygon(ring: ring).validated() } == "polygon")
    }

    @Test("the extreme coordinates themselves are valid")
    func extremes() throws {
        _ = try GeoPolygon(ring: [Self.p(-180, -90), Self.p(180, -90), Self.p(180, 90)]).validated()
    }

    @Test("at most 2,000 points")
    func maxPoints() throws {
        func circle(_ n: Int) -> [GeoPoint] {
            (0..<n).map { i in
                let a = Double(i) / Double(n) * 2 * .pi
                return Self.p(102.5 + 0.1 * cos(a), 24.5 + 0.1 * sin(a))
            }
        }
        _ = try GeoPolygon(ring: circle(2000)).validated()
        let c = circle(2000)
        _ = try GeoPolygon(ring: c + [c[0]]).validated() // 2001 with closing point
        #expect(invalidFieldName { _ = try GeoPolygon(ring: circle(2001)).validated() } == "polygon")
    }

    @Test("contains: inside and outside a square")
    func squareContains() {
        #expect(Self.square.contains(Self.p(102.5, 24.5)))
        #expect(Self.square.contains(Self.p(102.01, 24.99)))
        #expect(!Self.square.contains(Self.p(101.9, 24.5)))
        #expect(!Self.square.contains(Self.p(103.1, 24.5)))
        #expect(!Self.square.contains(Self.p(102.5, 23.9)))
        #expect(!Self.square.contains(Self.p(102.5, 25.1)))
        #expect(!Self.square.contains(Self.p(0, 0)))
    }

    @Test("contains: concave polygon excludes its notch")
    func concave() {
        #expect(Self.u.contains(Self.p(102.2, 24.8)))
        #expect(Self.u.contains(Self.p(102.8, 24.8)))
        #expect(Self.u.contains(Self.p(102.5, 24.2)))
        #expect(!Self.u.contains(Self.p(102.5, 24.8)))
    }

    @Test("contains: orientation and a closing point do not matter")
    func orientation() {
        let reversed = GeoPolygon(ring: Self.u.ring.reversed())
        let closed = GeoPolygon(ring: Self.u.ring + [Self.u.ring[0]])
        for q in [Self.p(102.2, 24.8), Self.p(102.5, 24.8), Self.p(102.5, 24.2), Self.p(104, 24.5)] {
            #expect(reversed.contains(q) == Self.u.contains(q))
            #expect(closed.contains(q) == Self.u.contains(q))
        }
    }

    @Test("contains: a degenerate polygon contains nothing")
    func degenerate() {
        #expect(!GeoPolygon(ring: []).contains(Self.p(0, 0)))
        #expect(!GeoPolygon(ring: [Self.p(0, 0)]).contains(Self.p(0, 0)))
    }

    @Test("centroid of the square")
    func centroid() {
        #expect(Self.square.centroid == Self.p(102.5, 24.5))
        #expect(GeoPolygon(ring: []).centroid == Self.p(0, 0))
    }

    @Test("JSON round trip keeps the datum label")
    func codable() throws {
        let data = try JSONEncoder().encode(GeoPolygon(datum: .cgcs2000, ring: Self.square.ring))
        #expect(String(decoding: data, as: UTF8.self).contains("CGCS2000"))
        #expect(try JSONDecoder().decode(GeoPolygon.self, from: data) == GeoPolygon(datum: .cgcs2000, ring: Self.square.ring))
        #expect(GeoDatum.gcj02.rawValue == "GCJ-02")
    }
}

@Suite("Field rules")
struct FieldRulesTests {
    @Test("names are trimmed")
    func trimmed() throws {
        #expect(try FieldRules.name("  凤麓街道  ", field: "name") == "凤麓街道")
        #expect(try FieldRules.name("\n第一网格\t", field: "name") == "第一网格")
        #expect(try FieldRules.name("a b", field: "name") == "a b")
    }

    @Test("required names", arguments: [nil, "", "   ", "\n\t"] as [String?])
    func required(_ raw: String?) {
        #expect(throws: DomainError.invalidField(field: "gridName", reason: "is required")) {
            _ = try FieldRules.name(raw, field: "gridName")
        }
    }

    @Test("length is bounded in characters")
    func length() throws {
        #expect(try FieldRules.name(String(repeating: "网", count: 100), field: "name").count == 100)
        #expect(invalidFieldName { _ = try FieldRules.name(String(repeating: "网", count: 101), field: "name") } == "name")
        #expect(try FieldRules.name("abcde", field: "n", max: 5) == "abcde")
        #expect(invalidFieldName { _ = try FieldRules.name("abcdef", field: "n", max: 5) } == "n")
        // Surrounding spaces do not count.
        #expect(try FieldRules.name("  abcde  ", field: "n", max: 5) == "abcde")
    }

    @Test("control characters are refused", arguments: ["a\u{0}b", "a\u{7}b", "a\nb", "a\tb", "a\u{1B}[31mb", "a\u{7F}b", "a\u{85}b"])
    func control(_ raw: String) {
        #expect(invalidFieldName { _ = try FieldRules.name(raw, field: "name") } == "name")
    }

    @Test("optional fields")
    func optional() throws {
        #expect(try FieldRules.optional(nil, field: "address") == nil)
        #expect(try FieldRules.optional("", field: "address") == nil)
        #expect(try FieldRules.optional("   ", field: "address") == nil)
        #expect(try FieldRules.optional(" 抚仙路1号 ", field: "address") == "抚仙路1号")
        #expect(try FieldRules.optional(String(repeating: "x", count: 200), field: "address")?.count == 200)
        #expect(invalidFieldName { _ = try FieldRules.optional(String(repeating: "x", count: 201), field: "address") } == "address")
        #expect(invalidFieldName { _ = try FieldRules.optional("a\u{7}b", field: "address") } == "address")
    }
}

@Suite("Territory scopes")
struct TerritoryScopeTests {
    @Test("city scope carries no id")
    func city() throws {
        #expect(TerritoryScope(level: .city, territoryID: UUID()).territoryID == nil)
        #expect(TerritoryScope.city.description == "city")
        #expect(try TerritoryScope.city.validated() == .city)
    }

    @Test("lower levels need an id", arguments: [ScopeLevel.grid, .community, .station])
    func needsID(_ level: ScopeLevel) throws {
        #expect(invalidFieldName { _ = try TerritoryScope(level: level, territoryID: nil).validated() } == "scope")
        let id = UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!
        let s = try TerritoryScope(level: level, territoryID: id).validated()
        #expect(s.description == "\(level.rawValue):e621e1f8-c36c-495a-93fc-0c247a3e6e5f")
    }

    @Test("levels are ordered from grid to city")
    func order() {
        #expect(ScopeLevel.allCases.sorted() == [.grid, .community, .station, .city])
        #expect(ScopeLevel.grid < .community && ScopeLevel.station < .city)
        #expect(ScopeLevel.community.nameZH == "社区")
    }

    @Test("visible territory: nil sets mean everything")
    func visible() {
        let a = UUID(), b = UUID()
        let v = VisibleTerritory(stationIDs: [a], communityIDs: [a], gridIDs: [])
        #expect(v.canSee(station: a))
        #expect(!v.canSee(station: b))
        #expect(v.canSee(community: a))
        #expect(!v.canSee(community: b))
        #expect(!v.canSee(grid: a))
        #expect(VisibleTerritory.everything.canSee(station: b))
        #expect(VisibleTerritory.everything.canSee(community: b))
        #expect(VisibleTerritory.everything.canSee(grid: b))
    }

    @Test("grid kinds")
    func gridKinds() {
        #expect(GridKind.basic.nameZH == "基础网格")
        #expect(GridKind.dedicated.nameZH == "专属网格")
    }
}
