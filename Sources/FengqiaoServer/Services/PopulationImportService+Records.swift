import FengqiaoCore
import FengqiaoStore
import FluentKit
import Foundation

/// Bulk import of actual houses (实有房屋) and actual organisations (实有单位), one row per
/// record, through the same streaming pipeline as residents (`run`: a bad file writes nothing;
/// every bad row is reported with its line, column and reason) and the same services as the API
/// (`HouseService`, `OrganizationService`: one transaction with its audit record per record).
///
/// The address is given as an address id (`地址ID`) or as the address columns (网格编码 街路巷
/// 门牌号 小区名称 楼栋 单元 楼层 户室号); an address not yet registered is created. Re-importing a
/// file creates no duplicates: a house with the same address and house code, or an active
/// organisation with the same USCC at the same address, is left unchanged; the same USCC at
/// another address is flagged for verification and not written.
extension PopulationImportService {
    // MARK: Templates

    /// The address columns, optional when an address id is given.
    static var optionalAddressFields: [ImportTemplate.Field] {
        [.init(key: "addressId", chineseHeader: "地址ID", englishHeader: "Address id", aliases: ["住址ID", "address"],
               hint: "an existing standard address; or give the address columns")]
            + addressFields.map { f in
                f.isRequired ? ImportTemplate.Field(key: f.key, chineseHeader: f.chineseHeader, englishHeader: f.englishHeader, aliases: f.aliases, hint: f.hint) : f
            }
    }

    /// Actual houses: one row per house; several tenants of one house go in one row, their
    /// names, document types, numbers and phones separated by `;` (or `；`, `、`) in the same order.
    public static let houseTemplate = ImportTemplate(name: "houses", fields: [
        .init(key: "houseCode", chineseHeader: "房屋编码", englishHeader: "House code", isRequired: true, aliases: ["房屋编号"], hint: "unique per address"),
        .init(key: "use", chineseHeader: "房屋用途", englishHeader: "Use", isRequired: true, hint: "住宅 商业 工业 办公 混合 其他"),
        .init(key: "area", chineseHeader: "建筑面积", englishHeader: "Area", aliases: ["面积", "建筑面积(㎡)", "area (m2)"], hint: "m², at most 2 decimals"),
        .init(key: "ownershipCertificateType", chineseHeader: "产权证类型", englishHeader: "Ownership certificate type",
              hint: "不动产权证书 房屋所有权证 购房合同 宅基地使用证 其他"),
        .init(key: "ownershipCertificateNo", chineseHeader: "产权证号", englishHeader: "Ownership certificate number", aliases: ["产权证书号"]),
        .init(key: "ownerName", chineseHeader: "房主姓名", englishHeader: "Owner name", isRequired: true, aliases: ["房主", "产权人"]),
        .init(key: "ownerIdDocType", chineseHeader: "房主证件类型", englishHeader: "Owner ID document type", hint: "GA/T 517 code or name; default 111"),
        .init(key: "ownerIdNumber", chineseHeader: "房主证件号码", englishHeader: "Owner ID number", aliases: ["房主身份证号", "产权人证件号码"]),
        .init(key: "ownerPhone", chineseHeader: "房主联系电话", englishHeader: "Owner phone", aliases: ["房主电话"]),
        .init(key: "ownerCurrentAddress", chineseHeader: "房主现住址", englishHeader: "Owner current address"),
        .init(key: "occupancy", chineseHeader: "使用状况", englishHeader: "Occupancy", isRequired: true, aliases: ["房屋状态", "使用情况"],
              hint: "自住 出租 空置 借住 单位用房"),
        .init(key: "rentalPurpose", chineseHeader: "出租用途", englishHeader: "Rental purpose", hint: "居住 生产 经营 仓储 混合; only when 出租"),
        .init(key: "tenantNames", chineseHeader: "承租人姓名", englishHeader: "Tenant names", aliases: ["承租人"], hint: "several separated by ;"),
        .init(key: "tenantIdDocTypes", chineseHeader: "承租人证件类型", englishHeader: "Tenant ID document types", hint: "default 111"),
        .init(key: "tenantIdNumbers", chineseHeader: "承租人证件号码", englishHeader: "Tenant ID numbers", aliases: ["承租人身份证号"]),
        .init(key: "tenantPhones", chineseHeader: "承租人联系电话", englishHeader: "Tenant phones", aliases: ["承租人电话"]),
        .init(key: "leaseStart", chineseHeader: "租赁起始日期", englishHeader: "Lease start", aliases: ["起租日期"], hint: "YYYY-MM-DD"),
        .init(key: "leaseEnd", chineseHeader: "租赁截止日期", englishHeader: "Lease end", aliases: ["到期日期"], hint: "YYYY-MM-DD"),
        .init(key: "groupRental", chineseHeader: "是否群租", englishHeader: "Group rental", aliases: ["群租"], hint: "是/否"),
    ] + optionalAddressFields)

    /// Actual organisations: one row per organisation.
    public static let organizationTemplate = ImportTemplate(name: "organizations", fields: [
        .init(key: "uscc", chineseHeader: "统一社会信用代码", englishHeader: "USCC", isRequired: true, aliases: ["信用代码", "unified social credit code"]),
        .init(key: "confirmWarnings", chineseHeader: "确认校验", englishHeader: "Confirm warnings", aliases: ["确认警告"],
              hint: "是: keep a USCC whose check character does not match (GB 32100 §5.3)"),
        .init(key: "name", chineseHeader: "单位名称", englishHeader: "Name", isRequired: true, aliases: ["名称", "企业名称"]),
        .init(key: "type", chineseHeader: "单位类型", englishHeader: "Type", isRequired: true, aliases: ["单位类别", "企业类别"],
              hint: "机关 事业单位 企业 个体工商户 社会组织 其他"),
        .init(key: "industrySection", chineseHeader: "行业门类", englishHeader: "Industry section", hint: "GB/T 4754 letter A–T"),
        .init(key: "industryCode", chineseHeader: "行业代码", englishHeader: "Industry code", aliases: ["行业分类代码"], hint: "GB/T 4754, 2–4 digits"),
        .init(key: "legalRepresentativeName", chineseHeader: "法定代表人", englishHeader: "Legal representative", isRequired: true,
              aliases: ["法定代表人姓名", "负责人", "经营者"]),
        .init(key: "legalRepresentativeIdDocType", chineseHeader: "法定代表人证件类型", englishHeader: "Legal representative ID document type",
              hint: "GA/T 517 code or name; default 111"),
        .init(key: "legalRepresentativeIdNumber", chineseHeader: "法定代表人证件号码", englishHeader: "Legal representative ID number",
              aliases: ["法定代表人身份证号"]),
        .init(key: "legalRepresentativePhone", chineseHeader: "法定代表人联系电话", englishHeader: "Legal representative phone", aliases: ["法定代表人电话"]),
        .init(key: "securityContactName", chineseHeader: "治保负责人", englishHeader: "Security contact"),
        .init(key: "securityContactPhone", chineseHeader: "治保负责人电话", englishHeader: "Security contact phone", aliases: ["治保负责人联系电话"]),
        .init(key: "employeeCount", chineseHeader: "从业人数", englishHeader: "Employees", aliases: ["员工人数", "从业人员数"]),
        .init(key: "keyUnit", chineseHeader: "重点单位", englishHeader: "Key unit", aliases: ["是否重点单位"], hint: "是/否"),
        .init(key: "specialTrade", chineseHeader: "特种行业", englishHeader: "Special trade", hint: "旅馆业 印刷业 旧货业 开锁业 其他 无"),
        .init(key: "specialTradePermitNo", chineseHeader: "特种行业许可证号", englishHeader: "Special trade permit number"),
    ] + optionalAddressFields)

    // MARK: Import

    /// Imports actual houses; see the type's documentation.
    public func importHouses(fileAt url: URL, options: Options, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Report {
        try await run(url, template: Self.houseTemplate, options: options, requiresGrid: true) { state, row, m in
            try await self.houseRow(row, m, state: state, options: options, actor: actor, visible: visible, now: now)
        }
    }

    /// Imports actual organisations; see the type's documentation.
    public func importOrganizations(fileAt url: URL, options: Options, actor: Actor, visible: VisibleTerritory, now: Date = Date()) async throws -> Report {
        try await run(url, template: Self.organizationTemplate, options: options, requiresGrid: true) { state, row, m in
            try await self.organizationRow(row, m, state: state, options: options, actor: actor, visible: visible, now: now)
        }
    }

    /// Where a row's record lives: an existing address, or one to create with the record.
    struct RowAddress {
        var id: UUID
        var gridID: UUID
        /// The address to create first (its id is `id`), when no active address has its key.
        var create: StandardAddress.Input?
        var naturalKey: String?
    }

    /// The row's address: the `addressId` column, or the address columns resolved by their
    /// natural key (an address created earlier in a dry run counts as existing).
    /// Every bad address field goes to `errors` (the result is then `nil`).
    func rowAddress(_ row: ImportRow, _ m: ImportHeaderMapping, state: State, options: Options, visible: VisibleTerritory,
                    errors: inout FieldErrorCollector) async throws -> RowAddress? {
        if let raw = m.value("addressId", in: row)?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            guard let id = UUID(uuidString: raw) else {
                errors.add(.invalidField(field: "addressId", reason: .notAnID))
                return nil
            }
            do {
                let a = try await HouseService(app).activeAddress(id, visible: visible)
                return RowAddress(id: a.id, gridID: a.gridID)
            } catch let e as DomainError {
                errors.add(e)
                return nil
            }
        }
        guard let (input, a) = try await validatedAddress(row, m, state: state, options: options, visible: visible, errors: &errors) else { return nil }
        let key = a.naturalKey
        if let id = try await addresses.activeIDs(forKeys: [key], on: app.store.db)[key] ?? state.pendingAddresses[key] {
            return RowAddress(id: id, gridID: a.gridID)
        }
        return RowAddress(id: a.id, gridID: a.gridID, create: input, naturalKey: key)
    }

    /// Creates the row's address when it is new (or, in a dry run, remembers it).
    func materialise(_ address: RowAddress, state: State, options: Options, actor: Actor, visible: VisibleTerritory) async throws -> UUID {
        guard let input = address.create, let key = address.naturalKey else { return address.id }
        state.report.addressesCreated += 1
        if options.dryRun {
            state.pendingAddresses[key] = address.id
            return address.id
        }
        return try await population.createAddress(input, actor: actor, visible: visible).id
    }

    func houseRow(_ row: ImportRow, _ m: ImportHeaderMapping, state: State, options: Options, actor: Actor, visible: VisibleTerritory, now: Date) async throws {
        if rowProblems(state, row) { return }
        do {
            // Every bad cell, address field and broken rule of the row.
            var c = FieldErrorCollector()
            var input = Self.houseInput(row, m, errors: &c)
            let rowAddress = try await rowAddress(row, m, state: state, options: options, visible: visible, errors: &c)
            input.addressId = rowAddress?.id ?? UUID()
            // Validate before anything is written, so a bad row creates no address.
            var checked: ActualHouse?
            do {
                checked = try input.validatedCollectingAll(today: PopulationService.today(now), history: try ReferenceData.historicCountyCodes,
                                                           gridID: rowAddress?.gridID ?? UUID()).value
            } catch let e as FieldErrors {
                for error in e.errors { c.add(Self.tenantColumn(error)) }
            }
            guard c.errors.isEmpty, let address = rowAddress, let house = checked else { throw FieldErrors(c.errors) }
            let key = HouseRepository.key(addressID: address.id, houseCode: house.houseCode)
            if address.create == nil, try await HouseRepository(cipher: app.cipher).existing(addressID: address.id, houseCode: house.houseCode, on: app.store.db) != nil
                || state.pendingKeys.contains("house:" + key) {
                state.report.unchanged += 1
                return
            }
            if options.dryRun {
                _ = try await materialise(address, state: state, options: options, actor: actor, visible: visible)
                state.pendingKeys.insert("house:" + key)
                state.report.imported += 1
                return
            }
            input.addressId = try await materialise(address, state: state, options: options, actor: actor, visible: visible)
            do {
                _ = try await Self.tenantErrors { try await HouseService(app).create(input, actor: actor, visible: visible, now: now) }
                state.report.imported += 1
            } catch DomainError.conflict(field: "houseCode", _) {
                state.report.unchanged += 1
            }
        } catch {
            try reject(state, row, m, error)
        }
    }

    func organizationRow(_ row: ImportRow, _ m: ImportHeaderMapping, state: State, options: Options, actor: Actor, visible: VisibleTerritory, now: Date) async throws {
        if rowProblems(state, row) { return }
        do {
            // Every bad cell, address field and broken rule of the row.
            var c = FieldErrorCollector()
            var input = Self.organizationInput(row, m, errors: &c)
            let rowAddress = try await rowAddress(row, m, state: state, options: options, visible: visible, errors: &c)
            input.addressId = rowAddress?.id ?? UUID()
            var checked: ActualOrganization?
            do {
                checked = try input.validatedCollectingAll(today: PopulationService.today(now), history: try ReferenceData.historicCountyCodes,
                                                           gridID: rowAddress?.gridID ?? UUID()).value
            } catch let e as FieldErrors {
                for error in e.errors { c.add(Self.organizationColumn(error)) }
            }
            guard c.errors.isEmpty, let address = rowAddress, let org = checked else { throw FieldErrors(c.errors) }
            let code = org.uscc.value
            let flagReason = "该统一社会信用代码的在营单位已登记在另一地址；迁移记录前请先核实"
            let flagReasonEnglish = "an active organization with this code is registered at another address; verify before moving the record"
            var holderAddress = try await OrganizationRepository(cipher: app.cipher).activeHolder(ofUSCC: code, on: app.store.db)?.addressID
            if holderAddress == nil, org.status == .active { holderAddress = state.pending["uscc:" + code] }
            if let h = holderAddress, org.status == .active {
                if h == address.id { state.report.unchanged += 1 } else {
                    state.report.flagged.append(RowIssue(line: row.line, column: state.column("uscc", m), reason: flagReason, reasonEnglish: flagReasonEnglish))
                }
                return
            }
            if options.dryRun {
                state.pending["uscc:" + code] = try await materialise(address, state: state, options: options, actor: actor, visible: visible)
                state.report.imported += 1
                return
            }
            input.addressId = try await materialise(address, state: state, options: options, actor: actor, visible: visible)
            do {
                _ = try await Self.organizationErrors { try await OrganizationService(app).create(input, actor: actor, visible: visible, now: now) }
                state.report.imported += 1
            } catch DomainError.conflict(field: "uscc", _) {
                // Registered meanwhile by someone else.
                let h = try await OrganizationRepository(cipher: app.cipher).activeHolder(ofUSCC: code, on: app.store.db)?.addressID
                if h == input.addressId { state.report.unchanged += 1 } else {
                    state.report.flagged.append(RowIssue(line: row.line, column: state.column("uscc", m), reason: flagReason, reasonEnglish: flagReasonEnglish))
                }
            }
        } catch {
            try reject(state, row, m, error)
        }
    }

    // MARK: Error columns

    /// Reports a tenant's field (`tenants[1].idNumber`) on the column that lists it
    /// (承租人证件号码), naming the tenant by position.
    static func tenantErrors<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as DomainError { throw tenantColumn(e) }
    }

    /// The error of a tenant's field moved to the column that lists it; others as they are.
    static func tenantColumn(_ e: DomainError) -> DomainError {
        switch e {
        case .invalidField(let field, let reason) where field.hasPrefix("tenants["):
            let parts = field.dropFirst("tenants[".count).split(separator: "]", maxSplits: 1)
            let index = Int(parts.first ?? "").map { $0 + 1 } ?? 0
            let key: String
            switch parts.count == 2 ? String(parts[1]) : "" {
            case ".name": key = "tenantNames"
            case ".idDocType": key = "tenantIdDocTypes"
            case ".phone": key = "tenantPhones"
            case ".residentId": key = "tenantIdNumbers"
            default: key = "tenantIdNumbers"
            }
            return .invalidField(field: key, reason: .tenant(index, reason))
        case .invalidField(field: "tenants", let reason):
            return .invalidField(field: "tenantNames", reason: reason)
        default:
            return e
        }
    }

    /// Reports a licence field on the 特种行业许可证号 column, and points a USCC check mismatch at
    /// the 确认校验 column instead of the API's `confirmWarnings`.
    static func organizationErrors<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as DomainError { throw organizationColumn(e) }
    }

    /// The error moved to its import column (see `organizationErrors`); others as they are.
    static func organizationColumn(_ e: DomainError) -> DomainError {
        switch e {
        case .invalidField(let field, let reason) where field.hasPrefix("licences"):
            return .invalidField(field: "specialTradePermitNo", reason: reason)
        case .invalidField(field: "uscc", .usccCheckUnconfirmed(let found, let expected)):
            return .invalidField(field: "uscc", reason: .usccCheckUnconfirmedImport(found: found, expected: expected))
        default:
            return e
        }
    }

    // MARK: Cell parsing

    /// The trimmed cell of `key`, `nil` when the column is absent or the cell empty.
    static func cell(_ key: String, _ row: ImportRow, _ m: ImportHeaderMapping) -> String? {
        m.value(key, in: row).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// A code-table cell: the English code or the Chinese name (or an alias), any case.
    static func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ row: ImportRow, _ m: ImportHeaderMapping, _ type: T.Type,
                                                          name: (T) -> String, aliases: [String: T] = [:]) throws(DomainError) -> T? where T.RawValue == String {
        guard let s = cell(key, row, m) else { return nil }
        var table = aliases
        for c in T.allCases {
            table[c.rawValue.lowercased()] = c
            table[name(c)] = c
        }
        guard let v = table[s.lowercased()] ?? table[s] else {
            throw .invalidField(field: key, reason: .notOneOf(s, choices: T.allCases.map(name)))
        }
        return v
    }

    static func flag(_ key: String, _ row: ImportRow, _ m: ImportHeaderMapping) throws(DomainError) -> Bool? {
        guard let s = cell(key, row, m) else { return nil }
        switch s.lowercased() {
        case "是", "y", "yes", "true", "1", "√": return true
        case "否", "n", "no", "false", "0": return false
        default: throw .invalidField(field: key, reason: .notYesNo(s))
        }
    }

    static func documentType(_ key: String, _ s: String) throws(DomainError) -> IdentityDocumentType {
        for t in IdentityDocumentType.allCases where t.rawValue == s || t.chineseName == s { return t }
        throw .invalidField(field: key, reason: .notDocumentType(s))
    }

    /// Splits a multi-value cell on `;`, `；`, `、` or a line break; empty parts are kept so the
    /// positions of the lists line up.
    static func list(_ s: String?) -> [String] {
        guard let s else { return [] }
        return s.split(omittingEmptySubsequences: false, whereSeparator: { ";；、\n".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }
    }

    static func houseInput(_ row: ImportRow, _ m: ImportHeaderMapping, errors c: inout FieldErrorCollector) -> ActualHouse.Input {
        var i = ActualHouse.Input()
        i.houseCode = cell("houseCode", row, m)
        i.use = c.check { () throws(DomainError) in
            try choice("use", row, m, ActualHouse.Use.self, name: \.chineseName, aliases: ["住宅用房": .residential, "商铺": .commercial, "厂房": .industrial])
        } ?? nil
        if let a = cell("area", row, m) { i.area = c.check { () throws(DomainError) in try FloorArea(text: a, field: "area").squareMetres } }
        i.ownershipCertificateType = c.check { () throws(DomainError) in
            try choice("ownershipCertificateType", row, m, ActualHouse.OwnershipCertificateType.self, name: \.chineseName,
                       aliases: ["房产证": .houseOwnership, "不动产证": .realEstateTitle])
        } ?? nil
        i.ownershipCertificateNo = cell("ownershipCertificateNo", row, m)
        i.ownerName = cell("ownerName", row, m)
        i.ownerIdNumber = cell("ownerIdNumber", row, m)
        if let t = cell("ownerIdDocType", row, m) {
            i.ownerIdDocType = c.check { () throws(DomainError) in try documentType("ownerIdDocType", t) }
            // A bad type: the number is not checked against a guessed one.
            if i.ownerIdDocType == nil { i.ownerIdNumber = nil }
        } else if i.ownerIdNumber != nil {
            i.ownerIdDocType = .residentIdCard
        }
        i.ownerPhone = cell("ownerPhone", row, m)
        i.ownerCurrentAddress = cell("ownerCurrentAddress", row, m)
        i.occupancy = c.check { () throws(DomainError) in
            try choice("occupancy", row, m, ActualHouse.Occupancy.self, name: \.chineseName, aliases: ["闲置": .vacant, "单位使用": .organizationUse])
        } ?? nil
        i.rentalPurpose = c.check { () throws(DomainError) in
            try choice("rentalPurpose", row, m, ActualHouse.RentalPurpose.self, name: \.chineseName, aliases: ["住宿": .living, "商用": .business])
        } ?? nil
        let names = list(cell("tenantNames", row, m))
        let numbers = list(cell("tenantIdNumbers", row, m))
        let types = list(cell("tenantIdDocTypes", row, m))
        let phones = list(cell("tenantPhones", row, m))
        if !names.isEmpty || !numbers.isEmpty {
            // Lists that do not line up are reported on their column; the tenants are still
            // built (a missing value left empty, reported on the same column) so the other
            // columns are checked too.
            let numbersMatch = numbers.count == names.count
            let typesMatch = types.isEmpty || types.count == names.count
            let phonesMatch = phones.isEmpty || phones.count == names.count
            if !numbersMatch {
                c.add(.invalidField(field: "tenantIdNumbers", reason: .tenantListLength(found: numbers.count, what: "numbers", names: names.count)))
            }
            if !typesMatch {
                c.add(.invalidField(field: "tenantIdDocTypes", reason: .tenantListLength(found: types.count, what: "types", names: names.count)))
            }
            if !phonesMatch {
                c.add(.invalidField(field: "tenantPhones", reason: .tenantListLength(found: phones.count, what: "phones", names: names.count)))
            }
            var tenants: [ActualHouse.TenantInput] = []
            for k in names.indices {
                var type: IdentityDocumentType? = .residentIdCard
                if !typesMatch {
                    type = nil
                } else if !types.isEmpty, !types[k].isEmpty {
                    type = c.check { () throws(DomainError) in try documentType("tenantIdDocTypes", types[k]) }
                }
                tenants.append(.init(name: names[k], idDocType: type, idNumber: k < numbers.count ? numbers[k] : nil,
                                     phone: phonesMatch && !phones.isEmpty ? phones[k] : nil))
            }
            i.tenants = tenants
        }
        i.leaseStart = date(cell("leaseStart", row, m))
        i.leaseEnd = date(cell("leaseEnd", row, m))
        i.groupRental = c.check { () throws(DomainError) in try flag("groupRental", row, m) } ?? nil
        return i
    }

    static func organizationInput(_ row: ImportRow, _ m: ImportHeaderMapping, errors c: inout FieldErrorCollector) -> ActualOrganization.Input {
        var i = ActualOrganization.Input()
        i.uscc = cell("uscc", row, m)
        i.confirmWarnings = c.check { () throws(DomainError) in try flag("confirmWarnings", row, m) } ?? nil
        i.name = cell("name", row, m)
        i.type = c.check { () throws(DomainError) in
            try choice("type", row, m, ActualOrganization.OrganizationType.self, name: \.chineseName,
                       aliases: ["国家机关": .stateOrgan, "机关单位": .stateOrgan, "个体户": .individualBusiness, "公司": .enterprise])
        } ?? nil
        i.industrySection = cell("industrySection", row, m)
        i.industryCode = cell("industryCode", row, m)
        i.legalRepresentativeName = cell("legalRepresentativeName", row, m)
        i.legalRepresentativeIdNumber = cell("legalRepresentativeIdNumber", row, m)
        if let t = cell("legalRepresentativeIdDocType", row, m) {
            i.legalRepresentativeIdDocType = c.check { () throws(DomainError) in try documentType("legalRepresentativeIdDocType", t) }
            if i.legalRepresentativeIdDocType == nil { i.legalRepresentativeIdNumber = nil }
        } else if i.legalRepresentativeIdNumber != nil {
            i.legalRepresentativeIdDocType = .residentIdCard
        }
        i.legalRepresentativePhone = cell("legalRepresentativePhone", row, m)
        i.securityContactName = cell("securityContactName", row, m)
        i.securityContactPhone = cell("securityContactPhone", row, m)
        if let n = cell("employeeCount", row, m) {
            if let v = Int(n) { i.employeeCount = v } else { c.add(.invalidField(field: "employeeCount", reason: .notWholeNumber(n))) }
        }
        i.keyUnit = c.check { () throws(DomainError) in try flag("keyUnit", row, m) } ?? nil
        if let s = cell("specialTrade", row, m), !["无", "none", "否", "-"].contains(s.lowercased()) {
            i.specialTrade = c.check { () throws(DomainError) in
                try choice("specialTrade", row, m, ActualOrganization.SpecialTrade.self, name: \.chineseName,
                           aliases: ["旅馆": .hotel, "印刷": .printing, "旧货": .usedGoods, "开锁": .unlockingService, "其他": .other])
            } ?? nil
        }
        if let p = cell("specialTradePermitNo", row, m) { i.licences = [.init(kind: .specialTradePermit, number: p)] }
        return i
    }
}
