import Foundation

/// Kind of grid (网格类型), DB6101/T 3185-2024 5.1.1/5.1.2 (domain spec §1).
public enum GridKind: String, CaseIterable, Codable, Sendable {
    /// 基础网格: residential grid.
    case basic
    /// 专属网格: a special site (school, hospital, park, enterprise).
    case dedicated

    public var nameZH: String { self == .basic ? "基础网格" : "专属网格" }
}

/// A point in longitude/latitude degrees with its datum (domain spec §5.5: GPS and Open311 use
/// WGS-84, most Chinese web maps GCJ-02; the datum is recorded with every point).
public struct GeoPoint: Codable, Sendable, Equatable {
    public var lon: Double
    public var lat: Double

    public init(lon: Double, lat: Double) {
        self.lon = lon
        self.lat = lat
    }

    /// Rounded to 1e-7 degrees (about 1 cm), beyond any survey's precision; keeps stored and
    /// returned values free of binary floating-point noise.
    public var rounded: GeoPoint {
        GeoPoint(lon: (lon * 1e7).rounded() / 1e7, lat: (lat * 1e7).rounded() / 1e7)
    }
}

/// Coordinate reference datum of stored points.
public enum GeoDatum: String, Codable, Sendable, CaseIterable {
    case wgs84 = "WGS-84"
    case gcj02 = "GCJ-02"
    case cgcs2000 = "CGCS2000"
}

/// A grid boundary: a closed ring of at least three distinct points.
public struct GeoPolygon: Codable, Sendable, Equatable {
    public var datum: GeoDatum
    public var ring: [GeoPoint]

    public init(datum: GeoDatum = .wgs84, ring: [GeoPoint]) {
        self.datum = datum
        self.ring = ring
    }

    /// Validates the ring.
    /// - Throws: `DomainError.invalidField("polygon", …)` for fewer than 3 points, a coordinate
    ///   outside ±180/±90, or more than 2,000 points.
    public func validated() throws(DomainError) -> GeoPolygon {
        var pts = ring
        if pts.count > 1, pts.first == pts.last { pts.removeLast() }
        guard pts.count >= 3 else { throw .invalidField(field: "polygon", reason: "needs at least 3 points") }
        guard pts.count <= 2000 else { throw .invalidField(field: "polygon", reason: "has more than 2,000 points") }
        for (i, p) in pts.enumerated() {
            guard p.lon.isFinite, p.lat.isFinite, (-180...180).contains(p.lon), (-90...90).contains(p.lat) else {
                throw .invalidField(field: "polygon", reason: "point \(i + 1) is outside longitude ±180 / latitude ±90")
            }
        }
        return GeoPolygon(datum: datum, ring: pts.map(\.rounded))
    }

    /// Whether a point lies inside (even-odd rule). Points on the boundary may go either way.
    public func contains(_ p: GeoPoint) -> Bool {
        var inside = false
        var j = ring.count - 1
        for i in 0..<ring.count {
            let a = ring[i], b = ring[j]
            if (a.lat > p.lat) != (b.lat > p.lat),
               p.lon < (b.lon - a.lon) * (p.lat - a.lat) / (b.lat - a.lat) + a.lon {
                inside.toggle()
            }
            j = i
        }
        return inside
    }

    /// Arithmetic mean of the vertices; good enough to place a label.
    public var centroid: GeoPoint {
        let n = Double(max(ring.count, 1))
        return GeoPoint(lon: ring.map(\.lon).reduce(0, +) / n, lat: ring.map(\.lat).reduce(0, +) / n)
    }
}

/// 派出所: the basic police unit; communities hang under it.
public struct PoliceStation: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var name: String
    /// The township (9-digit) or county (6-digit) division it serves.
    public var divisionCode: String
    public var address: String?

    public init(id: UUID = UUID(), name: String, divisionCode: String, address: String? = nil) {
        self.id = id
        self.name = name
        self.divisionCode = divisionCode
        self.address = address
    }
}

/// 社区 (居民委员会) or 村: the unit a community police post (社区警务室) serves.
public struct Community: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var stationID: UUID
    public var name: String
    /// 9-digit township code (e.g. 凤麓街道 `530481001`).
    public var townshipCode: String
    /// 12-digit statistical code; `nil` until an official list confirms it (domain spec §2.2).
    public var divisionCode12: String?

    public init(id: UUID = UUID(), stationID: UUID, name: String, townshipCode: String, divisionCode12: String?) {
        self.id = id
        self.stationID = stationID
        self.name = name
        self.townshipCode = townshipCode
        self.divisionCode12 = divisionCode12
    }
}

/// 居民小组: a residential group of a community.
public struct ResidentialGroup: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var communityID: UUID
    public var name: String
    /// Ordinal within the community (第 N 居民小组).
    public var sequence: Int

    public init(id: UUID = UUID(), communityID: UUID, name: String, sequence: Int) {
        self.id = id
        self.communityID = communityID
        self.name = name
        self.sequence = sequence
    }
}

/// 网格: the smallest territorial unit; every grid belongs to exactly one community
/// (DB6101/T 3185-2024) and, when basic, to a residential group.
public struct Grid: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var communityID: UUID
    public var residentialGroupID: UUID?
    /// Grid code, project default `StatDivisionCode12 + 3-digit sequence` (domain spec §2.1).
    public var code: String
    public var name: String
    public var kind: GridKind
    public var polygon: GeoPolygon?

    public init(id: UUID = UUID(), communityID: UUID, residentialGroupID: UUID?, code: String, name: String, kind: GridKind, polygon: GeoPolygon?) {
        self.id = id
        self.communityID = communityID
        self.residentialGroupID = residentialGroupID
        self.code = code
        self.name = name
        self.kind = kind
        self.polygon = polygon
    }
}

/// 楼栋: a building in a grid.
public struct Building: Codable, Sendable, Equatable, Identifiable {
    public var id: UUID
    public var gridID: UUID
    public var name: String
    /// Free-text address until standard addresses (一标三实) are linked.
    public var address: String?
    public var floors: Int?
    public var location: GeoPoint?

    public init(id: UUID = UUID(), gridID: UUID, name: String, address: String?, floors: Int?, location: GeoPoint?) {
        self.id = id
        self.gridID = gridID
        self.name = name
        self.address = address
        self.floors = floors
        self.location = location
    }
}

/// Text field checks shared by every record.
public enum FieldRules {
    /// Trims and checks a required name.
    /// - Throws: `DomainError.invalidField(field, …)` when empty, longer than `max` characters
    ///   or holding control characters.
    public static func name(_ raw: String?, field: String, max: Int = 100) throws(DomainError) -> String {
        let s = (raw ?? "").trimmed
        guard !s.isEmpty else { throw .invalidField(field: field, reason: .required) }
        guard s.count <= max else { throw .invalidField(field: field, reason: .tooLong(max: max, has: s.count)) }
        guard !s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidField(field: field, reason: .controlCharacters)
        }
        return s
    }

    /// Like `name` but `nil`/empty gives `nil`.
    public static func optional(_ raw: String?, field: String, max: Int = 200) throws(DomainError) -> String? {
        let s = (raw ?? "").trimmed
        if s.isEmpty { return nil }
        return try name(s, field: field, max: max)
    }
}
