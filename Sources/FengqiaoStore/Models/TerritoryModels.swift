import FengqiaoCore
import FluentKit
import Foundation

/// A GB/T 2260 / statistical division (行政区划): county `530481`, township `530481001` ….
public final class DivisionModel: Model, @unchecked Sendable {
    public static let schema = "divisions"
    @ID(custom: "code", generatedBy: .user) public var id: String?
    @Field(key: "name") public var name: String
    @Field(key: "level") public var level: String
    @OptionalField(key: "parent_code") public var parentCode: String?
    public init() {}
    public init(code: String, name: String, level: String, parentCode: String?) {
        self.id = code
        self.name = name
        self.level = level
        self.parentCode = parentCode
    }
}

/// 派出所.
public final class PoliceStationModel: Model, @unchecked Sendable {
    public static let schema = "police_stations"
    @ID(key: .id) public var id: UUID?
    @Field(key: "name") public var name: String
    @Field(key: "division_code") public var divisionCode: String
    @OptionalField(key: "address") public var address: String?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?
    public init() {}
    public init(_ d: PoliceStation) {
        id = d.id
        update(from: d)
    }
    public func update(from d: PoliceStation) {
        name = d.name
        divisionCode = d.divisionCode
        address = d.address
    }
    public func toDomain() -> PoliceStation {
        PoliceStation(id: id!, name: name, divisionCode: divisionCode, address: address)
    }
}

/// 社区.
public final class CommunityModel: Model, @unchecked Sendable {
    public static let schema = "communities"
    @ID(key: .id) public var id: UUID?
    @Field(key: "station_id") public var stationID: UUID
    @Field(key: "name") public var name: String
    @Field(key: "township_code") public var townshipCode: String
    @OptionalField(key: "division_code12") public var divisionCode12: String?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?
    public init() {}
    public init(_ d: Community) {
        id = d.id
        update(from: d)
    }
    public func update(from d: Community) {
        stationID = d.stationID
        name = d.name
        townshipCode = d.townshipCode
        divisionCode12 = d.divisionCode12
    }
    public func toDomain() -> Community {
        Community(id: id!, stationID: stationID, name: name, townshipCode: townshipCode, divisionCode12: divisionCode12)
    }
}

/// 居民小组.
public final class ResidentialGroupModel: Model, @unchecked Sendable {
    public static let schema = "residential_groups"
    @ID(key: .id) public var id: UUID?
    @Field(key: "community_id") public var communityID: UUID
    @Field(key: "name") public var name: String
    @Field(key: "sequence") public var sequence: Int
    public init() {}
    public init(_ d: ResidentialGroup) {
        id = d.id
        update(from: d)
    }
    public func update(from d: ResidentialGroup) {
        communityID = d.communityID
        name = d.name
        sequence = d.sequence
    }
    public func toDomain() -> ResidentialGroup {
        ResidentialGroup(id: id!, communityID: communityID, name: name, sequence: sequence)
    }
}

/// 网格. The polygon is stored as JSON text (`GeoPolygon`).
public final class GridModel: Model, @unchecked Sendable {
    public static let schema = "grids"
    @ID(key: .id) public var id: UUID?
    @Field(key: "community_id") public var communityID: UUID
    @OptionalField(key: "residential_group_id") public var residentialGroupID: UUID?
    @Field(key: "code") public var code: String
    @Field(key: "name") public var name: String
    @Field(key: "kind") public var kind: String
    @OptionalField(key: "polygon") public var polygon: String?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?
    public init() {}
    public init(_ d: Grid) {
        id = d.id
        update(from: d)
    }
    public func update(from d: Grid) {
        communityID = d.communityID
        residentialGroupID = d.residentialGroupID
        code = d.code
        name = d.name
        kind = d.kind.rawValue
        polygon = d.polygon.flatMap { try? String(decoding: JSONEncoder().encode($0), as: UTF8.self) }
    }
    public func toDomain() -> Grid {
        Grid(
            id: id!, communityID: communityID, residentialGroupID: residentialGroupID, code: code, name: name,
            kind: GridKind(rawValue: kind) ?? .basic,
            polygon: polygon.flatMap { try? JSONDecoder().decode(GeoPolygon.self, from: Data($0.utf8)) })
    }
}

/// 楼栋.
public final class BuildingModel: Model, @unchecked Sendable {
    public static let schema = "buildings"
    @ID(key: .id) public var id: UUID?
    @Field(key: "grid_id") public var gridID: UUID
    @Field(key: "name") public var name: String
    @OptionalField(key: "address") public var address: String?
    @OptionalField(key: "floors") public var floors: Int?
    @OptionalField(key: "lon") public var lon: Double?
    @OptionalField(key: "lat") public var lat: Double?
    @Timestamp(key: "created_at", on: .create) public var createdAt: Date?
    @Timestamp(key: "updated_at", on: .update) public var updatedAt: Date?
    public init() {}
    public init(_ d: Building) {
        id = d.id
        update(from: d)
    }
    public func update(from d: Building) {
        gridID = d.gridID
        name = d.name
        address = d.address
        floors = d.floors
        lon = d.location?.lon
        lat = d.location?.lat
    }
    public func toDomain() -> Building {
        Building(
            id: id!, gridID: gridID, name: name, address: address, floors: floors,
            location: (lon != nil && lat != nil) ? GeoPoint(lon: lon!, lat: lat!) : nil)
    }
}
