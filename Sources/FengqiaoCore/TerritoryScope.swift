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

    public init(stationIDs: Set<UUID>?, communityIDs: Set<UUID>?, gridIDs: Set<UUID>?) {
        self.stationIDs = stationIDs
        self.communityIDs = communityIDs
        self.gridIDs = gridIDs
    }

    public static let everything = VisibleTerritory(stationIDs: nil, communityIDs: nil, gridIDs: nil)

    public func canSee(station: UUID) -> Bool { stationIDs?.contains(station) ?? true }
    public func canSee(community: UUID) -> Bool { communityIDs?.contains(community) ?? true }
    public func canSee(grid: UUID) -> Bool { gridIDs?.contains(grid) ?? true }
}
