import Foundation

/// A collected `multipart/form-data` body (RFC 7578) split into its parts: the hazard forms send a
/// few text fields and one or more photos under the same name (`<input type=file multiple>`), which
/// the streamed single-file reader of the import upload does not cover.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var data: Data
    }

    var parts: [Part]

    /// Text fields by name (the last one wins), files left out.
    var fields: [String: String] {
        var out: [String: String] = [:]
        for p in parts where p.filename == nil { out[p.name] = String(decoding: p.data, as: UTF8.self) }
        return out
    }

    /// Non-empty files of a field, in order (an empty file input sends one part with no bytes).
    func files(_ name: String) -> [Part] { parts.filter { $0.name == name && $0.filename != nil && !($0.filename ?? "").isEmpty && !$0.data.isEmpty } }

    /// Splits `body` at `--boundary` delimiters.
    /// - Returns: `nil` when the body is not multipart with this boundary.
    static func parse(_ body: Data, boundary: String) -> MultipartForm? {
        let bytes = [UInt8](body)
        let delim = Array(("--" + boundary).utf8)
        var positions: [Int] = []
        var i = 0
        while i + delim.count <= bytes.count {
            if bytes[i] == delim[0], Array(bytes[i..<(i + delim.count)]) == delim, i == 0 || (i >= 2 && bytes[i - 2] == 13 && bytes[i - 1] == 10) {
                positions.append(i)
                i += delim.count
            } else {
                i += 1
            }
        }
        guard positions.count >= 2 else { return nil }
        var parts: [Part] = []
        for k in 0..<(positions.count - 1) {
            var start = positions[k] + delim.count
            // After the delimiter: CRLF, or "--" for the closing one.
            guard start + 1 < bytes.count, bytes[start] == 13, bytes[start + 1] == 10 else { continue }
            start += 2
            let end = positions[k + 1] - 2  // the CRLF before the next delimiter belongs to it
            guard end >= start else { continue }
            let seg = bytes[start..<end]
            // Headers end at CRLFCRLF.
            var h = seg.startIndex
            var headerEnd: Int?
            while h + 3 < seg.endIndex {
                if seg[h] == 13, seg[h + 1] == 10, seg[h + 2] == 13, seg[h + 3] == 10 { headerEnd = h; break }
                h += 1
            }
            guard let he = headerEnd else { continue }
            let headers = String(decoding: seg[seg.startIndex..<he], as: UTF8.self)
            var name: String?
            var filename: String?
            for line in headers.components(separatedBy: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = Self.parameter("name", in: line)
                filename = Self.parameter("filename", in: line)
            }
            guard let name else { continue }
            parts.append(Part(name: name, filename: filename, data: Data(seg[(he + 4)..<seg.endIndex])))
        }
        return MultipartForm(parts: parts)
    }

    /// A `key="value"` parameter of a header line (`filename` does not match `name`).
    static func parameter(_ key: String, in line: String) -> String? {
        for piece in line.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard piece.hasPrefix(key + "=") else { continue }
            var v = String(piece.dropFirst(key.count + 1))
            if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
            return v
        }
        return nil
    }
}
