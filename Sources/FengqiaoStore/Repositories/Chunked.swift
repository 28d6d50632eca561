extension Array {
    /// The array cut into consecutive slices of at most `size` elements (multi-row statements stay
    /// under the engines' bind-parameter limits: SQLite 32,766, PostgreSQL 65,535).
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        precondition(size > 0)
        return stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
