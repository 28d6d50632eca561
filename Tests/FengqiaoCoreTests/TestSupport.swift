import FengqiaoCore

/// Runs `body` and returns the `field` of the `DomainError.invalidField` it throws,
/// or `nil` when it does not throw that case.
func invalidFieldName(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        if case .invalidField(let field, _)? = error as? DomainError { return field }
        return nil
    }
}

/// Whether `body` throws `DomainError.forbidden`.
func isForbidden(_ body: () throws -> Void) -> Bool {
    do {
        try body()
        return false
    } catch {
        if case .forbidden? = error as? DomainError { return true }
        return false
    }
}

extension Array where Element == UInt8 {
    init(ascii: String) { self = Array(ascii.utf8) }
}
