import Crypto
import Foundation

/// 标准地址 — a standard address, built from the address elements of GA/T 2000.32-2014
/// (division → street → doorplate → estate → building → unit → floor → room). Domain spec §2.3,
/// §3.1.
///
/// Every address belongs to one grid (`gridID`, for data scope) and optionally to one building
/// of that grid. A retired address (`status == .retired`) is kept so residents' history still
/// points at it.
public struct StandardAddress: Codable, Sendable, Equatable, Identifiable {
    /// Whether the address is in use.
    public enum Status: String, Codable, Sendable, CaseIterable {
        /// 在用.
        case active
        /// 已注销: the address no longer exists (demolished, renumbered) but keeps its history.
        case retired
    }

    public var id: UUID
    /// 12-digit statistical division code of the community or village (`530481001001`), if known.
    public var divisionCode12: String?
    /// 街路巷 (element 41).
    public var street: String
    /// 门牌号 (proj. element 51), e.g. `1号`.
    public var doorplate: String
    /// 小区名称 (element 42), if the address lies in a residential estate.
    public var estateName: String?
    /// 楼(栋)号 (proj. element 61).
    public var building: String
    /// 单元号 (proj. element 62).
    public var unit: String
    /// 楼层 (proj. element 63).
    public var floor: String
    /// 户(室)号 (proj. element 64).
    public var room: String
    /// The grid the address lies in (data scope).
    public var gridID: UUID
    /// The building record of the grid, if linked.
    public var buildingID: UUID?
    public var status: Status

    public init(
        id: UUID = .timeOrdered(), divisionCode12: String? = nil, street: String, doorplate: String, estateName: String? = nil,
        building: String, unit: String, floor: String, room: String, gridID: UUID, buildingID: UUID? = nil, status: Status = .active
    ) {
        self.id = id
        self.divisionCode12 = divisionCode12
        self.street = street
        self.doorplate = doorplate
        self.estateName = estateName
        self.building = building
        self.unit = unit
        self.floor = floor
        self.room = room
        self.gridID = gridID
        self.buildingID = buildingID
        self.status = status
    }

    /// The address in the police collection order (domain spec §2.3, 海口警方 2018):
    /// `行政区划 + 街(路)巷 + 门牌号 + [小区名称] + 楼(栋)号 + 单元号 + 楼(层)号 + 户(室)号`.
    /// Element suffixes (`栋`, `单元`, `层`, `室`) are added unless the element already ends in one.
    /// - Parameter divisionName: the readable division name (`云南省玉溪市澄江市凤麓街道…`); omitted when `nil`.
    public func formatted(divisionName: String? = nil) -> String {
        func suffixed(_ s: String, _ suffixes: [String], _ add: String) -> String {
            suffixes.contains(where: { s.hasSuffix($0) }) ? s : s + add
        }
        return [
            divisionName ?? "", street, suffixed(doorplate, ["号"], "号"), estateName ?? "",
            suffixed(building, ["栋", "幢", "楼", "座"], "栋"), suffixed(unit, ["单元"], "单元"),
            suffixed(floor, ["层", "楼"], "层"), suffixed(room, ["室", "号", "户"], "室"),
        ].joined()
    }

    /// The address's identity within its grid: SHA-256 (hex) of the grid id and the seven elements
    /// from street to room, separated by U+001F. Two active addresses with the same key are the
    /// same place; the bulk import finds existing addresses by it (one indexed lookup per batch).
    public var naturalKey: String {
        let text = [gridID.uuidString.lowercased(), street, doorplate, estateName ?? "", building, unit, floor, room].joined(separator: "\u{1F}")
        return Hex.lowercase(SHA256.hash(data: Data(text.utf8)))
    }

    /// What a caller sends to create an address; every value is checked by `validated(gridID:)`.
    public struct Input: Codable, Sendable {
        public var divisionCode12: String?
        public var street: String?
        public var doorplate: String?
        public var estateName: String?
        public var building: String?
        public var unit: String?
        public var floor: String?
        public var room: String?
        public var gridId: UUID?
        public var buildingId: UUID?

        public init(
            divisionCode12: String? = nil, street: String? = nil, doorplate: String? = nil, estateName: String? = nil,
            building: String? = nil, unit: String? = nil, floor: String? = nil, room: String? = nil, gridId: UUID? = nil, buildingId: UUID? = nil
        ) {
            self.divisionCode12 = divisionCode12
            self.street = street
            self.doorplate = doorplate
            self.estateName = estateName
            self.building = building
            self.unit = unit
            self.floor = floor
            self.room = room
            self.gridId = gridId
            self.buildingId = buildingId
        }

        /// Checks the input and builds an active address.
        /// - Throws: `DomainError.invalidField(field, reason)` for a missing grid, street,
        ///   doorplate, building, unit, floor or room, a value over 50 characters (estate 100) or a
        ///   `divisionCode12` that is not 12 digits.
        public func validated() throws(DomainError) -> StandardAddress {
            do { return try validatedCollectingAll() } catch { throw error.first }
        }

        /// Checks every field (the rules of `validated()`).
        /// - Throws: `FieldErrors`, one `DomainError.invalidField` per bad field in the order
        ///   grid, division code, street, doorplate, estate, building, unit, floor, room.
        public func validatedCollectingAll() throws(FieldErrors) -> StandardAddress {
            var c = FieldErrorCollector()
            if gridId == nil { c.add(.invalidField(field: "gridId", reason: .required)) }
            var code12: String?
            if let raw = divisionCode12?.trimmed, !raw.isEmpty {
                if raw.count == 12, raw.allSatisfy({ $0.isASCII && $0.isWholeNumber }) { code12 = raw } else {
                    c.add(.invalidField(field: "divisionCode12", reason: .divisionCode12))
                }
            }
            let street = c.check { () throws(DomainError) in try FieldRules.name(self.street, field: "street", max: 50) }
            let doorplate = c.check { () throws(DomainError) in try FieldRules.name(self.doorplate, field: "doorplate", max: 50) }
            let estate = c.check { () throws(DomainError) in try FieldRules.optional(estateName, field: "estateName", max: 100) } ?? nil
            let building = c.check { () throws(DomainError) in try FieldRules.name(self.building, field: "building", max: 50) }
            let unit = c.check { () throws(DomainError) in try FieldRules.name(self.unit, field: "unit", max: 50) }
            let floor = c.check { () throws(DomainError) in try FieldRules.name(self.floor, field: "floor", max: 50) }
            let room = c.check { () throws(DomainError) in try FieldRules.name(self.room, field: "room", max: 50) }
            guard c.errors.isEmpty, let gridId, let street, let doorplate, let building, let unit, let floor, let room else {
                throw FieldErrors(c.errors)
            }
            return StandardAddress(
                divisionCode12: code12, street: street, doorplate: doorplate, estateName: estate, building: building,
                unit: unit, floor: floor, room: room, gridID: gridId, buildingID: buildingId)
        }
    }
}
