/// One row of an import file, with the problems found in it while reading.
public struct ImportRow: Sendable, Equatable {
    /// 1-based line of the file where the row starts (CSV/TSV: physical line, so a quoted field
    /// spanning lines moves later rows down; XLSX: the sheet's row number).
    public let line: Int
    /// Cell values in column order. XLSX rows are padded with "" to the header's width.
    public var fields: [String]
    /// Reading problems in this row (ragged width, formula cells, Excel error values). A row with
    /// problems is still handed out so it can be reported with the others; it should not be stored.
    public var problems: [ImportCellProblem]

    public init(line: Int, fields: [String], problems: [ImportCellProblem] = []) {
        self.line = line
        self.fields = fields
        self.problems = problems
    }

    /// The value of the 0-based `column`, or "" past the end of a short row.
    public subscript(column: Int) -> String {
        column >= 0 && column < fields.count ? fields[column] : ""
    }

    /// True when every field is empty after trimming whitespace (a spreadsheet's ",,,," line).
    public var isBlank: Bool {
        fields.allSatisfy { $0.allSatisfy(\.isWhitespace) }
    }
}

/// A reading problem in one row or cell, reported with its place and reason.
public struct ImportCellProblem: Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Sendable, Equatable {
        /// The row has `found` columns where the header has `expected`.
        case raggedRow(expected: Int, found: Int)
        /// The cell holds a formula; only values are imported.
        case formulaCell
        /// The cell holds an Excel error value such as `#N/A`.
        case errorValue(String)
    }

    /// 1-based line (CSV) or row number (XLSX).
    public let line: Int
    /// 1-based column, or nil when the problem concerns the whole row.
    public let column: Int?
    public let reason: Reason

    public init(line: Int, column: Int?, reason: Reason) {
        self.line = line
        self.column = column
        self.reason = reason
    }

    /// The cell in A1 notation ("C12"), when a column is known.
    public var cellReference: String? {
        column.map { ImportCellReference(column: $0 - 1, row: line).description }
    }

    /// The problem in Chinese (the import's error file and page).
    public var chinese: String {
        switch reason {
        case .raggedRow(let expected, let found):
            return "第 \(line) 行有 \(found) 列，表头有 \(expected) 列"
        case .formulaCell:
            return "单元格 \(cellReference ?? "?") 是公式：公式不导入，请粘贴为数值"
        case .errorValue(let value):
            return "单元格 \(cellReference ?? "?") 显示错误值 \(value)"
        }
    }

    public var description: String {
        switch reason {
        case .raggedRow(let expected, let found):
            return "line \(line): \(found) columns where the header has \(expected)"
        case .formulaCell:
            return "cell \(cellReference ?? "?"): formula cells are not imported; paste values"
        case .errorValue(let value):
            return "cell \(cellReference ?? "?"): the cell shows the error \(value)"
        }
    }
}
