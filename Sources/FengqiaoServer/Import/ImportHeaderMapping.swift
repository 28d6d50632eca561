/// Where each template field sits in a file, found by `ImportTemplate.match(header:)`.
public struct ImportHeaderMapping: Sendable, Equatable {
    /// A header cell that names no field of the template; reported as a warning, its values ignored.
    public struct UnknownColumn: Sendable, Equatable {
        /// 0-based column.
        public let column: Int
        /// The header as written in the file.
        public let header: String

        public init(column: Int, header: String) {
            self.column = column
            self.header = header
        }
    }

    /// Field key → 0-based column, for every field present in the file.
    public let columns: [String: Int]
    /// Columns no field claims (warnings).
    public let unknownColumns: [UnknownColumn]

    /// The 0-based column of `key`, or nil when the file lacks that (optional) field.
    public func column(for key: String) -> Int? { columns[key] }

    /// The value of field `key` in `row`, or nil when the file lacks the column.
    public func value(_ key: String, in row: ImportRow) -> String? {
        columns[key].map { row[$0] }
    }

    /// Warning texts for the unknown columns, e.g. `column D "备注2" is not part of the template and is ignored`.
    public var warnings: [String] {
        unknownColumns.map {
            "column \(ImportCellReference.columnName($0.column)) \"\($0.header)\" is not part of the template and is ignored"
        }
    }
}
