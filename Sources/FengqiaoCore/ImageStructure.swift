import Foundation

/// Structural check of an uploaded photo (issue 5: "photos are checked by their content"). A
/// signature alone is not enough — an 11-byte file starting `FF D8 FF` is no photo, and a photo
/// cut short by a dropped connection still starts with the right bytes. This walks each format's
/// own framing far enough to know the file is whole and has plausible pixel dimensions, without
/// decoding pixels:
///
/// * **JPEG** (ISO/IEC 10918-1 Annex B / ITU-T T.81): SOI, then marker segments with their
///   lengths up to a frame header SOFn (Annex B.2.2: precision, height, width 1…65535, 1–4
///   components, length 8 + 3·Nf), then a scan header SOS (B.2.3, 1–4 components, length
///   6 + 2·Ns) with entropy-coded data, and an EOI. Bytes after the EOI are tolerated (several
///   phone makers append a metadata trailer there); a file that ends before its EOI is refused.
/// * **PNG** (ISO/IEC 15948:2004 §5): signature, `IHDR` first (13 bytes: width and height
///   1…2³¹−1, a valid bit depth / colour type pair, compression 0, filter 0, interlace 0 or 1),
///   every chunk's CRC-32 (ISO 3309 / ITU-T V.42 polynomial, §5.5), a `PLTE` for colour type 3,
///   at least one `IDAT`, and `IEND` as the last chunk with nothing after it.
/// * **HEIC** (ISO/IEC 14496-12 boxes, ISO/IEC 23008-12 HEIF): `ftyp` first with a HEIF brand
///   (major or compatible), top-level boxes whose sizes tile the file exactly, a `meta` box, and
///   an image spatial extent `ispe` (meta → iprp → ipco) with non-zero width and height.
///
/// Dimensions above `maxSide` on a side or `maxPixels` in total are refused (a small file that
/// announces a huge image is a decompression bomb; no phone camera takes more than ~200 Mpx).
public enum ImageStructure {
    /// Largest accepted side, in pixels (the JPEG maximum).
    public static let maxSide = 65_535
    /// Largest accepted pixel count (250 Mpx).
    public static let maxPixels = 250_000_000

    /// Why a file was refused; `reason` names the format, what is wrong and the byte offset.
    public struct Problem: Error, Equatable, Sendable {
        public var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Checks `bytes` as `format`.
    /// - Returns: the width and height from the file's header.
    /// - Throws: `Problem` naming what is wrong.
    public static func check(_ format: PhotoFormat, _ bytes: [UInt8]) throws(Problem) -> (width: Int, height: Int) {
        switch format {
        case .jpeg: try jpeg(bytes)
        case .png: try png(bytes)
        case .heic: try heif(bytes)
        }
    }

    static func plausible(_ fmt: String, _ w: Int, _ h: Int) throws(Problem) -> (width: Int, height: Int) {
        guard w > 0, h > 0 else { throw Problem("\(fmt): the image has no pixels (\(w) × \(h))") }
        guard w <= maxSide, h <= maxSide, w * h <= maxPixels else {
            throw Problem("\(fmt): implausible dimensions \(w) × \(h) (at most \(maxSide) per side and \(maxPixels / 1_000_000) Mpx)")
        }
        return (w, h)
    }

    static func be16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
    static func be32(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) << 24 | Int(b[i + 1]) << 16 | Int(b[i + 2]) << 8 | Int(b[i + 3]) }

    // MARK: JPEG

    static func hex(_ m: UInt8) -> String { "FF" + String(m, radix: 16, uppercase: true).leftPadded(2) }

    /// Whether `m` is a start-of-frame marker SOF0…SOF15 (C0–CF without DHT C4, JPG C8, DAC CC).
    static func isSOF(_ m: UInt8) -> Bool { (0xC0...0xCF).contains(m) && m != 0xC4 && m != 0xC8 && m != 0xCC }

    static func jpeg(_ b: [UInt8]) throws(Problem) -> (width: Int, height: Int) {
        let n = b.count
        guard n >= 4, b[0] == 0xFF, b[1] == 0xD8 else { throw Problem("JPEG: no SOI marker (FFD8) at the start") }
        var i = 2
        var size: (Int, Int)?
        var sawScan = false
        while true {
            // A marker: one or more FF fill bytes, then the code.
            guard i < n else {
                throw Problem(sawScan ? "JPEG: the file ends without an EOI marker (FFD9); it is probably truncated"
                                      : "JPEG: the file ends at byte \(i) before a \(size == nil ? "frame header (SOFn)" : "scan (SOS)")")
            }
            guard b[i] == 0xFF else { throw Problem("JPEG: expected a marker at byte \(i), found \(String(format: "%02X", b[i]))") }
            while i < n && b[i] == 0xFF { i += 1 }
            guard i < n else { throw Problem("JPEG: the file ends inside a marker at byte \(i)") }
            let m = b[i]
            let at = i - 1
            i += 1
            switch m {
            case 0xD9:  // EOI
                guard let size else { throw Problem("JPEG: EOI at byte \(at) before any frame header (SOFn)") }
                guard sawScan else { throw Problem("JPEG: EOI at byte \(at) before any scan (SOS)") }
                return try plausible("JPEG", size.0, size.1)
            case 0xD8:
                throw Problem("JPEG: a second SOI marker at byte \(at)")
            case 0x00, 0xD0...0xD7, 0x01:
                throw Problem("JPEG: marker \(hex(m)) at byte \(at) outside entropy-coded data")
            default:
                break
            }
            guard i + 2 <= n else { throw Problem("JPEG: segment \(hex(m)) at byte \(at) is cut off before its length") }
            let len = be16(b, i)
            guard len >= 2 else { throw Problem("JPEG: segment \(hex(m)) at byte \(at) has an invalid length \(len)") }
            guard i + len <= n else {
                throw Problem("JPEG: segment \(hex(m)) at byte \(at) declares \(len) bytes but the file ends after \(n - i); it is probably truncated")
            }
            let body = i + 2
            if isSOF(m) {
                guard size == nil else { throw Problem("JPEG: a second frame header \(hex(m)) at byte \(at)") }
                guard len >= 8 else { throw Problem("JPEG: frame header \(hex(m)) at byte \(at) is too short (\(len) bytes)") }
                let precision = Int(b[body]), height = be16(b, body + 1), width = be16(b, body + 3), comps = Int(b[body + 5])
                guard [8, 12].contains(precision) || (m == 0xC3 || m == 0xC7 || m == 0xCB || m == 0xCF) && (2...16).contains(precision) else {
                    throw Problem("JPEG: frame header at byte \(at) has an invalid sample precision \(precision)")
                }
                guard (1...4).contains(comps), len == 8 + 3 * comps else {
                    throw Problem("JPEG: frame header at byte \(at) has \(comps) components and length \(len) (expected 1–4 and 8 + 3 per component)")
                }
                guard height > 0, width > 0 else {
                    throw Problem("JPEG: frame header at byte \(at) announces \(width) × \(height) pixels")
                }
                size = (width, height)
            } else if m == 0xDA {  // SOS
                guard size != nil else { throw Problem("JPEG: scan (SOS) at byte \(at) before any frame header (SOFn)") }
                let ns = len >= 3 ? Int(b[body]) : 0
                guard (1...4).contains(ns), len == 6 + 2 * ns else {
                    throw Problem("JPEG: scan header at byte \(at) has \(ns) components and length \(len) (expected 1–4 and 6 + 2 per component)")
                }
                sawScan = true
                // Entropy-coded data: up to the next marker that is not stuffing (FF00) or a restart (FFD0–FFD7).
                var j = i + len
                while j + 1 < n {
                    if b[j] == 0xFF {
                        let c = b[j + 1]
                        if c == 0x00 || (0xD0...0xD7).contains(c) { j += 2; continue }
                        if c == 0xFF { j += 1; continue }
                        break
                    }
                    j += 1
                }
                guard j + 1 < n else { throw Problem("JPEG: the file ends inside the entropy-coded data without an EOI marker (FFD9); it is probably truncated") }
                i = j
                continue
            }
            i += len
        }
    }

    // MARK: PNG

    /// CRC-32 as PNG uses it (ISO 3309, reflected polynomial 0xEDB88320; ISO/IEC 15948 Annex D).
    public static func crc32(_ b: [UInt8], _ range: Range<Int>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for i in range { c = crcTable[Int((c ^ UInt32(b[i])) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func png(_ b: [UInt8]) throws(Problem) -> (width: Int, height: Int) {
        let n = b.count
        var i = 8
        var size: (Int, Int)?
        var colourType = -1
        var sawPLTE = false, sawIDAT = false
        var index = 0
        while true {
            guard i + 12 <= n else {
                throw Problem(i == n ? "PNG: the file ends without an IEND chunk; it is probably truncated" : "PNG: the file ends inside a chunk header at byte \(i); it is probably truncated")
            }
            let len = be32(b, i)
            let typeBytes = Array(b[(i + 4)..<(i + 8)])
            guard typeBytes.allSatisfy({ (65...90).contains($0) || (97...122).contains($0) }) else {
                throw Problem("PNG: invalid chunk type at byte \(i + 4)")
            }
            let type = String(decoding: typeBytes, as: UTF8.self)
            guard len <= 0x7FFF_FFFF, i + 12 + len <= n else {
                throw Problem("PNG: chunk \(type) at byte \(i) declares \(len) bytes but the file ends after \(n - i - 12); it is probably truncated")
            }
            let data = i + 8
            let stored = UInt32(be32(b, data + len))
            guard crc32(b, (i + 4)..<(data + len)) == stored else { throw Problem("PNG: CRC mismatch in chunk \(type) at byte \(i)") }
            if index == 0 {
                guard type == "IHDR" else { throw Problem("PNG: the first chunk is \(type), not IHDR") }
                guard len == 13 else { throw Problem("PNG: IHDR has length \(len), not 13") }
                let w = be32(b, data), h = be32(b, data + 4)
                let depth = Int(b[data + 8]), ct = Int(b[data + 9])
                let allowed: [Int: [Int]] = [0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16]]
                guard let depths = allowed[ct], depths.contains(depth) else {
                    throw Problem("PNG: IHDR has an invalid colour type \(ct) / bit depth \(depth) combination")
                }
                guard b[data + 10] == 0, b[data + 11] == 0, b[data + 12] <= 1 else {
                    throw Problem("PNG: IHDR has an unknown compression, filter or interlace method")
                }
                guard w <= 0x7FFF_FFFF, h <= 0x7FFF_FFFF else { throw Problem("PNG: IHDR dimensions exceed 2³¹−1") }
                size = try plausible("PNG", w, h)
                colourType = ct
            } else {
                switch type {
                case "IHDR": throw Problem("PNG: a second IHDR chunk at byte \(i)")
                case "PLTE": sawPLTE = true
                case "IDAT":
                    if colourType == 3 && !sawPLTE { throw Problem("PNG: IDAT before the PLTE that colour type 3 needs") }
                    sawIDAT = true
                case "IEND":
                    guard len == 0 else { throw Problem("PNG: IEND has length \(len), not 0") }
                    guard sawIDAT else { throw Problem("PNG: IEND without any IDAT (no image data)") }
                    guard i + 12 == n else { throw Problem("PNG: \(n - i - 12) bytes after IEND") }
                    return size!
                default:
                    // Unknown critical chunks (upper-case first letter) cannot be skipped (§5.4).
                    if (65...90).contains(typeBytes[0]), !["cHRM", "gAMA", "iCCP", "sBIT", "sRGB", "bKGD", "hIST", "tRNS", "pHYs", "sPLT", "tIME", "iTXt", "tEXt", "zTXt", "eXIf"].contains(type) {
                        throw Problem("PNG: unknown critical chunk \(type) at byte \(i)")
                    }
                }
            }
            index += 1
            i = data + len + 4
        }
    }

    // MARK: HEIF / HEIC

    struct Box { var type: String; var start: Int; var body: Int; var end: Int }

    /// The boxes tiling `range` exactly (ISO/IEC 14496-12 §4.2: size 0 = to the end, 1 = 64-bit size).
    static func boxes(_ b: [UInt8], _ range: Range<Int>, path: String) throws(Problem) -> [Box] {
        var out: [Box] = []
        var i = range.lowerBound
        while i < range.upperBound {
            guard i + 8 <= range.upperBound else { throw Problem("HEIC: \(path)box header at byte \(i) is cut off; the file is probably truncated") }
            var size = be32(b, i)
            let typeBytes = Array(b[(i + 4)..<(i + 8)])
            guard typeBytes.allSatisfy({ (0x20...0x7E).contains($0) }) else { throw Problem("HEIC: \(path)invalid box type at byte \(i + 4)") }
            let type = String(decoding: typeBytes, as: UTF8.self)
            var header = 8
            if size == 1 {
                guard i + 16 <= range.upperBound else { throw Problem("HEIC: \(path)box \(type) at byte \(i) is cut off") }
                let hi = be32(b, i + 8), lo = be32(b, i + 12)
                guard hi < 0x8000 else { throw Problem("HEIC: \(path)box \(type) at byte \(i) has an impossible size") }
                size = hi << 32 | lo
                header = 16
            } else if size == 0 {
                size = range.upperBound - i
            }
            guard size >= header else { throw Problem("HEIC: \(path)box \(type) at byte \(i) has an invalid size \(size)") }
            guard i + size <= range.upperBound else {
                throw Problem("HEIC: \(path)box \(type) at byte \(i) declares \(size) bytes but only \(range.upperBound - i) remain; the file is probably truncated")
            }
            out.append(Box(type: type, start: i, body: i + header, end: i + size))
            i += size
        }
        return out
    }

    static func heif(_ b: [UInt8]) throws(Problem) -> (width: Int, height: Int) {
        let top = try boxes(b, 0..<b.count, path: "")
        guard let ftyp = top.first, ftyp.type == "ftyp" else { throw Problem("HEIC: the first box is not ftyp") }
        let fl = ftyp.end - ftyp.body
        guard fl >= 8, fl % 4 == 0 else { throw Problem("HEIC: ftyp has an invalid length \(ftyp.end - ftyp.start)") }
        var brands = [String(decoding: b[ftyp.body..<(ftyp.body + 4)], as: UTF8.self)]
        var k = ftyp.body + 8
        while k + 4 <= ftyp.end { brands.append(String(decoding: b[k..<(k + 4)], as: UTF8.self)); k += 4 }
        guard brands.contains(where: PhotoFormat.heifBrands.contains) else {
            throw Problem("HEIC: no HEIF brand (heic, heix, mif1 …) in ftyp (brands: \(brands.joined(separator: ", ")))")
        }
        guard top.dropFirst().allSatisfy({ $0.type != "ftyp" }) else { throw Problem("HEIC: a second ftyp box") }
        let metas = top.filter { $0.type == "meta" }
        guard metas.count == 1, let meta = metas.first else { throw Problem("HEIC: \(metas.isEmpty ? "no" : "more than one") file-level meta box") }
        // meta is a FullBox: 4 bytes version/flags before its children.
        guard meta.body + 4 <= meta.end else { throw Problem("HEIC: the meta box is empty") }
        let inMeta = try boxes(b, (meta.body + 4)..<meta.end, path: "meta/")
        guard inMeta.contains(where: { $0.type == "hdlr" }) else { throw Problem("HEIC: meta has no hdlr box") }
        guard let iprp = inMeta.first(where: { $0.type == "iprp" }) else { throw Problem("HEIC: meta has no item properties (iprp)") }
        let inIprp = try boxes(b, iprp.body..<iprp.end, path: "meta/iprp/")
        guard let ipco = inIprp.first(where: { $0.type == "ipco" }) else { throw Problem("HEIC: iprp has no property container (ipco)") }
        let props = try boxes(b, ipco.body..<ipco.end, path: "meta/iprp/ipco/")
        var best: (Int, Int)?
        for p in props where p.type == "ispe" {
            guard p.end - p.body >= 12 else { throw Problem("HEIC: ispe at byte \(p.start) is too short") }
            let w = be32(b, p.body + 4), h = be32(b, p.body + 8)
            if Double(w) * Double(h) > (best.map { Double($0.0) * Double($0.1) } ?? -1) { best = (w, h) }
        }
        guard let best else { throw Problem("HEIC: no image spatial extent (ispe) property, so no dimensions") }
        return try plausible("HEIC", best.0, best.1)
    }
}

extension String {
    fileprivate func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
