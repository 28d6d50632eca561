import FengqiaoCore
import Foundation

/// Draws a community's grids as an SVG map on the server (no map tiles, no scripts: the
/// deployments sit on isolated networks). Longitude is scaled by cos(latitude) so shapes keep
/// their proportions.
enum GridMap {
    static let palette = ["#e8f1fb", "#fdf1e3", "#e9f6ec", "#f6e9f4", "#fbf7dc", "#e6f4f5", "#f3ece3", "#eceaf8"]

    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    /// - Parameters:
    ///   - grids: grids to draw; those without a polygon are skipped.
    ///   - width: drawing width in px; the height follows the aspect ratio.
    ///   - highlight: a grid to outline.
    /// - Returns: an `<svg>` element, or `nil` when no grid has a polygon.
    ///   - overlay: markup drawn over the grids, given the projection from WGS-84 to the drawing's
    ///     px (the hazard map's markers, `HazardMap`).
    ///   - extraHeight: px added below the grids (room for a legend drawn by the overlay).
    static func svg(grids: [Grid], width: Double = 800, highlight: UUID? = nil, linkPrefix: String = "/grids/",
                    extraHeight: Double = 0, overlay: ((_ project: (GeoPoint) -> (Double, Double), _ height: Double) -> String)? = nil) -> String? {
        let drawn = grids.filter { ($0.polygon?.ring.count ?? 0) >= 3 }
        guard !drawn.isEmpty else { return nil }
        let pts = drawn.flatMap { $0.polygon!.ring }
        let minLon = pts.map(\.lon).min()!, maxLon = pts.map(\.lon).max()!
        let minLat = pts.map(\.lat).min()!, maxLat = pts.map(\.lat).max()!
        let k = cos((minLat + maxLat) / 2 * .pi / 180)
        let spanX = max((maxLon - minLon) * k, 1e-9), spanY = max(maxLat - minLat, 1e-9)
        let pad = 10.0
        let scale = (width - 2 * pad) / spanX
        let height = (spanY * scale + 2 * pad).rounded()
        func xy(_ p: GeoPoint) -> (Double, Double) {
            (pad + (p.lon - minLon) * k * scale, pad + (maxLat - p.lat) * scale)
        }
        func f(_ d: Double) -> String { String(format: "%.1f", d) }
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"gridmap\" viewBox=\"0 0 \(Int(width)) \(Int(height + extraHeight))\" role=\"img\" aria-label=\"grid map\">"
        for (i, g) in drawn.enumerated() {
            let path = g.polygon!.ring.map { let (x, y) = xy($0); return "\(f(x)),\(f(y))" }.joined(separator: " ")
            let fill = g.kind == .dedicated ? "#fde2e2" : palette[i % palette.count]
            let stroke = g.id == highlight ? "#c0392b" : "#5b6b7a"
            let sw = g.id == highlight ? "3" : "1.2"
            let (cx, cy) = xy(g.polygon!.centroid)
            // Size the label to its cell so neighbouring names never run into each other.
            let xs = g.polygon!.ring.map { xy($0).0 }
            let cellWidth = (xs.max() ?? 0) - (xs.min() ?? 0)
            let fontSize = max(6, min(14, cellWidth * 0.8 / Double(max(g.name.count, 1))))
            s += "<a href=\"\(linkPrefix)\(g.id.uuidString.lowercased())\"><g class=\"grid\" data-code=\"\(escape(g.code))\">"
            s += "<title>\(escape(g.name)) \(escape(g.code))</title>"
            s += "<polygon points=\"\(path)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(sw)\"/>"
            s += "<text x=\"\(f(cx))\" y=\"\(f(cy))\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"\(f(fontSize))\" fill=\"#1f2d3a\">\(escape(g.name))</text>"
            s += "</g></a>"
        }
        if let overlay { s += overlay(xy, height) }
        s += "</svg>"
        return s
    }
}
