import FengqiaoCore
import Foundation

/// JSON Merge Patch (RFC 7396) over a record's input: the PATCH body is a JSON object whose keys
/// replace the record's values, `null` removes a value, nested objects merge and arrays are
/// replaced whole. The merged input is then validated like a create, so a PATCH can never store
/// what a POST would refuse.
enum JSONMergePatch {
    /// The patch document: a JSON object.
    struct Document: Sendable {
        /// The patch as JSON data (kept as data so it is `Sendable`).
        let data: Data
        /// The top-level keys the patch sets or removes.
        let keys: Set<String>

        /// - Parameter allowed: the keys a patch may name (the record input's keys). An unknown key
        ///   is refused rather than ignored, so a typo never looks like a successful change and
        ///   the audit trail only ever records field names (never a caller's free text).
        /// - Throws: `DomainError.invalidField("body", …)` unless `data` is a JSON object with at
        ///   least one key, all of them in `allowed`.
        init(_ data: Data, allowed: Set<String>) throws(DomainError) {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw .invalidField(field: "body", reason: "must be a JSON object (RFC 7396 merge patch)")
            }
            guard !object.isEmpty else { throw .invalidField(field: "body", reason: "names no field to change") }
            let unknown = object.keys.filter { !allowed.contains($0) }.sorted()
            guard unknown.isEmpty else {
                throw .invalidField(field: "body", reason: .text("\(unknown.count) unknown field(s); allowed: " + allowed.sorted().joined(separator: ", ")))
            }
            self.data = data
            self.keys = Set(object.keys)
        }

        /// Whether the patch sets `key` to something other than `null`.
        func sets(_ key: String) -> Bool {
            guard keys.contains(key), let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { return false }
            return !(object[key] is NSNull)
        }

        /// The string value the patch gives `key`, if any.
        func string(_ key: String) -> String? {
            ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?[key] as? String
        }
    }

    /// Applies `patch` to `base` (encoded as JSON), dropping `dropFromBase` keys from the base
    /// first, and decodes the result.
    /// - Throws: `DecodingError` for a value of the wrong type (a 400 naming the field), or
    ///   `DomainError.invalidField("body", …)`.
    static func apply<T: Codable>(_ patch: Document, to base: T, dropFromBase: Set<String> = []) throws -> T {
        guard var target = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(base)) as? [String: Any],
              let changes = try JSONSerialization.jsonObject(with: patch.data) as? [String: Any]
        else { throw DomainError.invalidField(field: "body", reason: "must be a JSON object (RFC 7396 merge patch)") }
        for k in dropFromBase { target[k] = nil }
        let merged = merge(target, changes)
        return try JSONDecoder().decode(T.self, from: try JSONSerialization.data(withJSONObject: merged))
    }

    /// RFC 7396 §2 MergePatch(Target, Patch).
    static func merge(_ target: Any?, _ patch: Any) -> Any {
        guard let p = patch as? [String: Any] else { return patch }
        var t = (target as? [String: Any]) ?? [:]
        for (k, v) in p {
            if v is NSNull { t[k] = nil } else { t[k] = merge(t[k], v) }
        }
        return t
    }
}
