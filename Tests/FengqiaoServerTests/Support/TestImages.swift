import Foundation

/// Real, tiny, valid images built byte by byte (decodable by libjpeg / libpng: a uniform grey
/// baseline JPEG, a one-pixel red PNG), a structurally valid HEIF container, and helpers to break
/// them. Used to prove the structural photo check (`ImageStructure`).
enum TestImages {
    static func be16(_ v: Int) -> [UInt8] { [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func segment(_ marker: UInt8, _ body: [UInt8]) -> [UInt8] { [0xFF, marker] + be16(body.count + 2) + body }

    /// A uniform grey baseline JPEG of `width` × `height` (ITU-T T.81: DQT, SOF0, one-code DC and AC
    /// Huffman tables, one scan where every 8×8 block is DC difference 0 + EOB, EOI); `padding`
    /// adds comment (COM) segments to reach a size.
    static func jpeg(width: Int = 8, height: Int = 8, padding: Int = 0) -> Data {
        var out: [UInt8] = [0xFF, 0xD8]
        out += segment(0xE0, Array("JFIF".utf8) + [0, 1, 1, 0, 0, 1, 0, 1, 0, 0])
        out += segment(0xDB, [0] + [UInt8](repeating: 1, count: 64))
        out += segment(0xC0, [8] + be16(height) + be16(width) + [1, 1, 0x11, 0])
        out += segment(0xC4, [0x00, 1] + [UInt8](repeating: 0, count: 15) + [0])
        out += segment(0xC4, [0x10, 1] + [UInt8](repeating: 0, count: 15) + [0])
        var pad = padding
        while pad > 0 {
            let n = min(pad, 65533)
            out += segment(0xFE, [UInt8](repeating: 0x78, count: n))
            pad -= n + 4
        }
        out += segment(0xDA, [1, 1, 0x00, 0, 63, 0])
        let blocks = ((width + 7) / 8) * ((height + 7) / 8)
        var bits = String(repeating: "00", count: blocks)
        bits += String(repeating: "1", count: (8 - bits.count % 8) % 8)
        var i = bits.startIndex
        while i < bits.endIndex {
            let j = bits.index(i, offsetBy: 8)
            out.append(UInt8(bits[i..<j], radix: 2)!)
            i = j
        }
        out += [0xFF, 0xD9]
        return Data(out)
    }

    static func crc32(_ b: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for x in b {
            c ^= UInt32(x)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return c ^ 0xFFFF_FFFF
    }

    static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let td = Array(type.utf8) + data
        return be32(data.count) + td + be32(Int(crc32(td)))
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A 1 × 1 red RGB PNG: IHDR, one IDAT (a zlib stream with one stored deflate block and its
    /// Adler-32), IEND.
    static func png(width: Int = 1, height: Int = 1, ihdrCRC: Bool = true) -> Data {
        let raw: [UInt8] = [0, 0xFF, 0, 0]
        var a: UInt32 = 1, b: UInt32 = 0
        for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let z: [UInt8] = [0x78, 0x01, 0x01] + [UInt8(raw.count & 0xFF), UInt8(raw.count >> 8), UInt8(~raw.count & 0xFF), UInt8(~raw.count >> 8 & 0xFF)] + raw + be32(Int(b << 16 | a))
        var ihdr = chunk("IHDR", be32(width) + be32(height) + [8, 2, 0, 0, 0])
        if !ihdrCRC { ihdr[ihdr.count - 1] ^= 0x01 }
        return Data(pngSignature + ihdr + chunk("IDAT", z) + chunk("IEND", []))
    }

    static func box(_ type: String, _ body: [UInt8]) -> [UInt8] { be32(body.count + 8) + Array(type.utf8) + body }
    static func fullBox(_ type: String, _ body: [UInt8]) -> [UInt8] { box(type, [0, 0, 0, 0] + body) }

    /// A HEIF container (ISO/IEC 23008-12): ftyp heic (compatible mif1, heic), meta with hdlr
    /// `pict`, pitm, iprp/ipco/ispe of `width` × `height`, and an mdat (the coded data is not a
    /// real HEVC stream: the structural check does not decode).
    static func heic(width: Int = 64, height: Int = 48, brand: String = "heic", withISPE: Bool = true) -> Data {
        let ftyp = box("ftyp", Array(brand.utf8) + [0, 0, 0, 0] + Array("mif1".utf8) + Array(brand.utf8))
        let hdlr = fullBox("hdlr", [0, 0, 0, 0] + Array("pict".utf8) + [UInt8](repeating: 0, count: 12) + [0])
        let pitm = fullBox("pitm", be16(1))
        let ispe = withISPE ? fullBox("ispe", be32(width) + be32(height)) : []
        let iprp = box("iprp", box("ipco", ispe))
        let meta = fullBox("meta", hdlr + pitm + iprp)
        let mdat = box("mdat", [UInt8](repeating: 0x5A, count: 64))
        return Data(ftyp + meta + mdat)
    }
}
