import Foundation

extension UUID {
    /// Parses the canonical 36-character text form (`8-4-4-4-12` hex digits, either case), as
    /// SQLite stores UUID columns; `nil` for anything else. Foundation's `UUID(uuidString:)` goes
    /// through `sscanf` on Linux, which was a tenth of the CPU of a map answer listing 500 events.
    init?(storedText s: String) {
        var s = s
        let parsed: uuid_t? = s.withUTF8 { b -> uuid_t? in
            guard b.count == 36, b[8] == 0x2D, b[13] == 0x2D, b[18] == 0x2D, b[23] == 0x2D else { return nil }
            func nibble(_ c: UInt8) -> UInt8? {
                switch c {
                case 0x30...0x39: c - 0x30
                case 0x41...0x46: c - 0x41 + 10
                case 0x61...0x66: c - 0x61 + 10
                default: nil
                }
            }
            var out: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            let ok = withUnsafeMutableBytes(of: &out) { o -> Bool in
                var i = 0, k = 0
                while k < 16 {
                    if i == 8 || i == 13 || i == 18 || i == 23 { i += 1 }
                    guard let hi = nibble(b[i]), let lo = nibble(b[i + 1]) else { return false }
                    o[k] = hi << 4 | lo
                    k += 1
                    i += 2
                }
                return true
            }
            return ok ? out : nil
        }
        guard let parsed else { return nil }
        self.init(uuid: parsed)
    }
}
