import Foundation

/// The level of territory an account's scope covers (数据范围).
///
/// Ordered from the narrowest to the widest. Domain spec §7.4: grid workers see only their grid,
/// community police their community, station and city users more.
public enum ScopeLevel: String, CaseIterable, Codable, Sendable, Comparable {
    case grid
    case community
    case station
    case city

    private var rank: Int {
        switch self {
        case .grid: 0
        case .community: 1
        case .station: 2
        case .city: 3
        }
    }

    public static func < (lhs: ScopeLevel, rhs: ScopeLevel) -> Bool { lhs.rank < rhs.rank }

    public var nameZH: String {
        switch self {
        case .grid: "网格"
        case .community: "社区"
        case .station: "派出所辖区"
        case .city: "全市"
        }
    }
}

/// An account's territory scope: a level and, below city level, the id of the grid, community
/// or police station it covers.
public struct TerritoryScope: Codable, Sendable, Hashable, CustomStringConvertible {
    public var level: ScopeLevel
    /// `nil` only for `.city`.
    public var territoryID: UUID?

    public init(level: ScopeLevel, territoryID: UUID?) {
        self.level = level
        self.territoryID = level == .city ? nil : territoryID
    }

    public static let city = TerritoryScope(level: .city, territoryID: nil)

    enum CodingKeys: String, CodingKey { case level, territoryID }

    /// Decodes like the initialiser: a city scope never keeps a territory id.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(level: try c.decode(ScopeLevel.self, forKey: .level), territoryID: try c.decodeIfPresent(UUID.self, forKey: .territoryID))
    }

    /// Validates that every level but city names a territory.
    /// - Throws: `DomainError.invalidField("scope", …)` otherwise.
    public func validated() throws(DomainError) -> TerritoryScope {
        if level != .city && territoryID == nil {
            throw .invalidField(field: "scope", reason: "a \(level.rawValue) scope needs a territory id")
        }
        return self
    }

    public var description: String {
        territoryID.map { "\(level.rawValue):\($0.uuidString.lowercased())" } ?? level.rawValue
    }
}

/// What a scope resolves to: the communities and grids it may see. `nil` sets mean "all".
public struct VisibleTerritory: Sendable, Equatable {
    public var stationIDs: Set<UUID>?
    public var communityIDs: Set<UUID>?
    public var gridIDs: Set<UUID>?
    /// The level of the scope this was resolved from. A community- or grid-level view also
    /// lists its parent station (to read its name), but does not own it: accounts and records
    /// scoped to the station stay out of view.
    public var level: ScopeLevel

    public init(stationIDs: Set<UUID>?, communityIDs: Set<UUID>?, gridIDs: Set<UUID>?, level: ScopeLevel = .city) {
        self.stationIDs = stationIDs
        self.communityIDs = communityIDs
        self.gridIDs = gridIDs
        self.level = level
    }

    /// Whether an account or record scoped to `territoryID` lies inside this view.
    public func owns(territoryID: UUID?) -> Bool {
        if self == .everything { return true }
        guard let t = territoryID else { return false }
        if gridIDs?.contains(t) == true { return true }
        if level >= .community, communityIDs?.contains(t) == true { return true }
        if level >= .station, stationIDs?.contains(t) == true { return true }
        return false
    }

    /// The territory ids `owns` accepts, for queries; `nil` means all.
    public var ownedTerritoryIDs: [UUID]? {
        if self == .everything { return nil }
        var ids = Array(gridIDs ?? [])
        if level >= .community { ids += Array(communityIDs ?? []) }
        if level >= .station { ids += Array(stationIDs ?? []) }
        return ids
    }

    public static let everything = VisibleTerritory(stationIDs: nil, communityIDs: nil, gridIDs: nil)

    public func canSee(station: UUID) -> Bool { stationIDs?.contains(station) ?? true }
    public func canSee(community: UUID) -> Bool { communityIDs?.contains(community) ?? true }
    public func canSee(grid: UUID) -> Bool { gridIDs?.contains(grid) ?? true }
}
