import FengqiaoCore
import Foundation

/// Small charts drawn by the server as inline SVG (no chart libraries, no scripts: deployments
/// sit on isolated networks, pages must work with scripts off), for any statistics page: columns
/// for periods and horizontal stacked bars for shares. Grouped horizontal bars are
/// `HazardCharts.bars` (generic in its labels and series; the dispute statistics use it too).
///
/// Accessibility: each chart is `role="img"` with a `<title>` and a `<desc>` that lists every
/// value in words, and each bar or segment carries its own `<title>` (a tooltip); pages show the
/// same numbers in a table beside the chart. Labels are escaped; colours meet WCAG AA against
/// the white background for the text drawn on them.
enum SVGChart {
    /// One bar: a label, its value, and the text printed beside it (defaults to the value).
    struct Bar: Sendable {
        var label: String
        var value: Double
        var text: String?
        init(_ label: String, _ value: Double, text: String? = nil) {
            self.label = label
            self.value = value
            self.text = text
        }
    }

    /// One part of a stacked bar.
    struct Segment: Sendable {
        var label: String
        var value: Double
        var color: String
    }

    /// One stacked bar: a label and its parts, left to right.
    struct StackedRow: Sendable {
        var label: String
        var segments: [Segment]
    }

    /// Colours for series, in order (blue, teal, amber, red, purple, grey).
    static let palette = ["#2f6db5", "#1f8a70", "#c07a12", "#c0392b", "#6b4fa0", "#5b6b7a"]

    static func escape(_ s: String) -> String { GridMap.escape(s) }
    static func f(_ d: Double) -> String { d.oneDecimal }
    static func number(_ v: Double) -> String { v == v.rounded() ? String(Int(v)) : v.oneDecimal }
    /// A share 0…1 as a percentage with at most one decimal.
    static func percent(_ share: Double) -> String {
        let p = (share * 1000).rounded() / 10
        return p == p.rounded() ? "\(Int(p))%" : p.oneDecimal + "%"
    }

    /// A stable element id for the chart's title and description, from its title.
    static func ident(_ title: String) -> String {
        var h: UInt64 = 1469598103934665603
        for b in title.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return "c" + String(h, radix: 36)
    }

    static func open(width: Double, height: Double, title: String, desc: String, cssClass: String) -> String {
        let id = ident(title + desc)
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart \(cssClass)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" role=\"img\" aria-labelledby=\"\(id)-t \(id)-d\">"
            + "<title id=\"\(id)-t\">\(escape(title))</title><desc id=\"\(id)-d\">\(escape(desc))</desc>"
    }

    /// Vertical columns, one per item (e.g. months), labels below.
    /// - Parameters:
    ///   - title: the chart's accessible name.
    ///   - bars: columns left to right.
    ///   - width, height: drawing size in px.
    static func columns(title: String, _ bars: [Bar], width: Double = 640, height: Double = 220, color: String = palette[0]) -> String {
        let bottom = 36.0, top = 18.0, left = 8.0
        let maxV = max(bars.map(\.value).max() ?? 0, 1e-9)
        let slot = (width - 2 * left) / Double(max(bars.count, 1))
        let barW = max(2, slot * 0.7)
        let plotH = height - bottom - top
        let desc = bars.isEmpty ? "—" : bars.map { "\($0.label): \($0.text ?? number($0.value))" }.joined(separator: "; ")
        var s = open(width: width, height: height, title: title, desc: desc, cssClass: "columns")
        s += "<line x1=\"\(f(left))\" y1=\"\(f(height - bottom))\" x2=\"\(f(width - left))\" y2=\"\(f(height - bottom))\" stroke=\"#5b6b7a\" stroke-width=\"1\"/>"
        let every = max(1, Int((Double(bars.count) * 56 / width).rounded(.up)))
        for (i, b) in bars.enumerated() {
            let x = left + Double(i) * slot + (slot - barW) / 2
            let h = max(0, b.value) / maxV * plotH
            let text = b.text ?? number(b.value)
            s += "<g><title>\(escape(b.label)): \(escape(text))</title>"
            s += "<rect x=\"\(f(x))\" y=\"\(f(height - bottom - h))\" width=\"\(f(barW))\" height=\"\(f(h))\" fill=\"\(color)\" rx=\"1\"/>"
            if bars.count <= 24 {
                s += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(height - bottom - h - 4))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1f2d3a\">\(escape(text))</text>"
            }
            if i % every == 0 {
                s += "<text x=\"\(f(x + barW / 2))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#1f2d3a\">\(escape(b.label))</text>"
            }
            s += "</g>"
        }
        return s + "</svg>"
    }

    /// Horizontal stacked bars with a legend. With `normalised`, every row spans the full width
    /// (shares); otherwise rows are drawn to the largest row total.
    static func stacked(title: String, _ rows: [StackedRow], width: Double = 640, normalised: Bool = false) -> String {
        let rowH = 28.0, labelW = min(200.0, width * 0.3), right = 16.0, legendH = 26.0
        let height = legendH + max(rowH, Double(rows.count) * rowH) + 6
        let plot = width - labelW - right
        let maxTotal = max(rows.map { $0.segments.reduce(0) { $0 + max(0, $1.value) } }.max() ?? 0, 1e-9)
        let desc = rows.isEmpty ? "—" : rows.map { r in
            r.label + ": " + r.segments.map { "\($0.label) \(number($0.value))" }.joined(separator: ", ")
        }.joined(separator: "; ")
        var s = open(width: width, height: height, title: title, desc: desc, cssClass: "stacked")
        // Legend: the segment labels of the first row, in order.
        var lx = labelW
        for seg in rows.first?.segments ?? [] {
            s += "<rect x=\"\(f(lx))\" y=\"6\" width=\"12\" height=\"12\" fill=\"\(seg.color)\"/>"
            s += "<text x=\"\(f(lx + 16))\" y=\"12\" dominant-baseline=\"middle\" font-size=\"12\" fill=\"#1f2d3a\">\(escape(seg.label))</text>"
            lx += 28 + Double(seg.label.count) * 12
        }
        for (i, r) in rows.enumerated() {
            let y = legendH + Double(i) * rowH
            let total = r.segments.reduce(0) { $0 + max(0, $1.value) }
            let scale = normalised ? (total > 0 ? plot / total : 0) : plot / maxTotal
            s += "<text x=\"\(f(labelW - 6))\" y=\"\(f(y + rowH / 2))\" text-anchor=\"end\" dominant-baseline=\"middle\" font-size=\"12\" fill=\"#1f2d3a\">\(escape(r.label))</text>"
            var x = labelW
            for seg in r.segments where seg.value > 0 {
                let w = seg.value * scale
                let share = total > 0 ? " (\(percent(seg.value / total)))" : ""
                s += "<g><title>\(escape(r.label)) · \(escape(seg.label)): \(number(seg.value))\(share)</title>"
                s += "<rect x=\"\(f(x))\" y=\"\(f(y + 4))\" width=\"\(f(w))\" height=\"\(f(rowH - 8))\" fill=\"\(seg.color)\"/>"
                if w > 34 {
                    s += "<text x=\"\(f(x + w / 2))\" y=\"\(f(y + rowH / 2))\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"11\" fill=\"#ffffff\">\(number(seg.value))</text>"
                }
                s += "</g>"
                x += w
            }
            if total == 0 {
                s += "<text x=\"\(f(labelW))\" y=\"\(f(y + rowH / 2))\" dominant-baseline=\"middle\" font-size=\"12\" fill=\"#5b6b7a\">0</text>"
            }
        }
        return s + "</svg>"
    }
}
